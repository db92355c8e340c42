"""Stripe's subscription items follow our lines when discounts change (a sibling joins, a family or staff discount,
a promotion code), so the next renewal says what our month bill says; over HTTP against the local Stripe server."""

from datetime import time

import pytest
from django.test import Client

from billing.models import PromotionCode, TuitionCharge, TuitionSubscription
from billing.services.catalog import catalog_sync
from billing.services.subscriptions import subscription_charge_now
from billing.services.tuition_discounts import family_discount_remove, family_discount_set, promotion_code_apply
from billing.tuition import month_bill
from billing.tuition.stripe_sync import family_items_sync
from enrollment.tuition import next_month_first
from scheduling.selectors import local_midnight
from tests.billing.stripe_events import deliver, event, sign
from tests.factories import GOOD_CARD, TuitionPlanFactory
from tests.tuition.conftest import enroll
from tests.tuition.test_stripe_invoices import _zone, bill_through_stripe

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_children(local_stripe, term, teacher, family, term_plan, django_capture_on_commit_callbacks):
    """The first child billed alone (its first month charged at its first lesson), then a second child on a dearer
    plan: the second child's billing run ends by bringing the family's other items up to date."""
    dearer = TuitionPlanFactory(name="Piano 45, term-priced", price_cents=20_000, lesson_rate_cents=5_000)
    catalog_sync()
    card = local_stripe.card(GOOD_CARD)
    first = enroll(family=family, teacher=teacher, plan=term_plan, weekday=0, starts_on=term.start_date)
    alone = bill_through_stripe(first, card, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_charge_now(subscription=alone)
    assert alone.item_terms["coupons"] == []  # an only child: no sibling discount
    second = enroll(family=family, teacher=teacher, plan=dearer, weekday=1, starts_on=term.start_date, at=time(17))
    bill_through_stripe(second, card, django_capture_on_commit_callbacks)
    return first, second, TuitionSubscription.objects.get(enrollment=first)


def first_whole_month(enrollment):
    """The month after the first lesson's: the first the subscription's item bills, its first renewal."""
    return next_month_first(enrollment.student.lessons.order_by("start_at").first().start_at.date())


def renew(local_stripe, subscription, month, capture) -> dict:
    """Stripe's renewal of `month` for the subscription, its `invoice.created` delivered to our webhook, then paid."""
    period_start = int(local_midnight(month, _zone()).timestamp())
    draft = local_stripe.request(
        "POST", f"/_config/subscriptions/{subscription.stripe_subscription_id}/renew", {"period_start": period_start}
    )
    payload = event("invoice.created", draft, event_id=f"evt_created_{draft['id']}")
    with capture(execute=True):
        assert deliver(Client(), payload, sign(payload)).status_code == 200
    return local_stripe.request("POST", f"/v1/invoices/{draft['id']}/pay")


def test_a_second_child_puts_the_sibling_coupon_on_the_first_childs_item_and_its_renewal_equals_our_bill(
    local_stripe, two_children, family, django_capture_on_commit_callbacks
):
    """Made to fail by leaving out the billing run's last step (the first child's item keeps no coupon: Stripe's
    renewal charges 10 % more than our bill)."""
    first, second, subscription = two_children
    month = first_whole_month(first)
    ours = month_bill(family=family, month=month)
    assert [line.coupon for line in ours.of(first.pk).discounts] == ["cedar-sibling-10"]  # the lower-priced child
    assert not ours.of(second.pk).discounts
    assert subscription.item_terms["coupons"] == ["cedar-sibling-10"] and subscription.item_syncs == 1

    invoice = renew(local_stripe, subscription, month, django_capture_on_commit_callbacks)
    [line] = invoice["lines"]["data"]
    assert line["type"] == "subscription" and line["amount"] == ours.of(first.pk).base.amount_cents
    assert [d["amount"] for d in line["discount_amounts"]] == [-d.amount_cents for d in ours.of(first.pk).discounts]
    assert invoice["total"] == ours.of(first.pk).total_cents
    assert not TuitionCharge.objects.filter(enrollment=first, month=month).exists()  # nothing left to adjust

    # Idempotent: the items already say our lines, so a second sync asks Stripe nothing.
    assert family_items_sync(family_id=family.pk) == 0
    subscription.refresh_from_db()
    assert subscription.item_syncs == 1


def test_a_staff_discount_and_a_promotion_code_follow_onto_the_items_and_their_removal_too(
    local_stripe, two_children, family, owner_user, django_capture_on_commit_callbacks
):
    """Made to fail by keying every item change alike (Stripe replays the first change's answer, and the renewal
    keeps the sibling coupon alone)."""
    first, second, subscription = two_children
    month = first_whole_month(first)
    code = PromotionCode.objects.create(code="WELCOME5", percent_off=5, duration="forever")
    with django_capture_on_commit_callbacks(execute=True):
        staff = family_discount_set(family=family, kind="staff", percent=20, note="Teaches guitar", actor=owner_user)
    with django_capture_on_commit_callbacks(execute=True):
        promotion_code_apply(code=code, family=family, actor=owner_user, on=month)
    subscription.refresh_from_db()
    promo = f"cedar-promo-{code.pk}"
    assert subscription.item_terms["coupons"] == ["cedar-sibling-10", "cedar-staff-20", promo]
    assert TuitionSubscription.objects.get(enrollment=second).item_terms["coupons"] == ["cedar-staff-20", promo]

    with django_capture_on_commit_callbacks(execute=True):
        family_discount_remove(discount=staff, actor=owner_user)  # back to what it was: a new key, done at Stripe
    subscription.refresh_from_db()
    assert subscription.item_terms["coupons"] == ["cedar-sibling-10", promo]

    ours = month_bill(family=family, month=month).of(first.pk)
    invoice = renew(local_stripe, subscription, month, django_capture_on_commit_callbacks)
    [line] = invoice["lines"]["data"]
    assert [d["coupon"] for d in line["discount_amounts"]] == ["cedar-sibling-10", promo]
    assert [d["amount"] for d in line["discount_amounts"]] == [-d.amount_cents for d in ours.discounts]
    assert invoice["total"] == ours.total_cents
