"""Payments settled at the same instant: receipt numbers without gaps, and Stripe's duplicate deliveries arriving
together processed once (PostgreSQL, real threads on their own connections)."""

import functools
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from billing.models import LedgerEntry, Payment, Receipt, StripeEvent, TuitionSubscription
from billing.services.ledger import receipt_issue
from cedarheights.models import EmailLog
from tests.billing.stripe_events import deliver, event, invoice, sign
from tests.concurrency import at_once
from tests.factories import ParentFactory, PaymentFactory, TuitionPlanFactory

# As in tests/billing: whatever reaches for Stripe reaches the local Stripe server.
pytestmark = pytest.mark.usefixtures("local_stripe")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_receipt_numbers_have_no_gaps_under_concurrency():
    payments = [PaymentFactory(status="succeeded") for _ in range(10)]

    issued = at_once([functools.partial(receipt_issue, payment=p) for p in payments])

    assert not [r for r in issued if isinstance(r, Exception)], issued
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == list(range(1, 11))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_events_each_delivered_3_times_concurrently_are_processed_exactly_once(school):
    parent = ParentFactory(email="parent@example.com")
    TuitionSubscription.objects.create(
        family=parent.family,
        tuition_plan=TuitionPlanFactory(price_cents=14_000),
        stripe_subscription_id="sub_test_1",
        status="active",
    )
    deliveries = []
    for n in range(200):
        payload = event("invoice.paid", invoice(f"in_{n}"), event_id=f"evt_{n}")
        deliveries += [(payload, sign(payload))] * 3

    def post(delivery):
        try:
            return deliver(Client(), *delivery).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(post, deliveries))

    assert statuses == [200] * 600
    assert StripeEvent.objects.filter(status="processed").count() == 200
    assert Payment.objects.filter(status="succeeded").count() == 200
    assert LedgerEntry.objects.count() == 400  # one charge and one payment per invoice
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == list(range(1, 201))
    assert EmailLog.objects.filter(template="receipt").count() == 200
    assert len(mail.outbox) == 200
