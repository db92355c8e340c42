"""Against the local Stripe server over HTTP: a withdrawal with notice stops the subscription at the right date and
gives back what was paid beyond the last lesson (a credit on the customer's balance, or a refund); a month not
invoiced yet gets a line taking those lessons off; a vacation pause sets Stripe's `pause_collection` until the resume
date and clears it when the school ends the pause."""

from datetime import timedelta

import pytest

from billing.models import BillingProfile, LedgerEntry, Payment, TuitionSubscription, WithdrawalSettlement
from billing.services.catalog import catalog_sync
from billing.services.subscriptions import billing_start
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import school_settings_update
from enrollment.lesson_prices import lesson_price_cents
from enrollment.lifecycle.lessons import local_midnight
from enrollment.lifecycle.pauses import enrollment_pause, enrollment_pause_end
from enrollment.lifecycle.withdrawals import enrollment_withdraw
from enrollment.tuition import next_month_first
from scheduling.outcomes import Outcome
from tests.factories import GOOD_CARD

pytestmark = pytest.mark.django_db

Remainder = WithdrawalSettlement.Remainder


def billed(child, stripe, capture, *, starts_at=None) -> TuitionSubscription:
    """The child's tuition at the local Stripe server: charged now for a month (no `starts_at`), or waiting in a
    trial for its first lesson."""
    catalog_sync()
    child.enrollment.tuition_plan.refresh_from_db()
    with capture(execute=True):
        subscription = billing_start(
            family=child.student.family,
            tuition_plan=child.enrollment.tuition_plan,
            enrollment=child.enrollment,
            payment_method_id=stripe.card(GOOD_CARD),
            starts_at=starts_at,
        )
    subscription.refresh_from_db()
    return subscription


def withdraw(child, capture, **kwargs):
    with capture(execute=True):
        return enrollment_withdraw(actor=None, enrollment=child.enrollment, notice_given_on=school_today(), **kwargs)


def released_between(child, start, end) -> int:
    return sum(1 for lesson in child.lessons() if lesson.outcome == Outcome.RELEASED and start <= lesson.start_at < end)


@pytest.fixture
def short_notice(school):
    """A week and a day: the last lesson falls inside the month paid for today, whatever today's date."""
    return school_settings_update(school_settings=school_settings_get(), withdrawal_notice_days=8)


@pytest.mark.parametrize("choice", ["credit", "refund"])
def test_a_withdrawal_stops_the_paid_subscription_at_its_period_end_and_gives_back_the_lessons_after_the_last(
    child, local_stripe, django_capture_on_commit_callbacks, short_notice, choice
):
    """The amount is what the lessons released inside the paid period were worth, at the plan's lesson rate."""
    subscription = billed(child, local_stripe, django_capture_on_commit_callbacks)
    assert subscription.status == "active" and subscription.current_period_end is not None
    payment = Payment.objects.get(family=child.student.family)
    enrollment = withdraw(child, django_capture_on_commit_callbacks, unused_lessons=choice)
    settlement = WithdrawalSettlement.objects.get(enrollment=enrollment)
    after_last = local_midnight(enrollment.ends_on + timedelta(days=1))
    unused = released_between(child, after_last, subscription.current_period_end)
    assert unused >= 2
    assert settlement.unused_lessons == unused and settlement.remainder == choice
    assert settlement.amount_cents == unused * lesson_price_cents(enrollment=enrollment)
    assert settlement.settled_at is not None and settlement.stripe_object_id
    at_stripe = local_stripe.request("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    assert at_stripe["cancel_at"] == int(subscription.current_period_end.timestamp())
    customer_id = BillingProfile.objects.get(family=child.student.family).stripe_customer_id
    customer = local_stripe.request("GET", f"/v1/customers/{customer_id}")
    if choice == "credit":
        assert customer["balance"] == -settlement.amount_cents
        entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.CREDIT, family=child.student.family)
    else:
        assert customer["balance"] == 0
        refunds = local_stripe.list("refunds", payment_intent=payment.stripe_payment_intent_id)
        assert [refund["amount"] for refund in refunds] == [settlement.amount_cents]
        payment.refresh_from_db()
        assert payment.amount_refunded_cents == settlement.amount_cents
        entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND, family=child.student.family)
    assert entry.amount_cents == settlement.amount_cents and settlement.ledger_entry == entry


def test_settling_again_repeats_nothing(child, local_stripe, django_capture_on_commit_callbacks, short_notice):
    from billing.services.lifecycle import withdrawal_settle

    billed(child, local_stripe, django_capture_on_commit_callbacks)
    enrollment = withdraw(child, django_capture_on_commit_callbacks, unused_lessons="credit")
    settlement = WithdrawalSettlement.objects.get(enrollment=enrollment)
    WithdrawalSettlement.objects.filter(pk=settlement.pk).update(settled_at=None, stripe_cancel_set_at=None)
    withdrawal_settle(settlement.pk)  # a task delivered twice: the same keys, the same objects
    customer_id = BillingProfile.objects.get(family=child.student.family).stripe_customer_id
    assert local_stripe.request("GET", f"/v1/customers/{customer_id}")["balance"] == -settlement.amount_cents
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CREDIT).count() == 1


def test_a_month_not_invoiced_yet_gets_a_line_taking_off_its_lessons_after_the_last(
    child, local_stripe, django_capture_on_commit_callbacks
):
    """The notice ends nine days before a month's end, so that month keeps a Monday after the last lesson."""
    today = school_today()
    deadline = next_month_first(next_month_first(today)) - timedelta(days=10)
    school_settings_update(school_settings=school_settings_get(), withdrawal_notice_days=(deadline - today).days)
    first = child.to_come()[0]
    subscription = billed(child, local_stripe, django_capture_on_commit_callbacks, starts_at=first.start_at)
    assert subscription.status == "trialing"
    enrollment = withdraw(child, django_capture_on_commit_callbacks)
    settlement = WithdrawalSettlement.objects.get(enrollment=enrollment)
    month_end = local_midnight(next_month_first(enrollment.ends_on))
    unused = released_between(child, local_midnight(enrollment.ends_on + timedelta(days=1)), month_end)
    assert settlement.cancel_at == month_end and settlement.unused_lessons == unused
    at_stripe = local_stripe.request("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    assert at_stripe["cancel_at"] == int(month_end.timestamp())
    assert unused >= 1 and settlement.remainder == Remainder.INVOICE_ITEM
    items = local_stripe.list("invoiceitems", customer=at_stripe["customer"])
    assert [item["amount"] for item in items if item["id"] == settlement.stripe_object_id] == [-settlement.amount_cents]
    assert not LedgerEntry.objects.filter(kind__in=[LedgerEntry.Kind.CREDIT, LedgerEntry.Kind.REFUND]).exists()


def test_a_pause_sets_pause_collection_until_the_resume_date_and_ending_it_resumes(
    child, local_stripe, django_capture_on_commit_callbacks
):
    subscription = billed(child, local_stripe, django_capture_on_commit_callbacks)
    resumes_on = school_today() + timedelta(days=21)
    with django_capture_on_commit_callbacks(execute=True):
        pause = enrollment_pause(
            actor=None, enrollment=child.enrollment, starts_on=school_today(), resumes_on=resumes_on
        )
    path = f"/v1/subscriptions/{subscription.stripe_subscription_id}"
    assert local_stripe.request("GET", path)["pause_collection"] == {
        "behavior": "void",
        "resumes_at": int(local_midnight(resumes_on).timestamp()),
    }
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_pause_end(actor=None, pause=pause)
    assert local_stripe.request("GET", path)["pause_collection"] is None
