"""The demo's month of billing, as the owner sees it: a family that paid, one refunded for a cancelled lesson, one
whose card was declined (retrying). Written through billing's own services; Stripe's side of it (the customer,
the subscription) is faked (`cedarheights.demo.fakes`), as the demo never calls Stripe."""

from datetime import date, datetime, time, timedelta

from accounts.models import Family
from billing.models import TuitionSubscription
from billing.services.charges import refund_record
from billing.services.dunning import payment_failure_open, payment_settle
from billing.services.ledger import credit_issue
from billing.services.subscriptions import invoice_payment_ensure, subscription_state_apply
from cedarheights.demo import fakes
from cedarheights.demo.school import DemoBilling, Outcome
from cedarheights.selectors import school_settings_get
from enrollment.models import Enrollment
from scheduling.models import Lesson

CANCELLED_LESSON = "a lesson the school cancelled"


def month_of_billing(*, family: Family, billing: DemoBilling, today: date) -> None:
    """The family's card, a subscription per active enrollment, and this month's charge of each, as it went. An
    enrollment already subscribed (an earlier run) is left as it is."""
    zone = school_settings_get().zone
    month = today.replace(day=1)
    charged_at = datetime.combine(month, time.min, tzinfo=zone)  # Stripe invoices on the 1st
    next_charge_at = datetime.combine((month + timedelta(days=32)).replace(day=1), time.min, tzinfo=zone)
    slug = family.name.split()[0].lower()
    fakes.stripe_customer(family=family, slug=slug, card_last4=billing.card_last4, card_exp_year=today.year + 3)
    enrollments = Enrollment.objects.filter(student__family=family, status=Enrollment.Status.ACTIVE)
    for enrollment in enrollments.select_related("student", "tuition_plan").order_by("pk"):
        if TuitionSubscription.objects.filter(enrollment=enrollment).exists():
            continue
        key = f"{slug}_{enrollment.student.first_name.lower()}"
        first_lesson = Lesson.objects.filter(student=enrollment.student).order_by("start_at").first()
        subscription = fakes.stripe_subscription(
            enrollment=enrollment, stripe_subscription_id=f"sub_demo_{key}", starts_at=first_lesson.start_at
        )
        subscription = subscription_state_apply(
            subscription=subscription,
            status=billing.subscription_status,
            state_at=charged_at,
            next_charge_at=next_charge_at,
        )
        plan = enrollment.tuition_plan
        payment = invoice_payment_ensure(
            subscription=subscription,
            invoice_id=f"in_demo_{key}",
            amount_cents=plan.price_cents,
            payment_intent_id=f"pi_demo_{key}",
            description=f"{plan.name}: {enrollment.student.first_name}, {month:%B %Y}",
        )
        if billing.outcome == Outcome.DECLINED:
            payment_failure_open(
                payment=payment,
                reason="Your card has insufficient funds.",
                decline_code="insufficient_funds",
                subscription=subscription,
            )
            continue
        payment_settle(payment=payment, paid_at=charged_at)
        if billing.outcome == Outcome.REFUNDED:  # a quarter of the month: the lesson credited, its price refunded
            credit_issue(
                family=family,
                amount_cents=plan.price_cents // 4,
                reason=CANCELLED_LESSON,
                reference=f"credit_demo_{key}",
            )
            # `refund_issue` would ask Stripe first; this is its record of Stripe's answer, with a fake refund id.
            refund_record(
                payment=payment,
                amount_cents=plan.price_cents // 4,
                reference=f"re_demo_{key}",
                reason=CANCELLED_LESSON,
            )
