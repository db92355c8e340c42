"""A family's fees that are not a lesson's: the school year's registration fee and the late fee after an invoice's
last payment retry failed; and the owner's waiver of either.

A fee is claimed as a unique row (`FamilyFee`: one per family and school year, one per failed payment), so a
replay or a race finds the row already there and adds nothing. It is a ledger charge at once, and after commit a
pending invoice item at Stripe (`fee_invoice_items_send`, a django-q2 task with an idempotency key of our own ids),
so it joins the family's next invoice. A waiver takes it back on the ledger (an adjustment while it waits for an
invoice, a credit once an invoice carried it) and at Stripe (a negative invoice item, on the next invoice).
"""

from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Family
from billing import stripe_gateway
from billing.models import FamilyFee, FeeInvoiceItem, LedgerEntry, PaymentFailure
from billing.services.customers import billing_profile_customer_ensure
from billing.services.ledger import ledger_entry_add
from cedarheights.emails import email_parents
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.money import format_cents
from cedarheights.outbox import task_enqueue_with_commit
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import audit_record
from scheduling.models import AcademicYear

SEND_TASK = "billing.fees.fee_invoice_items_send"


def _fee_claim(*, family: Family, kind: str, amount_cents: int, reference: str, **reason) -> tuple[FamilyFee, bool]:
    """The fee row, its ledger charge and its invoice line, made together, or the row a replay or a concurrent
    caller made first (the unique constraints say which): (fee, made now)."""
    try:
        with transaction.atomic():
            fee = FamilyFee(family=family, kind=kind, amount_cents=amount_cents, **reason)
            fee.ledger_entry = ledger_entry_add(
                family=family,
                kind=LedgerEntry.Kind.CHARGE,
                amount_cents=amount_cents,
                description=fee.label,
                reference=reference,
                currency=fee.currency,
            )
            fee.save()
            FeeInvoiceItem.objects.create(fee=fee, kind=FeeInvoiceItem.Kind.FEE, amount_cents=amount_cents)
    except IntegrityError:
        return FamilyFee.objects.get(family=family, kind=kind, **reason), False
    task_enqueue_with_commit(SEND_TASK, fee.pk)
    return fee, True


@transaction.atomic
def registration_fee_charge(*, family: Family, on: date) -> FamilyFee | None:
    """The family's registration fee for the school year containing `on` (School settings; 0: none). Charged once
    per family and year, however many children enroll and however often this runs; None when the school charges
    none or no school year contains the day."""
    amount = school_settings_get().registration_fee_cents
    if not amount:
        return None
    year = AcademicYear.objects.filter(start_date__lte=on, end_date__gte=on).order_by("start_date").first()
    if year is None:
        return None
    fee, _ = _fee_claim(
        family=family,
        kind=FamilyFee.Kind.REGISTRATION,
        amount_cents=amount,
        reference=f"registration-fee:{family.pk}:{year.pk}",
        academic_year=year,
    )
    return fee


def registration_fee_charge_for_start(*, family: Family, starts_at: datetime | None) -> FamilyFee | None:
    """Billing starts (`billing_start`): the registration fee of the school year of the first lesson (today's when
    billing starts now)."""
    day = timezone.localdate(starts_at, school_settings_get().zone) if starts_at else school_today()
    return registration_fee_charge(family=family, on=day)


@transaction.atomic
def late_fee_charge(*, failure: PaymentFailure) -> FamilyFee | None:
    """After an invoice's last payment retry failed (`payment_failure_give_up`): the school's late fee (0: none),
    once per invoice, and one kind email to the parents saying it can be waived. None for a failure still
    retrying, a payment that is not an invoice's (a lesson charged alone), or no late fee."""
    amount = school_settings_get().late_fee_cents
    payment = failure.payment
    if not amount or failure.status != PaymentFailure.Status.GAVE_UP or not payment.stripe_invoice_id:
        return None
    fee, made = _fee_claim(
        family=failure.family,
        kind=FamilyFee.Kind.LATE,
        amount_cents=amount,
        reference=f"late-fee:{payment.pk}",
        payment=payment,
    )
    if made:
        email_parents(
            family=failure.family,
            template="late_fee",
            related=fee,
            dedupe_key=f"late-fee:{fee.pk}",
            context={
                "fee": fee,
                "amount": format_cents(fee.amount_cents, fee.currency),
                "unpaid": format_cents(payment.amount_cents, payment.currency),
                "payment": payment,
                "billing_url": f"{settings.SITE_URL}/billing/",
            },
        )
    return fee


@transaction.atomic
def family_fee_waive(*, fee: FamilyFee, actor, note: str) -> FamilyFee:
    """The owner waives a fee, saying why: the ledger goes back to what it was before the fee (an adjustment, or a
    credit when an invoice carried it already), and a negative line at Stripe takes it off the next invoice.
    Waiving it again changes nothing. Audited."""
    if not note.strip():
        raise InvalidInput("Say why the fee is waived.", fields={"note": ["Give a reason."]})
    fee = FamilyFee.objects.select_for_update(of=("self",)).select_related("academic_year").get(pk=fee.pk)
    if fee.status == FamilyFee.Status.WAIVED:
        return fee
    line = FeeInvoiceItem.objects.select_for_update().get(fee=fee, kind=FeeInvoiceItem.Kind.FEE)
    invoiced = bool(line.stripe_invoice_id)
    ledger_entry_add(
        family=fee.family,
        kind=LedgerEntry.Kind.CREDIT if invoiced else LedgerEntry.Kind.ADJUSTMENT,
        amount_cents=fee.amount_cents if invoiced else -fee.amount_cents,
        description=f"{fee.label} waived" + (" (credit: it was on an invoice already)" if invoiced else ""),
        reference=f"family-fee-waiver:{fee.pk}",
        currency=fee.currency,
    )
    FeeInvoiceItem.objects.create(fee=fee, kind=FeeInvoiceItem.Kind.WAIVER, amount_cents=-fee.amount_cents)
    fee.status, fee.note = FamilyFee.Status.WAIVED, note.strip()[:200]
    fee.waived_by = actor if actor is not None and actor.is_authenticated else None
    fee.waived_at = timezone.now()
    fee.save(update_fields=["status", "note", "waived_by", "waived_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=fee,
        changes={"status": [FamilyFee.Status.CHARGED, FamilyFee.Status.WAIVED], "note": ["", fee.note]},
    )
    task_enqueue_with_commit(SEND_TASK, fee.pk)
    return fee


def _stripe_key(line: FeeInvoiceItem) -> str:
    fee = line.fee
    if line.kind == FeeInvoiceItem.Kind.WAIVER:
        return f"billing:fee:{fee.pk}:waiver"
    if fee.kind == FamilyFee.Kind.REGISTRATION:
        return f"billing:family:{fee.family_id}:registration:{fee.academic_year_id}"
    return f"billing:family:{fee.family_id}:late-fee:{fee.payment_id}"


def fee_invoice_items_send(fee_id: int) -> int:
    """django-q2 task: put the fee's lines not at Stripe yet on the family's next invoice (pending invoice items),
    storing each one's Stripe id the moment Stripe answers; how many were sent. Safe to run again: a stored id is
    never sent again, and a run killed before storing replays its idempotency key and gets the same item back.
    Stripe is called outside any lock; the customer is the family's (made now if billing has not made it yet)."""
    fee = FamilyFee.objects.select_related("family", "academic_year").get(pk=fee_id)
    unsent = list(fee.invoice_items.filter(stripe_invoice_item_id=None).order_by("pk"))
    if not unsent:
        return 0
    customer_id = billing_profile_customer_ensure(family=fee.family).stripe_customer_id
    for line in unsent:
        line.fee = fee
        item_id = stripe_gateway.invoice_item_create(
            key=_stripe_key(line),
            customer_id=customer_id,
            amount_cents=line.amount_cents,
            currency=fee.currency,
            description=fee.label if line.kind == FeeInvoiceItem.Kind.FEE else f"{fee.label} waived",
            metadata={"family_fee_id": str(fee.pk), "line": line.kind},
        )
        FeeInvoiceItem.objects.filter(pk=line.pk, stripe_invoice_item_id=None).update(
            stripe_invoice_item_id=item_id, sent_at=timezone.now()
        )
    return len(unsent)
