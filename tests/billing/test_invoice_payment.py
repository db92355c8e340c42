"""invoice_payment_ensure: our one payment for a Stripe invoice, described by its plan unless told otherwise."""

import pytest

from billing.models import Payment, TuitionSubscription
from billing.services.subscriptions import invoice_payment_ensure
from tests.factories import FamilyFactory, TuitionPlanFactory

pytestmark = pytest.mark.django_db


def test_an_invoices_payment_is_made_once_and_described_by_its_plan_unless_a_description_is_given():
    plan = TuitionPlanFactory(name="Piano 30 min, monthly")
    subscription = TuitionSubscription.objects.create(family=FamilyFactory(), tuition_plan=plan)

    renewal = invoice_payment_ensure(subscription=subscription, invoice_id="in_1", amount_cents=14_000)
    described = invoice_payment_ensure(
        subscription=subscription, invoice_id="in_2", amount_cents=14_000, description="Piano: Ava, November"
    )
    again = invoice_payment_ensure(
        subscription=subscription, invoice_id="in_2", amount_cents=1, description="Something else"
    )

    assert renewal.description == "Piano 30 min, monthly"
    assert again.pk == described.pk and again.description == "Piano: Ava, November"
    assert Payment.objects.count() == 2
