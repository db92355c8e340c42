// Served after localstripe's own Stripe.js stand-in (localstripe-v3.js) by scripts/local_stripe.py.
// It replaces the stand-in's card element, which kept the typed text as the card number ("4242 4242 4242 4"
// from a box that stopped at 16 characters) and threw on an empty form, with one that behaves as Stripe's:
// one bordered row (Card number, MM / YY, CVC, Postal code), spaces and dashes accepted in the number, the
// same validation messages and `change` events, and `createPaymentMethod` returning `{error}` instead of
// throwing. Development only: production loads https://js.stripe.com/v3/.
(function () {
  const localStripe = Stripe;
  const RED = '#df1b41';

  const digitsOf = text => text.replace(/[\s-]/g, '');
  const luhnValid = digits => {
    let sum = 0;
    [...digits].reverse().forEach((digit, index) => {
      let value = Number(digit);
      if (index % 2) value = value * 2 > 9 ? value * 2 - 9 : value * 2;
      sum += value;
    });
    return sum % 10 === 0;
  };
  const brandOf = digits => /^3[47]/.test(digits) ? 'amex' : /^4/.test(digits) ? 'visa'
    : /^(5[1-5]|2[2-7])/.test(digits) ? 'mastercard' : 'unknown';
  const problem = (code, message) => ({type: 'validation_error', code, message});

  // Each check returns a Stripe-shaped error or null; `final` (on blur or submit) also reports what is unfinished.
  const checks = {
    number(text, final) {
      const digits = digitsOf(text);
      if (/\D/.test(digits)) return problem('invalid_number', 'Your card number is invalid.');
      const length = brandOf(digits) === 'amex' ? 15 : 16;
      if (digits.length < length) {
        return final ? problem('incomplete_number', 'Your card number is incomplete.') : null;
      }
      if (digits.length > length || !luhnValid(digits)) {
        return problem('invalid_number', 'Your card number is invalid.');
      }
      return null;
    },
    expiry(text, final) {
      const digits = text.replace(/\D/g, '');
      if (digits.length < 4) {
        return final ? problem('incomplete_expiry', "Your card's expiration date is incomplete.") : null;
      }
      const month = Number(digits.slice(0, 2)), year = 2000 + Number(digits.slice(2, 4));
      const now = new Date();
      if (month < 1 || month > 12) return problem('invalid_expiry_month', "Your card's expiration date is invalid.");
      if (year < now.getFullYear()) {
        return problem('invalid_expiry_year_past', "Your card's expiration year is in the past.");
      }
      if (year === now.getFullYear() && month < now.getMonth() + 1) {
        return problem('invalid_expiry_month_past', "Your card's expiration date is in the past.");
      }
      if (year > now.getFullYear() + 50) return problem('invalid_expiry_year', "Your card's expiration year is invalid.");
      return null;
    },
    cvc(text, final, number) {
      const length = brandOf(digitsOf(number)) === 'amex' ? 4 : 3;
      if (/\D/.test(text) || text.length > length) return problem('invalid_cvc', "Your card's security code is invalid.");
      return final && text.length < length ? problem('incomplete_cvc', "Your card's security code is incomplete.") : null;
    },
    postal(text, final) {
      return final && !text.trim() ? problem('incomplete_zip', 'Your postal code is incomplete.') : null;
    },
  };

  // As Stripe shows them while typing: the number in groups of four, the expiry as "MM / YY".
  const formats = {
    number: text => /[^\d\s-]/.test(text) ? text : (digitsOf(text).slice(0, 19).match(/.{1,4}/g) || []).join(' '),
    expiry(text) {
      let digits = text.replace(/\D/g, '');
      if (/^[2-9]/.test(digits)) digits = '0' + digits;  // "4" is April: "04 / "
      if (digits.length > 4 && digits.slice(2, 4) === '20') digits = digits.slice(0, 2) + digits.slice(4);  // 2031
      digits = digits.slice(0, 4);
      return digits.length > 2 ? `${digits.slice(0, 2)} / ${digits.slice(2)}` : digits;
    },
    cvc: text => text.replace(/\D/g, '').slice(0, 4),
    postal: text => text.slice(0, 10),
  };

  const FIELDS = [
    {name: 'number', label: 'Card number', autocomplete: 'cc-number', inputmode: 'numeric', grow: 1},
    {name: 'expiry', label: 'MM / YY', autocomplete: 'cc-exp', inputmode: 'numeric', width: '5.5em'},
    {name: 'cvc', label: 'CVC', autocomplete: 'cc-csc', inputmode: 'numeric', width: '3.5em'},
    {name: 'postal', label: 'Postal code', autocomplete: 'postal-code', inputmode: 'text', width: '7em'},
  ];

  class CardElement {
    constructor() {
      this.listeners = {};
      this.inputs = {};
      this.root = null;
    }

    mount(target) {
      const parent = typeof target === 'string' ? document.querySelector(target) : target;
      this.root = document.createElement('div');
      this.root.className = 'StripeElement';
      Object.assign(this.root.style, {
        display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '.25rem', padding: '.55rem .75rem',
        border: '1px solid #9aa9a0', borderRadius: '.35rem', background: '#fff', boxShadow: '0 1px 3px #e6ebf1',
      });
      FIELDS.forEach(field => {
        const input = document.createElement('input');
        Object.assign(input, {type: 'text', placeholder: field.label, autocomplete: field.autocomplete});
        input.setAttribute('aria-label', field.label);
        input.setAttribute('inputmode', field.inputmode);
        input.dataset.field = field.name;
        Object.assign(input.style, {
          border: '0', outline: 'none', padding: '.1rem 0', margin: '0', font: 'inherit', background: 'transparent',
          flex: field.grow ? '1 1 11em' : `0 0 ${field.width}`, width: field.grow ? 'auto' : field.width, minWidth: '0',
        });
        input.addEventListener('input', () => this.typed(field.name));
        input.addEventListener('blur', () => this.report(field.name));
        this.inputs[field.name] = input;
        this.root.appendChild(input);
      });
      this.root.addEventListener('focusin', () => { this.root.style.borderColor = '#2f6b4f'; });
      this.root.addEventListener('focusout', () => { this.root.style.borderColor = '#9aa9a0'; });
      parent.appendChild(this.root);
    }

    typed(name) {
      const input = this.inputs[name];
      const formatted = formats[name](input.value);
      if (formatted !== input.value) input.value = formatted;
      if (!this.error(name, false)) this.advance(name);
      this.report(null);
    }

    // Like Stripe's element, a finished box hands the cursor to the next one.
    advance(name) {
      const done = {
        number: () => checks.number(this.inputs.number.value, true) === null,
        expiry: () => this.inputs.expiry.value.length === 7,
        cvc: () => this.inputs.cvc.value.length === (brandOf(digitsOf(this.inputs.number.value)) === 'amex' ? 4 : 3),
      }[name];
      const next = {number: 'expiry', expiry: 'cvc', cvc: 'postal'}[name];
      if (done && done()) this.inputs[next].focus();
    }

    error(name, final) {
      return checks[name](this.inputs[name].value, final, this.inputs.number.value);
    }

    // The first problem and its box, in the order the boxes are read: in the boxes up to `finishedUpTo`
    // (all of them with `true`) also what is unfinished, elsewhere only what is already wrong.
    firstError(finishedUpTo) {
      const last = finishedUpTo === true ? FIELDS.length - 1 : FIELDS.findIndex(f => f.name === finishedUpTo);
      for (const [index, {name}] of FIELDS.entries()) {
        const error = this.error(name, index <= last);
        if (error) return {name, error};
      }
      return {name: null, error: null};
    }

    mark(name, error) {
      Object.entries(this.inputs).forEach(([field, input]) => {
        const wrong = field === name;
        input.style.color = wrong && !error.code.startsWith('incomplete') ? RED : 'inherit';
        input.setAttribute('aria-invalid', wrong ? 'true' : 'false');
      });
    }

    // Like Stripe, an unfinished box is named when it is left (`left`), not while it is being typed.
    report(left) {
      const empty = Object.values(this.inputs).every(input => !input.value);
      const {name, error} = empty ? {name: null, error: null} : this.firstError(left);
      this.mark(name, error);
      this.emit({
        elementType: 'card', empty, error: error || undefined, complete: !empty && !this.firstError(true).error,
        brand: brandOf(digitsOf(this.inputs.number.value)), value: {postalCode: this.inputs.postal.value},
      });
    }

    emit(event) {
      (this.listeners.change || []).forEach(handler => handler(event));
    }

    // On submit: the first problem, if any, is reported as a change event and its box gets the cursor.
    validated() {
      const {name, error} = this.firstError(true);
      if (error) {
        this.mark(name, error);
        this.emit({elementType: 'card', empty: false, complete: false, error});
        this.inputs[name].focus();
      }
      return error;
    }

    card() {
      const expiry = this.inputs.expiry.value.replace(/\D/g, '');
      return {
        number: digitsOf(this.inputs.number.value),
        exp_month: expiry.slice(0, 2),
        exp_year: '20' + expiry.slice(2, 4),
        cvc: this.inputs.cvc.value,
      };
    }

    on(event, handler) {
      (this.listeners[event] = this.listeners[event] || []).push(handler);
    }

    focus() { this.inputs.number.focus(); }
    clear() { Object.values(this.inputs).forEach(input => { input.value = ''; }); this.report(null); }
    unmount() { if (this.root) this.root.remove(); this.root = null; }
    destroy() { this.unmount(); this.listeners = {}; }
  }

  Stripe = (apiKey) => {
    const stripe = localStripe(apiKey);
    let element = null;
    stripe.elements = () => ({
      create(type) {
        if (type !== 'card') throw new Error(`The local Stripe server offers the card element only, not ${type}.`);
        element = element || new CardElement();
        return element;
      },
      getElement: () => element,
    });
    stripe.createPaymentMethod = async ({type, card, billing_details: billing}) => {
      if (!(card instanceof CardElement)) {
        return {error: problem('invalid_request', 'Pass the card element as `card`.')};
      }
      const error = card.validated();
      if (error) return {error};
      const body = new URLSearchParams({type: type || 'card', key: apiKey});
      Object.entries(card.card()).forEach(([field, value]) => body.append(`card[${field}]`, value));
      const postalCode = card.inputs.postal.value.trim();
      if (postalCode) body.append('billing_details[address][postal_code]', postalCode);
      if (billing && billing.name) body.append('billing_details[name]', billing.name);
      try {
        const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_methods`, {
          method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body});
        const result = await response.json().catch(() => ({}));
        if (response.ok && !result.error) return {paymentMethod: result};
        return {error: {type: 'card_error', ...(result.error || {}), message: (result.error || {}).message
          || 'Your card was refused.'}};
      } catch (failure) {
        return {error: {type: 'api_connection_error', message: 'The payment server could not be reached. Try again.'}};
      }
    };
    return stripe;
  };
})();
