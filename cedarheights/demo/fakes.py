"""The few states the demo fakes, written here and nowhere else, because no service can (or may) produce them:

- Stripe's side of the month of billing. The demo is seeded before the local Stripe server starts, so what Stripe
  would have answered is stored as the billing pipeline stores Stripe's answers, with plainly fake ids
  (`cus_demo_…`, `pm_demo_…`, `sub_demo_…`): Stripe has none of them, and a retry of the demo's declined payment,
  once due, stops at Stripe's "No such invoice".
- The published demo passwords: `password_set` validates every password, and refuses these ones (too like the
  teachers' @cedarheights.test addresses); the demo's people sign in with them all the same.
- The day each parent consented for their children, before the school year: `child_consent_give` records now.
- The published calendar links: `calendar_feed_issue` makes a random secret shown once; the demo's printed links
  are derived from the site's secret key (cedarheights.demo.calendars), so `make run` prints them on every start.
- What a worker killed mid-work leaves: an email whose send was never recorded, a billing hand-off lost.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import Family, User
from billing.models import BillingProfile, TuitionSubscription
from cedarheights.demo.school import LOST_HANDOFF_CARD, LOST_HANDOFF_FAMILY, UNCONFIRMED_FAMILY
from cedarheights.emails import UNCONFIRMED_REASON, email_parents
from cedarheights.models import EmailLog
from cedarheights.selectors import school_settings_get
from enrollment.models import ChildConsent, Enrollment
from scheduling.calendar_feeds import token_hash
from scheduling.models import CalendarFeed, Lesson


def demo_password_give(*, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])


def calendar_token_publish(*, feed: CalendarFeed, token: str) -> None:
    """The link opens with the demo's derived `token`; as for every link, only its hash is stored."""
    CalendarFeed.objects.filter(pk=feed.pk).update(token_hash=token_hash(token))


def consent_backdate(*, consent: ChildConsent, given_on: date) -> None:
    given_at = datetime.combine(given_on, time(12), tzinfo=school_settings_get().zone)
    ChildConsent.objects.filter(pk=consent.pk).update(given_at=given_at)


def stripe_customer(*, family: Family, slug: str, card_last4: str, card_exp_year: int) -> BillingProfile:
    """The family's Stripe customer and card on file, as `billing_profile_customer_ensure` and
    `billing_profile_card_attach` keep them once Stripe answers."""
    profile, _ = BillingProfile.objects.get_or_create(
        family=family,
        defaults={
            "stripe_customer_id": f"cus_demo_{slug}",
            "default_payment_method_id": f"pm_demo_{slug}",
            "card_brand": "visa",
            "card_last4": card_last4,
            "card_exp_month": 12,
            "card_exp_year": card_exp_year,
        },
    )
    return profile


def stripe_subscription(*, enrollment: Enrollment, stripe_subscription_id: str, starts_at) -> TuitionSubscription:
    """The enrollment's subscription with the id Stripe would have given it, as the billing pipeline stores it
    (`billing_start` would queue the pipeline, which calls Stripe); its state is then applied by billing."""
    return TuitionSubscription.objects.create(
        family=enrollment.student.family,
        tuition_plan=enrollment.tuition_plan,
        enrollment=enrollment,
        stripe_subscription_id=stripe_subscription_id,
        starts_at=starts_at,
    )


def worker_died_mid_work() -> None:
    """What the owner finds after a worker was killed mid-work: the MacDonalds' welcome email left unconfirmed
    (it may have gone out; the owner resends it in one click), and the Rossis' subscription whose hand-off to the
    worker was lost, made an hour ago, for the sweeper to start (a `billing_sweep` run; the worker then bills them
    on the local Stripe server with its test card)."""
    enrollment = Enrollment.objects.filter(student__family__name=UNCONFIRMED_FAMILY).order_by("pk").first()
    email_parents(
        family=enrollment.student.family,
        template="welcome_parent",
        related=enrollment,
        dedupe_key="demo:welcome",
        context={"booked": [enrollment], "waitlisted": [], "set_password_url": "", "confirmation_url": ""},
    )
    # In the seed's transaction, with its send task: the worker finds the row unconfirmed and leaves it.
    EmailLog.objects.filter(dedupe_key__startswith="demo:welcome:", status=EmailLog.Status.QUEUED).update(
        status=EmailLog.Status.UNCONFIRMED, error=UNCONFIRMED_REASON
    )

    enrollment = Enrollment.objects.filter(student__family__name=LOST_HANDOFF_FAMILY).order_by("pk").first()
    if TuitionSubscription.objects.filter(enrollment=enrollment).exists():
        return
    # What `billing_start` writes, without the task it records beside it (the task is what was lost).
    first = Lesson.objects.filter(student=enrollment.student, start_at__gt=timezone.now()).order_by("start_at").first()
    subscription = TuitionSubscription.objects.create(
        family=enrollment.student.family,
        tuition_plan=enrollment.tuition_plan,
        enrollment=enrollment,
        payment_method_id=LOST_HANDOFF_CARD,
        starts_at=first.start_at if first else None,
    )
    # Made an hour ago, its task lost: well past the sweeper's grace period.
    TuitionSubscription.objects.filter(pk=subscription.pk).update(created_at=timezone.now() - timedelta(hours=1))


# --- Stripe's side of the demo's fees (no Stripe in a demo), and a give-up that keeps the lessons -----------------


def fee_lines_at_stripe(*, fee) -> None:
    """The fee's lines as `fee_invoice_items_send` stores Stripe's answer, with plainly fake ids (`ii_demo_…`), so
    the worker's task finds nothing to send."""
    from billing.models import FeeInvoiceItem

    for line in FeeInvoiceItem.objects.filter(fee=fee, stripe_invoice_item_id=None):
        FeeInvoiceItem.objects.filter(pk=line.pk).update(
            stripe_invoice_item_id=f"ii_demo_fee_{fee.pk}_{line.kind}", sent_at=timezone.now()
        )


def payment_failure_given_up(*, failure) -> None:
    """A failure whose last retry failed, as `payment_failure_give_up` leaves it, without the pause it also makes:
    the demo keeps the family's lessons (and the pause email) to its other stories."""
    from billing.models import PaymentFailure

    PaymentFailure.objects.filter(pk=failure.pk).update(
        status=PaymentFailure.Status.GAVE_UP, next_retry_at=None, resolved_at=timezone.now()
    )
