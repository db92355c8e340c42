"""The billing pipeline over HTTP against the local Stripe server, on the real database."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from djstripe.models import Charge as DjstripeCharge
from rest_framework.test import APIClient

from billing import stripe_gateway
from billing.models import BillingProfile, LedgerEntry, Payment, PaymentFailure, Receipt, TuitionSubscription
from billing.pipelines import billing_pipeline_run
from billing.selectors import family_balance_cents
from billing.services.catalog import catalog_sync
from billing.services.charges import lesson_charge
from billing.services.customers import billing_profile_customer_ensure, payment_method_update
from billing.services.dunning import billing_retry_due, failed_payments_digest_send
from billing.services.subscriptions import billing_start
from cedarheights.models import PipelineRun
from enrollment.models import Enrollment
from scheduling.models import Lesson
from tests.factories import (
    AvailabilityFactory,
    EnrollmentFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TuitionPlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
GOOD, DECLINES = "4242424242424242", "4000000000000341"


@pytest.fixture
def family(school):
    return ParentFactory(email="parent@example.com").family


@pytest.fixture
def plan(stripe_server, school):
    plan = TuitionPlanFactory(name="Piano 30 min, monthly", price_cents=14_000)
    catalog_sync()
    plan.refresh_from_db()
    return plan


def start(family, plan, card, django_capture_on_commit_callbacks, enrollment=None) -> TuitionSubscription:
    with django_capture_on_commit_callbacks(execute=True):
        subscription = billing_start(family=family, tuition_plan=plan, payment_method_id=card, enrollment=enrollment)
    subscription.refresh_from_db()
    return subscription


def test_catalog_sync_creates_each_price_once(stripe_server, plan):
    assert plan.stripe_price_id and plan.stripe_product_id
    assert catalog_sync() == []
    assert len(stripe_server.list("plans")) == 1 and len(stripe_server.list("products")) == 1


def test_a_good_card_makes_an_active_subscription_a_paid_invoice_ledger_receipt_and_email(
    stripe_server,
    family,
    plan,
    django_capture_on_commit_callbacks,
):
    subscription = start(family, plan, stripe_server.card(GOOD), django_capture_on_commit_callbacks)

    assert subscription.status == "active" and subscription.stripe_subscription_id.startswith("sub_")
    [stripe_sub] = stripe_server.list("subscriptions")
    assert stripe_sub["id"] == subscription.stripe_subscription_id and stripe_sub["status"] == "active"
    payment = Payment.objects.get(family=family)
    assert (payment.status, payment.amount_cents) == ("succeeded", 14_000)
    assert payment.stripe_invoice_id == stripe_server.list("invoices")[0]["id"]
    assert sorted(LedgerEntry.objects.filter(family=family).values_list("kind", flat=True)) == ["charge", "payment"]
    assert family_balance_cents(family_id=family.pk) == 0
    assert Receipt.objects.get(payment=payment).amount_cents == 14_000
    assert next(m.subject for m in mail.outbox if m.to == ["parent@example.com"]).startswith("Your receipt")
    profile = BillingProfile.objects.get(family=family)
    assert (profile.card_brand, profile.card_last4) == ("visa", "4242")
    # dj-stripe mirrors every object, and our rows link to its copies.
    assert profile.djstripe_customer.id == profile.stripe_customer_id
    assert subscription.djstripe_subscription.id == subscription.stripe_subscription_id
    assert subscription.djstripe_subscription.status == "active"
    assert payment.djstripe_invoice.id == payment.stripe_invoice_id
    assert payment.djstripe_payment_intent.id == payment.stripe_payment_intent_id
    assert DjstripeCharge.objects.filter(payment_intent_id=payment.stripe_payment_intent_id).exists()
    plan.refresh_from_db()
    assert plan.djstripe_price.id == plan.stripe_price_id and plan.djstripe_price.unit_amount == 14_000
    run = PipelineRun.objects.get(pipeline="billing")
    assert run.status == "succeeded"
    assert list(run.steps.values_list("name", flat=True)) == [
        "ensure_customer",
        "attach_payment_method",
        "create_subscription",
        "charge_first_month",
        "route_outcome",
        "mirror_to_djstripe",
        "sync_family_items",
    ]


def test_a_declined_card_is_recorded_retried_told_and_recovers_after_the_card_is_updated(
    stripe_server,
    family,
    plan,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.BILLING_RETRY_DAYS = [1, 3, 7]
    enrollment = EnrollmentFactory(student=StudentFactory(family=family), tuition_plan=plan, status="active")
    subscription = start(family, plan, stripe_server.card(DECLINES), django_capture_on_commit_callbacks, enrollment)

    failure = PaymentFailure.objects.get(family=family)
    assert subscription.status == "incomplete"
    assert failure.reason == "Your card was declined." and failure.decline_code == "card_declined"
    assert failure.payment.status == "failed"
    assert timedelta(hours=23) < failure.next_retry_at - timezone.now() <= timedelta(days=1)
    assert family_balance_cents(family_id=family.pk) == 14_000  # owed
    parent_mail = [m for m in mail.outbox if m.to == ["parent@example.com"]]
    assert len(parent_mail) == 1 and "/billing/" in parent_mail[0].body and "declined" in parent_mail[0].body
    with django_capture_on_commit_callbacks(execute=True):
        assert failed_payments_digest_send() == 1
        assert failed_payments_digest_send() == 0  # one digest, not one email per failure
    digest = [m for m in mail.outbox if m.subject.startswith("Failed payments today")]
    assert len(digest) == 1 and family.name in digest[0].body

    with django_capture_on_commit_callbacks(execute=True):
        billing_retry_due(now=timezone.now() + timedelta(days=2))  # still the declining card
    failure.refresh_from_db()
    assert (failure.status, failure.attempts) == ("open", 2)

    with django_capture_on_commit_callbacks(execute=True):
        payment_method_update(family=family, payment_method_id=stripe_server.card(GOOD))
        billing_retry_due()
    failure.refresh_from_db()
    assert failure.status == "recovered"
    assert Payment.objects.get(pk=failure.payment_id).status == "succeeded"
    assert TuitionSubscription.objects.get(pk=subscription.pk).status == "active"
    assert (
        stripe_server.request("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")["status"] == "active"
    )
    assert family_balance_cents(family_id=family.pk) == 0
    assert Enrollment.objects.get(pk=enrollment.pk).status == "active"


def test_a_retry_that_raises_is_recorded_and_the_families_after_it_are_still_retried(
    stripe_server,
    plan,
    django_capture_on_commit_callbacks,
    school,
):
    """Before each retry had its own transaction and run record, the second family's error left
    billing_retry_due and the third family was never retried."""
    families = [ParentFactory(email=f"parent{n}@example.com").family for n in range(3)]
    for family in families:
        start(family, plan, stripe_server.card(DECLINES), django_capture_on_commit_callbacks)
        payment_method_update(family=family, payment_method_id=stripe_server.card(GOOD))
    first, broken, last = families
    # The broken family's invoice id points to an invoice the Stripe server does not have: Stripe answers 404.
    Payment.objects.filter(family=broken).update(stripe_invoice_id="in_not_on_the_server")

    with django_capture_on_commit_callbacks(execute=True):
        retried = billing_retry_due()

    assert [failure.family_id for failure in retried] == [first.pk, last.pk]
    status = dict(PaymentFailure.objects.values_list("family_id", "status"))
    assert status == {first.pk: "recovered", broken.pk: "open", last.pk: "recovered"}
    assert PaymentFailure.objects.get(family=broken).attempts == 1  # its own transaction rolled back
    failed = PipelineRun.objects.get(pipeline="billing_retry", status="failed")
    broken_failure = PaymentFailure.objects.get(family=broken)
    assert failed.reference == f"payment_failure:{broken_failure.pk}"
    assert failed.error.startswith("StripeRefused: Stripe refused to retry the invoice")
    assert failed.failed_step == "retry_payment"
    assert PipelineRun.objects.filter(pipeline="billing_retry", status="succeeded").count() == 2


def test_after_the_last_retry_the_enrollment_is_paused_and_its_slot_freed(
    stripe_server,
    family,
    plan,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.BILLING_RETRY_DAYS = [1]
    teacher = TeacherFactory()
    AvailabilityFactory(teacher=teacher, weekday=0, start_time="16:00", end_time="18:00")
    student = StudentFactory(family=family, teacher=teacher)
    enrollment = EnrollmentFactory(student=student, tuition_plan=plan, status="active")
    monday = date.today() + timedelta(days=(7 - date.today().weekday()) % 7 + 7)
    start_at = datetime.combine(monday, time(16), tzinfo=ZoneInfo("America/Toronto"))
    lesson = Lesson.objects.create(
        teacher=teacher, student=student, start_at=start_at, end_at=start_at + timedelta(minutes=30)
    )
    start(family, plan, stripe_server.card(DECLINES), django_capture_on_commit_callbacks, enrollment)

    with django_capture_on_commit_callbacks(execute=True):
        billing_retry_due(now=timezone.now() + timedelta(days=2))

    assert PaymentFailure.objects.get(family=family).status == "gave_up"
    assert Enrollment.objects.get(pk=enrollment.pk).status == "paused"
    assert Lesson.objects.get(pk=lesson.pk).status == "cancelled"
    assert any("paused" in m.subject.lower() for m in mail.outbox if m.to == ["parent@example.com"])


def test_a_task_killed_after_stripe_answered_creates_nothing_twice(stripe_server, family, plan):
    subscription = TuitionSubscription.objects.create(family=family, tuition_plan=plan)
    card = stripe_server.card(GOOD)
    # The first run reached Stripe and died before storing anything.
    lost_customer = stripe_gateway.customer_create(family_id=family.pk, email="parent@example.com", name=family.name)
    stripe_gateway.payment_method_attach(family_id=family.pk, customer_id=lost_customer, payment_method_id=card)
    BillingProfile.objects.create(family=family, stripe_customer_id=lost_customer, default_payment_method_id=card)
    lost_sub = stripe_gateway.subscription_create(
        subscription_id=subscription.pk,
        customer_id=lost_customer,
        price_id=plan.stripe_price_id,
        payment_method_id=card,
    ).id
    BillingProfile.objects.filter(family=family).update(stripe_customer_id=None)

    billing_pipeline_run(subscription_id=subscription.pk, payment_method_id=card)
    billing_pipeline_run(subscription_id=subscription.pk, payment_method_id=card)  # and once more

    assert BillingProfile.objects.get(family=family).stripe_customer_id == lost_customer
    assert TuitionSubscription.objects.get(pk=subscription.pk).stripe_subscription_id == lost_sub
    assert len(stripe_server.list("customers")) == 1
    assert len(stripe_server.list("subscriptions")) == 1


def test_a_familys_stripe_customer_is_made_once_and_stored(stripe_server, family):
    first = billing_profile_customer_ensure(family=family)
    again = billing_profile_customer_ensure(family=family)  # a retried step, or a card update after billing

    assert first.stripe_customer_id and again.stripe_customer_id == first.stripe_customer_id
    assert BillingProfile.objects.get(family=family).stripe_customer_id == first.stripe_customer_id
    assert [c["id"] for c in stripe_server.list("customers")] == [first.stripe_customer_id]


def test_a_lesson_charge_succeeds_or_fails_like_tuition(stripe_server, family, django_capture_on_commit_callbacks):
    teacher = TeacherFactory()
    AvailabilityFactory(teacher=teacher, weekday=0, start_time="16:00", end_time="18:00")
    student = StudentFactory(family=family, teacher=teacher)
    start_at = timezone.now() + timedelta(days=3)
    lesson = Lesson.objects.create(
        teacher=teacher,
        student=student,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=30),
        kind="demo",
        payment_status="due",
    )
    payment_method_update(family=family, payment_method_id=stripe_server.card(GOOD))
    with django_capture_on_commit_callbacks(execute=True):
        paid = lesson_charge(lesson=lesson, amount_cents=3_500)
    assert paid.status == "succeeded" and paid.stripe_payment_intent_id.startswith("pi_")
    assert Lesson.objects.get(pk=lesson.pk).payment_status == "paid"

    payment_method_update(family=family, payment_method_id=stripe_server.card(DECLINES))
    with django_capture_on_commit_callbacks(execute=True):
        failed = lesson_charge(lesson=lesson, amount_cents=3_500)
    assert failed.status == "failed" and failed.failure_reason == "Your card was declined."
    assert Lesson.objects.get(pk=lesson.pk).payment_status == "failed"
    assert PaymentFailure.objects.filter(payment=failed, status="open").exists()


def test_billing_starts_with_the_first_regular_lesson_and_prorates_the_first_month(
    stripe_server,
    family,
    plan,
    django_capture_on_commit_callbacks,
):
    zone = ZoneInfo("America/Toronto")
    in_three_weeks = timezone.localdate(timezone=zone) + timedelta(weeks=3)
    monday = in_three_weeks - timedelta(days=in_three_weeks.weekday())
    first_lesson = datetime.combine(monday, time(16, 0), tzinfo=zone)  # a Monday in the future
    next_first = (monday.replace(day=1) + timedelta(days=32)).replace(day=1)
    with django_capture_on_commit_callbacks(execute=True):
        subscription = billing_start(
            family=family, tuition_plan=plan, starts_at=first_lesson, payment_method_id=stripe_server.card(GOOD)
        )
    subscription.refresh_from_db()

    assert subscription.status == "trialing"
    assert not Payment.objects.filter(family=family).exists()  # nothing charged before the first lesson
    theirs = stripe_server.request("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    assert theirs["trial_end"] == int(first_lesson.timestamp())
    anchor = datetime.fromtimestamp(theirs["billing_cycle_anchor"], tz=zone)
    assert anchor == datetime.combine(next_first, time.min, tzinfo=zone)  # then the 1st of each month


def test_a_weekly_plan_starts_with_the_first_lesson_without_an_anchor(
    stripe_server, family, school, django_capture_on_commit_callbacks
):
    weekly = TuitionPlanFactory(interval="week", price_cents=3_500)
    catalog_sync()
    weekly.refresh_from_db()
    first_lesson = timezone.now() + timedelta(days=9)
    with django_capture_on_commit_callbacks(execute=True):
        subscription = billing_start(
            family=family, tuition_plan=weekly, starts_at=first_lesson, payment_method_id=stripe_server.card(GOOD)
        )
    subscription.refresh_from_db()
    theirs = stripe_server.request("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    assert theirs["trial_end"] == int(first_lesson.timestamp()) and theirs["status"] == "trialing"
    assert theirs["plan"]["interval"] == "week"


def test_the_api_starts_billing_for_a_family_and_the_pipeline_runs_in_the_background(
    stripe_server,
    family,
    plan,
    django_capture_on_commit_callbacks,
):
    admin = UserFactory(role="admin", is_staff=True)
    api = APIClient()
    api.force_authenticate(admin)
    no_card = api.post("/api/v1/billing/subscriptions/", {"family": family.pk, "tuition_plan": plan.pk}, format="json")
    assert no_card.status_code == 400 and "payment_method_id" in no_card.json()["fields"]

    body = {"family": family.pk, "tuition_plan": plan.pk, "payment_method_id": stripe_server.card(GOOD)}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/billing/subscriptions/", body, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    assert response.status_code == 202 and response.json()["status"] == "incomplete"  # accepted; runs after commit
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post("/api/v1/billing/subscriptions/", body, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    assert again.json()["id"] == response.json()["id"]
    assert api.get(f"/api/v1/billing/subscriptions/{response.json()['id']}/").json()["status"] == "active"
    assert TuitionSubscription.objects.count() == 1 and len(stripe_server.list("subscriptions")) == 1
