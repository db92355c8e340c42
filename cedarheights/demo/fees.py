"""The demo's fees: this school year's registration fee on every family with an active enrollment, and
last month's declined invoice of two families given up on after its last retry: the Okonkwos' late fee waits on
their next invoice, the Tremblays' was waived by the owner. Written through billing's services; Stripe's side of it
is faked (`cedarheights.demo.fakes`). Open make-up credits are the lesson week's (`cedarheights.demo.lesson_week`).
Running it again changes nothing: each fee is claimed once, each payment is its invoice's."""

from datetime import date, timedelta

from accounts.models import Family, User
from billing.fees import family_fee_waive, late_fee_charge, registration_fee_charge
from billing.models import FamilyFee, PaymentFailure, TuitionSubscription
from billing.services.dunning import payment_failure_open
from billing.services.subscriptions import invoice_payment_ensure
from cedarheights.demo import fakes
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.models import Enrollment

DEMO_LATE_FEE_CENTS = 1_500  # the studio figure: ~$15 (../shared/notes/school-policies.md)
LATE = {"Okonkwo family": "", "Tremblay family": "The card had just been replaced: paid by e-transfer the next day."}


def fees_tell(*, today: date, owner: User) -> None:
    """Late fees first: an invoice recorded after a fee line went to Stripe would be taken to carry it
    (billing/fee_invoices.py), and last month's invoices carried none."""
    school = school_settings_get()
    if not school.late_fee_cents:
        school_settings_update(school_settings=school, late_fee_cents=DEMO_LATE_FEE_CENTS)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for name, waived_because in LATE.items():
        subscription = TuitionSubscription.objects.filter(family__name=name).order_by("pk").first()
        if subscription is None:
            continue
        fee = _late_fee(subscription=subscription, month=last_month)
        if waived_because and fee.status == FamilyFee.Status.CHARGED:
            family_fee_waive(fee=fee, actor=owner, note=waived_because)
            fakes.fee_lines_at_stripe(fee=fee)
    families = Family.objects.filter(students__enrollments__status=Enrollment.Status.ACTIVE).distinct().order_by("pk")
    for family in families:
        if fee := registration_fee_charge(family=family, on=today):
            fakes.fee_lines_at_stripe(fee=fee)


def _late_fee(*, subscription: TuitionSubscription, month: date) -> FamilyFee:
    """Last month's invoice of the subscription, declined at every retry, and its late fee."""
    slug = subscription.family.name.split()[0].lower()
    payment = invoice_payment_ensure(
        subscription=subscription,
        invoice_id=f"in_demo_{slug}_{month:%Y_%m}",
        amount_cents=subscription.tuition_plan.price_cents,
        payment_intent_id=f"pi_demo_{slug}_{month:%Y_%m}",
        description=f"{subscription.tuition_plan.name}, {month:%B %Y}",
    )
    failure = payment_failure_open(
        payment=payment, reason="Your card has insufficient funds.", decline_code="insufficient_funds"
    )
    if failure.status == PaymentFailure.Status.OPEN:
        fakes.payment_failure_given_up(failure=failure)
        failure.refresh_from_db()
    fee = late_fee_charge(failure=failure)
    fakes.fee_lines_at_stripe(fee=fee)
    return fee
