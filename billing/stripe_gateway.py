"""The one module that talks to Stripe.

Every creating call carries an idempotency key made from our own ids (`billing:family:42:customer`),
so a retried step cannot create a second object within Stripe's 24 h replay window; callers store the
returned id at once and check it before calling again, which covers the time after that window.
Keys and the API host come from settings (the local Stripe server in development and tests).
"""

import json
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import stripe
from django.conf import settings

from billing.errors import CardRefused, GatewayUnavailable, NotAStripeEvent, SignatureRefused, StripeRefused

WEBHOOK_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class ChargeOutcome:
    succeeded: bool
    reason: str = ""
    decline_code: str = ""
    payment_intent_id: str | None = None
    invoice_id: str | None = None
    amount_cents: int = 0


@dataclass(frozen=True)
class SubscriptionState:
    """What Stripe answered about a subscription: its status as of `state_at`, when it charges next, and how
    the invoice made by this call went (None: nothing charged by it)."""

    id: str
    status: str
    state_at: datetime
    next_charge_at: datetime | None
    outcome: ChargeOutcome | None


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def _client() -> stripe.StripeClient:
    key = settings.STRIPE_LIVE_SECRET_KEY if settings.STRIPE_LIVE_MODE else settings.STRIPE_TEST_SECRET_KEY
    return _client_for(key, settings.STRIPE_API_HOST)


@cache
def _client_for(key: str, host: str) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": host}, max_network_retries=2)


def _call(method, *args, key: str | None = None, **params):
    options = {"idempotency_key": key} if key else {}
    try:
        return method(*args, params=params, options=options) if params or options else method(*args)
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise GatewayUnavailable(str(error)) from error
    except stripe.APIError as error:
        raise GatewayUnavailable(str(error)) from error


def customer_create(*, family_id: int, email: str, name: str) -> str:
    customer = _call(
        _client().v1.customers.create,
        key=f"billing:family:{family_id}:customer",
        email=email,
        name=name,
        metadata={"family_id": str(family_id)},
    )
    return customer.id


def payment_method_attach(*, family_id: int, customer_id: str, payment_method_id: str) -> Card:
    """Attach a card and make it the customer's default for invoices."""
    client = _client()
    try:
        method = _call(
            client.v1.payment_methods.attach,
            payment_method_id,
            key=f"billing:family:{family_id}:attach:{payment_method_id}",
            customer=customer_id,
        )
    except (stripe.CardError, stripe.InvalidRequestError) as error:
        raise CardRefused(getattr(error, "user_message", None) or "The card was refused.") from error
    _call(client.v1.customers.update, customer_id, invoice_settings={"default_payment_method": payment_method_id})
    return Card(method.card.brand, method.card.last4, method.card.exp_month, method.card.exp_year)


def card_verify(*, payment_method_id: str) -> None:
    """Ask Stripe whether it would keep this card for later charges, before anything is booked on it.

    A SetupIntent confirmed with the card: an unknown payment method or a declined setup is `CardRefused`.
    No idempotency key: each check is a new question, and an unused SetupIntent costs nothing.
    """
    client = _client()
    try:
        setup = _call(client.v1.setup_intents.create, payment_method_types=["card"], usage="off_session")
        _call(client.v1.setup_intents.confirm, setup.id, payment_method=payment_method_id)
    except stripe.CardError as error:
        message = error.user_message or "The card was declined: please use another card."
    except stripe.InvalidRequestError:
        message = "We could not find this card: please type it again."
    else:
        return
    raise CardRefused(message, fields={"payment_method_id": [message]})


def product_and_price_create(
    *, plan_id: int, name: str, amount_cents: int, currency: str, interval: str, existing_product_id: str = ""
) -> tuple[str, str]:
    client = _client()
    product_id = (
        existing_product_id
        or _call(
            client.v1.products.create,
            key=f"billing:plan:{plan_id}:product",
            name=name,
            metadata={"tuition_plan_id": str(plan_id)},
        ).id
    )
    price = _call(
        client.v1.prices.create,
        key=f"billing:plan:{plan_id}:price:{amount_cents}:{currency}:{interval}",
        product=product_id,
        unit_amount=amount_cents,
        currency=currency,
        recurring={"interval": interval},
        metadata={"tuition_plan_id": str(plan_id)},
    )
    return product_id, price.id


def _invoice_outcome(invoice) -> ChargeOutcome:
    intent = invoice.payment_intent if not isinstance(invoice.payment_intent, str) else None
    error = getattr(intent, "last_payment_error", None) if intent is not None else None
    return ChargeOutcome(
        succeeded=invoice.status == "paid",
        reason=(error.message if error else "") or ("" if invoice.status == "paid" else f"Invoice {invoice.status}"),
        decline_code=(getattr(error, "decline_code", None) or getattr(error, "code", None) or "") if error else "",
        payment_intent_id=intent.id if intent is not None else None,
        invoice_id=invoice.id,
        amount_cents=invoice.amount_due,
    )


def subscription_next_charge_at(subscription: dict) -> datetime | None:
    """When Stripe charges a subscription next: the end of its trial while it is trialing, else the end of its
    current period (on the subscription in older API versions, on its items since 2025-03-31)."""
    if subscription.get("status") == "trialing" and subscription.get("trial_end"):
        stamp = subscription["trial_end"]
    else:
        items = (subscription.get("items") or {}).get("data") or [{}]
        stamp = subscription.get("current_period_end") or items[0].get("current_period_end")
    return datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None


def _subscription_state(subscription, state_at: datetime) -> SubscriptionState:
    invoice = subscription.latest_invoice
    charged = invoice is not None and not isinstance(invoice, str) and invoice.amount_due > 0
    return SubscriptionState(
        id=subscription.id,
        status=subscription.status,
        state_at=state_at,
        next_charge_at=subscription_next_charge_at(subscription.to_dict()),
        outcome=_invoice_outcome(invoice) if charged else None,
    )


def subscription_create(
    *,
    subscription_id: int,
    customer_id: str,
    price_id: str,
    payment_method_id: str,
    trial_end: datetime | None = None,
    billing_cycle_anchor: datetime | None = None,
    coupons: list[str] | tuple[str, ...] = (),
) -> SubscriptionState:
    """Start the subscription: nothing is charged before `trial_end`; with an anchor, Stripe charges nothing for the
    days before it (proration "none": the first partial month is our own invoice item, by its lessons). `coupons`
    go on its item, in order. Its state is as of its creation (the `customer.subscription.created` event says the
    same)."""
    timing = {}
    if trial_end is not None:
        timing["trial_end"] = int(trial_end.timestamp())
    if billing_cycle_anchor is not None:
        timing.update(billing_cycle_anchor=int(billing_cycle_anchor.timestamp()), proration_behavior="none")
    item = {"price": price_id} | ({"discounts": [{"coupon": coupon} for coupon in coupons]} if coupons else {})
    subscription = _call(
        _client().v1.subscriptions.create,
        key=f"billing:subscription:{subscription_id}:create",
        customer=customer_id,
        items=[item],
        default_payment_method=payment_method_id,
        metadata={"subscription_id": str(subscription_id)},
        expand=["latest_invoice.payment_intent"],
        **timing,
    )
    return _subscription_state(subscription, datetime.fromtimestamp(subscription.created, tz=UTC))


def subscription_trial_end_now(*, stripe_subscription_id: str) -> SubscriptionState:
    """End the trial now: Stripe makes the first invoice and charges the card on file at once."""
    asked_at = datetime.now(tz=UTC)  # to the microsecond: newer than a creation stamped earlier in this second
    subscription = _call(
        _client().v1.subscriptions.update,
        stripe_subscription_id,
        key=f"billing:subscription:{stripe_subscription_id}:end-trial",
        trial_end="now",
        expand=["latest_invoice.payment_intent"],
    )
    return _subscription_state(subscription, asked_at)


def invoice_item_create(
    *,
    key: str,
    customer_id: str,
    amount_cents: int,
    currency: str,
    description: str,
    invoice_id: str | None = None,
    subscription_id: str | None = None,
    metadata: dict[str, str] | None = None,
    coupons: list[str] | tuple[str, ...] = (),
) -> str:
    """One line of money on a customer's next invoice (or on `invoice_id`, a draft): a partial month's lessons, an
    adjustment, a fee. Negative amounts take money off. `key` names what it is for (`billing:enrollment:42:month:
    2026-12:first`), so asking twice adds it once."""
    target = {"invoice": invoice_id} if invoice_id else {"subscription": subscription_id} if subscription_id else {}
    item = _call(
        _client().v1.invoice_items.create,
        key=key,
        customer=customer_id,
        amount=amount_cents,
        currency=currency,
        description=description,
        metadata=metadata or {},
        **target,
        **({"discounts": [{"coupon": coupon} for coupon in coupons]} if coupons else {}),
    )
    return item.id


def invoice_pay(*, invoice_id: str, attempt: int) -> ChargeOutcome:
    """Retry an open invoice with the customer's current default card."""
    client = _client()
    try:
        with suppress(stripe.CardError):  # a decline is read from the invoice below, with its reason
            _call(client.v1.invoices.pay, invoice_id, key=f"billing:invoice:{invoice_id}:pay:{attempt}")
        return _invoice_outcome(_call(client.v1.invoices.retrieve, invoice_id, expand=["payment_intent"]))
    except stripe.InvalidRequestError as error:
        raise StripeRefused(f"Stripe refused to retry the invoice: {error.user_message or error}") from error


def payment_intent_charge(
    *,
    payment_id: int,
    customer_id: str,
    payment_method_id: str,
    amount_cents: int,
    currency: str,
    description: str,
    attempt: int = 0,
) -> ChargeOutcome:
    """Charge one amount now (a demo, drop-in or make-up lesson) with the family's card."""
    try:
        intent = _call(
            _client().v1.payment_intents.create,
            key=f"billing:payment:{payment_id}:intent:{attempt}",
            customer=customer_id,
            payment_method=payment_method_id,
            amount=amount_cents,
            currency=currency,
            description=description,
            confirm=True,
            off_session=True,
            metadata={"payment_id": str(payment_id)},
        )
    except stripe.CardError as error:
        return ChargeOutcome(
            False,
            reason=error.user_message or str(error),
            decline_code=getattr(error.error, "decline_code", None) or error.code or "",
            amount_cents=amount_cents,
        )
    return ChargeOutcome(
        intent.status == "succeeded",
        payment_intent_id=intent.id,
        amount_cents=amount_cents,
        reason="" if intent.status == "succeeded" else f"Payment {intent.status}",
    )


def refund_create(*, payment_intent_id: str, amount_cents: int, refund_key: str) -> str:
    try:
        refund = _call(
            _client().v1.refunds.create,
            key=f"billing:refund:{refund_key}",
            payment_intent=payment_intent_id,
            amount=amount_cents,
        )
    except stripe.InvalidRequestError as error:
        raise StripeRefused(f"Stripe refused the refund: {error.user_message or error}") from error
    return refund.id


def payment_failure_reason(*, payment_intent_id: str) -> str | None:
    """Stripe's words for why a payment intent failed, when Stripe still knows the intent."""
    try:
        intent = _call(_client().v1.payment_intents.retrieve, payment_intent_id)
    except stripe.InvalidRequestError:
        return None
    error = getattr(intent, "last_payment_error", None)
    return error.message if error else None


def webhook_event_construct(*, payload: bytes, signature: str, secret: str) -> object:
    """Verify Stripe's signature on the raw body (tolerance 300 s) and return the body parsed from JSON; raise
    `SignatureRefused` when it does not hold, `NotAStripeEvent` when the signed body is not JSON. Whether a JSON
    body is an event is the caller's question."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:  # a body that is not UTF-8 too
        raise SignatureRefused(str(error)) from error
    # stripe-python refuses old timestamps only; a signature from the future is refused too.
    signed_at = int(dict(part.split("=", 1) for part in signature.split(",") if "=" in part)["t"])
    if signed_at > time.time() + WEBHOOK_TOLERANCE_SECONDS:
        raise SignatureRefused("Timestamp is ahead of this server's clock by more than the tolerance.")
    try:
        return json.loads(payload)
    except ValueError as error:
        raise NotAStripeEvent() from error


def object_retrieve(*, kind: str, stripe_id: str) -> dict | None:
    """One Stripe object as a dict (`customers`, `subscriptions`, `invoices`, `prices`), or None if Stripe has none."""
    found = object_fetch(kind=kind, stripe_id=stripe_id)
    return found.to_dict() if found is not None else None


def object_fetch(*, kind: str, stripe_id: str):
    """The Stripe object itself (for dj-stripe's sync), e.g. kind `subscriptions`; None if Stripe has none."""
    try:
        return _call(getattr(_client().v1, kind).retrieve, stripe_id)
    except stripe.InvalidRequestError:
        return None


@contextmanager
def djstripe_api():
    """dj-stripe calls Stripe through stripe-python's global settings, read once at start-up: point them
    where this gateway goes (the configured host, e.g. a test's local server) while it syncs."""
    previous = stripe.api_base
    stripe.api_base = settings.STRIPE_API_HOST
    try:
        yield
    finally:
        stripe.api_base = previous


# --- Tuition: coupons, and a subscription item's price and discounts ---


def coupon_ensure(
    *,
    coupon_id: str,
    name: str,
    percent_off: int | None = None,
    amount_off_cents: int | None = None,
    currency: str = "",
    duration: str = "forever",
    duration_in_months: int | None = None,
) -> str:
    """A coupon with our own deterministic id (`cedar-sibling-10`): the one Stripe holds, else made now (its key
    makes a retry the same call)."""
    client = _client()
    with suppress(stripe.InvalidRequestError):  # not there yet
        return _call(client.v1.coupons.retrieve, coupon_id).id
    terms = {"percent_off": percent_off} if percent_off is not None else {"amount_off": amount_off_cents}
    if amount_off_cents is not None:
        terms["currency"] = currency
    if duration == "repeating":
        terms["duration_in_months"] = duration_in_months
    return _call(
        client.v1.coupons.create, key=f"billing:coupon:{coupon_id}", id=coupon_id, name=name, duration=duration, **terms
    ).id


def subscription_item_update(*, stripe_subscription_id: str, price_id: str, coupons: list[str], key: str) -> str | None:
    """The subscription's item set to `price_id` with `coupons` (in order) from its next invoice: nothing prorated,
    nothing charged now. The item's id; None when Stripe has no such subscription (nothing to change)."""
    client = _client()
    try:
        subscription = _call(client.v1.subscriptions.retrieve, stripe_subscription_id)
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise
    item_id = subscription["items"]["data"][0]["id"]
    _call(
        client.v1.subscription_items.update,
        item_id,
        key=key,
        price=price_id,
        discounts=[{"coupon": coupon} for coupon in coupons] or "",
        proration_behavior="none",
    )
    return item_id


# --- Lifecycle: a subscription paused, stopped at a date; a customer's credit balance (refunds: above) ---


def subscription_pause_collection(*, stripe_subscription_id: str, resumes_at: datetime, key: str) -> None:
    """No invoices until `resumes_at` (Stripe voids any it would make meanwhile), then Stripe resumes by itself."""
    _call(
        _client().v1.subscriptions.update,
        stripe_subscription_id,
        key=key,
        pause_collection={"behavior": "void", "resumes_at": int(resumes_at.timestamp())},
    )


def subscription_resume_collection(*, stripe_subscription_id: str, key: str) -> None:
    """Collection starts again now (a pause the school ended early): an empty value unsets it."""
    _call(_client().v1.subscriptions.update, stripe_subscription_id, key=key, pause_collection="")


def subscription_cancel_at(*, stripe_subscription_id: str, cancel_at: datetime, key: str) -> None:
    """The subscription ends at `cancel_at` without a prorated last invoice: what it covers is settled by us."""
    _call(
        _client().v1.subscriptions.update,
        stripe_subscription_id,
        key=key,
        cancel_at=int(cancel_at.timestamp()),
        proration_behavior="none",
    )


def customer_balance_credit(*, customer_id: str, amount_cents: int, currency: str, description: str, key: str) -> str:
    """Money the customer's next invoices use first (a negative balance transaction): its id."""
    transaction = _call(
        _client().v1.customers.balance_transactions.create,
        customer_id,
        key=key,
        amount=-amount_cents,
        currency=currency,
        description=description,
    )
    return transaction.id
