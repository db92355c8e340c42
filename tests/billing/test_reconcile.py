from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import Payment, TuitionSubscription
from billing.services.catalog import catalog_sync
from billing.services.subscriptions import billing_start
from tests.factories import ParentFactory, TuitionPlanFactory

pytestmark = pytest.mark.django_db


def test_reconcile_lists_mismatches_and_repairs_them_with_commit(
    stripe_server, school, django_capture_on_commit_callbacks
):
    family = ParentFactory().family
    plan = TuitionPlanFactory(price_cents=14_000)
    catalog_sync()
    with django_capture_on_commit_callbacks(execute=True):
        subscription = billing_start(
            family=family,
            tuition_plan=plan.__class__.objects.get(pk=plan.pk),
            payment_method_id=stripe_server.card("4242424242424242"),
        )
    assert "0 mismatch" in _run()

    # Our records drift: a lost webhook left the payment pending and the subscription incomplete.
    Payment.objects.filter(family=family).update(status="pending")
    TuitionSubscription.objects.filter(pk=subscription.pk).update(status="incomplete")
    listed = _run()
    assert "2 mismatch" in listed and "paid at Stripe" in listed and "status here incomplete" in listed
    assert Payment.objects.get(family=family).status == "pending"  # listing changes nothing

    assert "repaired:" in _run("--commit")
    assert Payment.objects.get(family=family).status == "succeeded"
    assert TuitionSubscription.objects.get(pk=subscription.pk).status == "active"
    assert "0 mismatch" in _run()


def _run(*args) -> str:
    out = StringIO()
    call_command("billing_reconcile", *args, stdout=out, stderr=StringIO())
    return out.getvalue()
