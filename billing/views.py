from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from prometheus_client import Counter

from billing.errors import CardRefused, SignatureRefused
from billing.forms import PromotionCodeForm
from billing.models import Receipt
from billing.selectors import family_billing_overview
from billing.services.customers import payment_method_update
from billing.services.tuition_discounts import promotion_code_redeem
from billing.tuition.bill import family_tuition_months, receipt_tuition_bill
from billing.webhooks import stripe_event_receive
from cedarheights.error_body import error_body
from cedarheights.errors import DomainError
from cedarheights.money import format_cents
from cedarheights.roles import is_parent

# Not stored anywhere else (a refused delivery writes no row): /metrics shows it, an alert watches it.
WEBHOOK_SIGNATURES_REFUSED = Counter(
    "cedarheights_stripe_webhook_signatures_refused", "Webhook deliveries refused for a bad or missing signature."
)


@csrf_exempt  # Stripe signs its deliveries; the signature is checked before anything is stored
@require_POST
def stripe_webhook(request):
    try:
        stripe_event_receive(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except DomainError as error:  # a bad signature, a body that is not an event
        if isinstance(error, SignatureRefused):
            WEBHOOK_SIGNATURES_REFUSED.inc()
        body = error_body(request, code=error.code, message=error.message, fields=error.fields)
        return JsonResponse(body, status=error.status)
    return HttpResponse(status=200)


def _family_id(request) -> int:
    if not is_parent(request.user):
        raise Http404("Billing pages are for parents.")
    return request.user.family_id


@login_required
def billing_page(request):
    """The parent's billing: balance, subscriptions, this month's and next month's tuition lines, a promotion code to
    enter, payments, receipts, and the card on file."""
    family_id = _family_id(request)
    promotion = PromotionCodeForm(request.POST if request.method == "POST" else None)
    if promotion.is_bound and promotion.is_valid():
        try:
            redemption = promotion_code_redeem(
                code_text=promotion.cleaned_data["code"], family=request.user.family, actor=request.user
            )
        except DomainError as error:  # unknown, no longer offered, past its last day, used up, already yours
            promotion.add_error("code", error.message)
        else:
            messages.success(
                request,
                f"The code {redemption.code.code} takes {redemption.code.terms} from {redemption.first_month:%B %Y}: "
                "its line is in your tuition below.",
            )
            return redirect("billing")
    overview = family_billing_overview(family_id=family_id)
    return render(
        request,
        "billing/page.html",
        {
            **overview,
            "balance": format_cents(overview["balance_cents"], settings.SCHOOL_CURRENCY),
            "tuition_months": family_tuition_months(family_id=family_id),
            "promotion_form": promotion,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_public_key": settings.STRIPE_PUBLIC_KEY,
        },
    )


@login_required
@require_POST
def card_update(request):
    """Stripe.js made a payment method in the browser (the card never reaches us); make it the default."""
    family = request.user.family
    _family_id(request)
    method = request.POST.get("payment_method_id", "")
    if not method.startswith("pm_") or len(method) > 255:
        messages.error(request, "The card could not be read. Please try again.")
        return redirect("billing")
    try:
        payment_method_update(family=family, payment_method_id=method)
    except CardRefused as error:
        messages.error(request, f"The card was refused: {error.message}")
    except DomainError as error:  # Stripe out of reach too
        messages.error(request, f"The card was not saved: {error.message}")
    else:
        messages.success(request, "Your card is saved. Any failed payment will be tried again on it shortly.")
    return redirect("billing")


@login_required
def receipt_page(request, number: str):
    year, _, sequence = number.partition("-")
    receipt = get_object_or_404(
        Receipt.objects.select_related("payment", "family"),
        family_id=_family_id(request),
        year=int(year) if year.isdigit() else 0,
        sequence=int(sequence) if sequence.isdigit() else 0,
    )
    return render(
        request,
        "billing/receipt.html",
        {
            "receipt": receipt,
            "amount": format_cents(receipt.amount_cents, receipt.currency),
            "tuition_bill": receipt_tuition_bill(receipt=receipt),
        },
    )
