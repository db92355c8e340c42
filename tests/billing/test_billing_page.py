"""The parent's billing page: only their own family's, card updates through Stripe.js's payment method."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import BillingProfile, Payment
from billing.services.ledger import payment_record_succeeded
from tests.factories import ParentFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_parent_sees_their_payments_and_receipts_and_no_one_elses(school):
    mine, theirs = ParentFactory(), ParentFactory()
    paid = payment_record_succeeded(
        payment=Payment.objects.create(family=mine.family, amount_cents=14_000, description="Piano, December")
    )
    other = payment_record_succeeded(
        payment=Payment.objects.create(family=theirs.family, amount_cents=9_900, description="Guitar, December")
    )
    page = signed_in(mine).get("/billing/").content.decode()
    assert "Piano, December" in page and "$140.00 CAD" in page and "Guitar, December" not in page
    assert signed_in(mine).get(f"/billing/receipts/{paid.receipt.number}/").status_code == 200
    assert signed_in(mine).get(f"/billing/receipts/{other.receipt.number}/").status_code == 404
    assert signed_in(mine).get("/billing/receipts/nonsense/").status_code == 404
    assert Client().get("/billing/").status_code == 302  # sign in first


def test_a_payment_is_dated_when_it_was_paid_as_its_receipt_is():
    """The page showed the day the row was written (the demo's November payment read 'today', its receipt the
    1st of November)."""
    parent = ParentFactory()
    paid_at = timezone.now() - timedelta(days=40)
    paid = payment_record_succeeded(
        payment=Payment.objects.create(family=parent.family, amount_cents=14_000, description="Piano"),
        paid_at=paid_at,
    )
    shown = f"{timezone.localtime(paid_at):%B} {timezone.localtime(paid_at).day}, {timezone.localtime(paid_at).year}"
    page = signed_in(parent).get("/billing/").content.decode()
    assert shown in page
    assert shown in signed_in(parent).get(f"/billing/receipts/{paid.receipt.number}/").content.decode()


def test_the_card_form_loads_stripe_js_from_the_configured_server(school, settings):
    settings.STRIPE_JS_URL = "http://127.0.0.1:9999/js.stripe.com/v3/"
    page = signed_in(ParentFactory()).get("/billing/").content.decode()
    assert '<script src="http://127.0.0.1:9999/js.stripe.com/v3/"></script>' in page
    assert "createPaymentMethod" in page


def test_a_new_card_from_stripe_js_becomes_the_default(stripe_server, school):
    parent = ParentFactory()
    method = stripe_server.card("4242424242424242")
    response = signed_in(parent).post("/billing/card/", {"payment_method_id": method}, follow=True)
    assert "Your card is saved" in response.content.decode()
    profile = BillingProfile.objects.get(family=parent.family)
    assert (profile.default_payment_method_id, profile.card_last4) == (method, "4242")
    assert (
        stripe_server.request("GET", f"/v1/customers/{profile.stripe_customer_id}")["invoice_settings"][
            "default_payment_method"
        ]
        == method
    )


def test_a_garbled_card_is_refused_with_a_message_and_nothing_saved(stripe_server, school):
    parent = ParentFactory()
    response = signed_in(parent).post("/billing/card/", {"payment_method_id": "x\x00y"}, follow=True)
    assert "could not be read" in response.content.decode()
    response = signed_in(parent).post("/billing/card/", {"payment_method_id": "pm_does_not_exist"}, follow=True)
    assert "refused" in response.content.decode()
    assert not BillingProfile.objects.filter(family=parent.family, default_payment_method_id__gt="").exists()
