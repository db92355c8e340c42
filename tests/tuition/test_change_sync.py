"""A change of plan from a date, made by the school through the API: the rest of its month adjusted by one invoice
item, the Stripe subscription item on the new plan's price from the next invoice, and a replay adding nothing; over
HTTP against the local Stripe server."""

from datetime import timedelta
from uuid import uuid4

import pytest
from rest_framework.test import APIClient

from billing.models import TuitionCharge, TuitionPrice, TuitionSubscription
from billing.services.catalog import catalog_sync
from billing.services.subscriptions import subscription_charge_now
from billing.tuition import month_bill
from enrollment.models import EnrollmentChange
from enrollment.signals import enrollment_changed
from enrollment.tuition import month_first
from tests.factories import GOOD_CARD, TuitionPlanFactory
from tests.tuition.conftest import enroll
from tests.tuition.test_item_sync import first_whole_month, renew
from tests.tuition.test_stripe_invoices import bill_through_stripe

pytestmark = pytest.mark.django_db


def test_a_change_of_plan_from_a_date_adjusts_the_month_once_and_moves_the_item_to_the_new_price(
    local_stripe, term, teacher, family, term_plan, owner_user, django_capture_on_commit_callbacks
):
    """Made to fail by counting the old side from the enrollment as already changed (its plan and lessons the new
    ones: the item gave back $100 instead of charging $30) and by leaving the item on the old plan's price."""
    dearer = TuitionPlanFactory(name="Piano 45, term-priced", price_cents=20_000, lesson_rate_cents=5_000)
    catalog_sync()
    enrollment = enroll(family=family, teacher=teacher, plan=term_plan, weekday=0, starts_on=term.start_date)
    subscription = bill_through_stripe(enrollment, local_stripe.card(GOOD_CARD), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_charge_now(subscription=subscription)
    first_lesson = enrollment.student.lessons.order_by("start_at").first().start_at.date()
    effective_on = first_lesson + timedelta(days=14)
    lessons_left = sum(
        1 for n in range(0, 31, 7) if month_first(effective_on + timedelta(days=n)) == month_first(effective_on)
    )
    api = APIClient()
    api.force_authenticate(owner_user)
    url, key = f"/api/v1/enrollments/{enrollment.pk}/change/", str(uuid4())
    body = {"effective_on": effective_on.isoformat(), "tuition_plan": dearer.pk}

    for _ in range(2):  # the same change asked twice (a retried request): made once
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 201, response.content

    [charge] = TuitionCharge.objects.filter(enrollment=enrollment, kind=TuitionCharge.Kind.CHANGE)
    assert charge.month == month_first(effective_on)
    assert charge.base_cents == lessons_left * (5_000 - 3_500) and charge.stripe_invoice_item_id
    pending = [i for i in local_stripe.list("invoiceitems") if i["metadata"].get("kind") == "change_adjust"]
    assert [i["amount"] for i in pending] == [charge.base_cents]
    subscription.refresh_from_db()
    month = first_whole_month(enrollment)
    ours = month_bill(family=family, month=month).of(enrollment.pk)
    price = TuitionPrice.objects.get(tuition_plan=dearer, amount_cents=ours.base.amount_cents)
    assert subscription.item_terms == {"price": price.stripe_price_id, "coupons": []}
    assert subscription.tuition_plan == dearer and subscription.item_syncs == 1

    # The signal replayed (a receiver run again): no second item, no second change at Stripe.
    change = EnrollmentChange.objects.get(enrollment=enrollment)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_changed.send(
            sender=type(enrollment),
            enrollment=enrollment,
            effective_on=effective_on,
            before=change.before,
            after=change.after,
        )
    assert TuitionCharge.objects.filter(enrollment=enrollment, kind=TuitionCharge.Kind.CHANGE).count() == 1
    assert TuitionSubscription.objects.get(pk=subscription.pk).item_syncs == 1

    # The next renewal: the new plan's monthly fee, and the rest of the change's month on the same invoice.
    invoice = renew(local_stripe, subscription, month, django_capture_on_commit_callbacks)
    lines = {line["type"]: line["amount"] for line in invoice["lines"]["data"]}
    assert lines == {"subscription": ours.base.amount_cents, "invoiceitem": charge.base_cents}
    assert invoice["total"] == ours.total_cents + charge.amount_cents
