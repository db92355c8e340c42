"""Tuition's lines at Stripe, over HTTP against the local Stripe server: the items and coupons it holds, its
invoices, and our ledger, amount by amount."""

import json
from datetime import datetime, time, timedelta
from itertools import count

import pytest
from django.test import Client

from billing.models import LedgerEntry, Payment, StripeEvent, TuitionCharge, TuitionSubscription
from billing.services.catalog import catalog_sync
from billing.services.subscriptions import billing_start, subscription_charge_now
from billing.tuition import month_bill
from billing.tuition.lines import LineKind
from billing.webhooks import stripe_event_process
from cedarheights.selectors import school_settings_get
from enrollment.tuition import next_month_first
from scheduling.selectors import local_midnight
from tests.billing.stripe_events import deliver, event, sign
from tests.factories import GOOD_CARD
from tests.tuition.conftest import enroll

pytestmark = pytest.mark.django_db
EVENT_IDS = count(1)


def first_lesson_at(enrollment) -> datetime:
    lesson = enrollment.student.lessons.order_by("start_at").first()
    return lesson.start_at


def bill_through_stripe(enrollment, card, capture) -> TuitionSubscription:
    with capture(execute=True):
        subscription = billing_start(
            family=enrollment.student.family,
            tuition_plan=enrollment.tuition_plan,
            enrollment=enrollment,
            starts_at=first_lesson_at(enrollment),
            payment_method_id=card,
        )
    subscription.refresh_from_db()
    return subscription


def test_a_mid_month_start_with_a_sibling_is_invoiced_by_lessons_with_the_coupon_and_the_ledger_matches_stripe(
    local_stripe, term, teacher, family, term_plan, django_capture_on_commit_callbacks
):
    """Two children start in the middle of the term's first month. Made to fail by leaving the coupons off the
    first month's item (Stripe then charges the second child in full) and by prorating by days."""
    catalog_sync()
    mid_month = term.start_date + timedelta(days=14)
    older = enroll(family=family, teacher=teacher, plan=term_plan, weekday=0, starts_on=mid_month)
    younger = enroll(family=family, teacher=teacher, plan=term_plan, weekday=1, starts_on=mid_month, at=time(17))
    card = local_stripe.card(GOOD_CARD)
    subscriptions = [bill_through_stripe(e, card, django_capture_on_commit_callbacks) for e in (older, younger)]
    bill = month_bill(family=family, month=term.start_date)

    # Our lines: each child the lessons left in the month × $35; the lower-priced child −10 %.
    first, second = sorted((bill.of(e.pk) for e in (older, younger)), key=lambda m: -m.base.amount_cents)
    assert first.base.kind == second.base.kind == LineKind.FIRST_MONTH
    assert first.base.lessons == len(first.enrollment.student.lessons.filter(start_at__lt=_next_first_at(term)))
    assert not first.discounts and [line.kind for line in second.discounts] == [LineKind.SIBLING]
    assert second.discounts[0].amount_cents == -((second.base.amount_cents + 5) // 10)
    assert [s.status for s in subscriptions] == ["trialing", "trialing"]
    assert {c["id"] for c in local_stripe.list("coupons")} == {"cedar-sibling-10"}
    theirs = local_stripe.request("GET", f"/v1/subscriptions/{subscriptions[1].stripe_subscription_id}")
    assert theirs["billing_cycle_anchor"] == int(local_midnight(_next_first(term), _zone()).timestamp())

    # The first lesson comes (the owner charges now): Stripe's invoice is the month's lessons, with the coupon.
    payments = []
    for subscription in subscriptions:
        with django_capture_on_commit_callbacks(execute=True):
            payments.append(subscription_charge_now(subscription=subscription))
    fee_lines = []  # the family's registration fee of the school year joins the first of the invoices
    for enrollment, payment in zip((older, younger), payments, strict=True):
        ours = bill.of(enrollment.pk)
        charge = TuitionCharge.objects.get(enrollment=enrollment, kind="first_month")
        invoice = local_stripe.request("GET", f"/v1/invoices/{payment.stripe_invoice_id}")
        fees = [line for line in invoice["lines"]["data"] if line["metadata"].get("family_fee_id")]
        [line] = [line for line in invoice["lines"]["data"] if line not in fees]
        fee_lines += fees
        assert line["id"] and line["amount"] == ours.base.amount_cents == charge.base_cents
        assert [d["amount"] for d in line["discount_amounts"]] == [-d.amount_cents for d in ours.discounts]
        fees_cents = sum(fee["amount"] for fee in fees)
        assert invoice["total"] - fees_cents == ours.total_cents == charge.amount_cents
        assert payment.amount_cents == invoice["total"] and payment.status == Payment.Status.SUCCEEDED
        # The invoice's tuition is its ledger charge; the fee was charged on its own line when it was claimed.
        ledger = LedgerEntry.objects.get(payment=payment, kind="charge")
        assert ledger.amount_cents == invoice["total"] - fees_cents
    assert [fee["amount"] for fee in fee_lines] == [school_settings_get().registration_fee_cents]
    # Retrying the billing run adds no second item.
    assert len(local_stripe.list("invoiceitems")) == 0  # none pending: both joined their invoices
    assert TuitionCharge.objects.count() == 2


def test_a_per_lesson_renewal_is_brought_to_the_months_lessons_once_however_often_invoice_created_arrives(
    local_stripe, term, teacher, family, per_lesson_plan, django_capture_on_commit_callbacks
):
    """Made to fail by dropping the `TuitionCharge` row's uniqueness check (a second delivery adds a second item)."""
    catalog_sync()
    enrollment = enroll(family=family, teacher=teacher, plan=per_lesson_plan, weekday=2, starts_on=term.start_date)
    with django_capture_on_commit_callbacks(execute=True):
        subscription = billing_start(
            family=family,
            tuition_plan=per_lesson_plan,
            enrollment=enrollment,
            payment_method_id=local_stripe.card(GOOD_CARD),
        )
    subscription.refresh_from_db()
    stripe_id = subscription.stripe_subscription_id
    period_start = int(local_midnight(term.start_date, _zone()).timestamp())
    draft = local_stripe.request("POST", f"/_config/subscriptions/{stripe_id}/renew", {"period_start": period_start})
    assert draft["status"] == "draft" and draft["total"] == 0  # the per-lesson item is 0: lessons come as an item

    client = Client()
    for event_id in ("evt_renewal_1", "evt_renewal_1", "evt_renewal_2"):  # a replay, then a second delivery
        payload = event("invoice.created", draft, event_id=event_id)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, payload, sign(payload)).status_code == 200
    for stored in StripeEvent.objects.filter(type="invoice.created"):
        stripe_event_process(event_id=stored.pk)  # processed again: nothing more

    ours = month_bill(family=family, month=term.start_date).of(enrollment.pk)
    invoice = local_stripe.request("POST", f"/v1/invoices/{draft['id']}/pay")
    assert StripeEvent.objects.filter(type="invoice.created").count() == 2
    assert TuitionCharge.objects.filter(enrollment=enrollment, kind="per_lesson_adjust").count() == 1
    assert len(invoice["lines"]["data"]) == 2  # the subscription's 0 line and one item
    assert ours.base.lessons >= 4 and invoice["total"] == ours.total_cents == ours.base.lessons * 4_000
    assert json.loads(json.dumps(invoice))["status"] == "paid"


def _zone():
    return school_settings_get().zone


def _next_first(term):
    return next_month_first(term.start_date)


def _next_first_at(term):
    return local_midnight(_next_first(term), _zone())
