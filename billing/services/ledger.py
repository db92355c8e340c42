"""The ledger and receipts: nothing written twice, nothing lost, always balanced."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Family
from billing.fee_invoices import fee_lines_on_invoice_cents
from billing.models import LedgerEntry, Payment, Receipt, ReceiptSequence
from billing.services.makeup_credits import makeup_credits_release_when_paid
from cedarheights.emails import email_parents
from cedarheights.errors import InvalidInput
from cedarheights.money import format_cents
from cedarheights.selectors import school_settings_get
from enrollment.lesson_prices import lesson_price_cents
from enrollment.models import MakeupCredit


def ledger_entry_add(
    *,
    family: Family,
    kind: str,
    amount_cents: int,
    description: str,
    reference: str = "",
    payment: Payment | None = None,
    currency: str | None = None,
) -> LedgerEntry:
    """Write one ledger line. With a `reference`, writing it again (a replayed event) returns the first."""
    if kind != LedgerEntry.Kind.ADJUSTMENT and amount_cents <= 0:
        raise InvalidInput(
            "A charge, payment, refund or credit is a positive amount.",
            fields={"amount_cents": ["Must be more than 0."]},
        )
    if amount_cents == 0:
        raise InvalidInput("An adjustment cannot be zero.", fields={"amount_cents": ["Must not be 0."]})
    entry = LedgerEntry(
        family=family,
        kind=kind,
        amount_cents=amount_cents,
        description=description[:255],
        reference=reference,
        payment=payment,
    )
    if currency:
        entry.currency = currency
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        if not reference:
            raise
        return LedgerEntry.objects.get(kind=kind, reference=reference)
    return entry


@transaction.atomic
def receipt_issue(*, payment: Payment) -> Receipt:
    """A numbered receipt for a successful payment: YYYY-NNNNN, no gaps, one per payment."""
    if existing := Receipt.objects.filter(payment=payment).first():
        return existing
    issued_at = payment.paid_at or timezone.now()
    year = timezone.localtime(issued_at).year
    ReceiptSequence.objects.get_or_create(year=year)
    sequence = ReceiptSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return Receipt.objects.create(
        payment=payment,
        family_id=payment.family_id,
        year=year,
        sequence=sequence.last_number,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        issued_at=issued_at,
    )


def _charge_for(payment: Payment) -> str:
    """The ledger charge a payment settles, written once whether the payment succeeds or fails. An invoice's fee
    lines are left out: each fee is on the ledger already, as its own line (billing/fees.py)."""
    description = payment.description or payment.get_purpose_display()
    amount_cents = payment.amount_cents - fee_lines_on_invoice_cents(payment=payment)
    if amount_cents <= 0:
        return description  # an invoice of fees only: their own lines are its charges
    ledger_entry_add(
        family=payment.family,
        kind=LedgerEntry.Kind.CHARGE,
        amount_cents=amount_cents,
        description=description,
        reference=f"payment:{payment.pk}",
        payment=payment,
        currency=payment.currency,
    )
    return description


# A payment in one of these has been paid: a replayed "paid" event leaves it as it is (a refund since included).
MONEY_ARRIVED = {Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED}


@transaction.atomic
def payment_record_succeeded(*, payment: Payment, paid_at=None) -> Payment:
    """Money arrived: the payment, its ledger lines (the charge it settles and the payment), a receipt and
    its email; the family's make-up credits held while it was unpaid become usable. Safe to call again for the
    same payment (a replayed webhook): nothing is written twice."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status not in MONEY_ARRIVED:
        payment.status, payment.failure_reason = Payment.Status.SUCCEEDED, ""
        payment.paid_at = paid_at or timezone.now()
        payment.save(update_fields=["status", "paid_at", "failure_reason"])
    description = _charge_for(payment)
    ledger_entry_add(
        family=payment.family,
        kind=LedgerEntry.Kind.PAYMENT,
        amount_cents=payment.amount_cents,
        description=f"Card payment: {description}",
        reference=f"payment:{payment.pk}",
        payment=payment,
        currency=payment.currency,
    )
    receipt = receipt_issue(payment=payment)
    makeup_credits_release_when_paid(payment=payment)
    email_parents(
        family=payment.family,
        template="receipt",
        related=receipt,
        dedupe_key=f"receipt:{receipt.pk}",
        context={
            "receipt": receipt,
            "payment": payment,
            "amount": format_cents(payment.amount_cents, payment.currency),
        },
    )
    return payment


@transaction.atomic
def payment_record_failed(*, payment: Payment, reason: str) -> Payment:
    """The charge stays on the ledger (the family owes it); the payment records Stripe's reason."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status == Payment.Status.SUCCEEDED:
        return payment  # a late failure event never undoes a success
    payment.status, payment.failure_reason = Payment.Status.FAILED, reason[:255]
    payment.save(update_fields=["status", "failure_reason"])
    _charge_for(payment)
    return payment


def credit_issue(*, family: Family, amount_cents: int, reason: str, reference: str = "") -> LedgerEntry:
    """A credit on the family's account (a goodwill gesture, a missed lesson) that lowers what they owe."""
    return ledger_entry_add(
        family=family,
        kind=LedgerEntry.Kind.CREDIT,
        amount_cents=amount_cents,
        description=f"Credit: {reason}",
        reference=reference,
    )


def makeup_credit_to_money(*, credit: MakeupCredit) -> LedgerEntry | None:
    """A teacher's or a closure's credit expired unused (enrollment's `makeup_credit_expired`): one lesson of the
    enrollment's plan, as a credit on the family's account. Written once (its reference); nothing without a plan."""
    enrollment = credit.enrollment
    amount = lesson_price_cents(enrollment=enrollment)
    if amount <= 0:
        return None
    missed = timezone.localtime(credit.missed_lesson.start_at, school_settings_get().zone)
    return ledger_entry_add(
        family=enrollment.student.family,
        kind=LedgerEntry.Kind.CREDIT,
        amount_cents=amount,
        description=f"Unused make-up credit ({credit.get_origin_display().lower()}) of {missed:%a %-d %b %Y}",
        reference=f"makeup-credit:{credit.pk}",
        currency=enrollment.tuition_plan.currency,
    )
