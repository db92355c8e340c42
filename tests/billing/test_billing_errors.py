"""Billing's errors through the one error body: Stripe out of reach is a 503 to try again (a message on a page, in the
admin or from a command, never a 500 or a trace), and a refused webhook delivery is the API's error body."""

from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import Client

from billing.errors import GatewayUnavailable
from billing.models import BillingProfile, Payment, PaymentFailure, StripeEvent, TuitionSubscription
from billing.services.dunning import payment_failure_open
from billing.services.ledger import payment_record_succeeded
from cedarheights.errors import ServiceUnavailable
from tests.billing.stripe_events import sign
from tests.factories import ParentFactory, PaymentFactory, TuitionPlanFactory
from tests.stripe_server import free_port

pytestmark = pytest.mark.django_db

WEBHOOK = "/billing/stripe/webhook/"


@pytest.fixture
def stripe_out_of_reach(settings):
    settings.STRIPE_API_HOST = f"http://127.0.0.1:{free_port()}"  # nothing listens there


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_stripe_out_of_reach_is_the_cores_503_to_try_again():
    """Failed before the fix: it was a bare Exception, which the API's exception handler answered with a 500."""
    error = GatewayUnavailable("Stripe did not answer")
    assert isinstance(error, ServiceUnavailable)
    assert (error.status, error.code, error.message) == (503, "service_unavailable", "Stripe did not answer")
    assert error.retry_after > 0


class TestStripeOutOfReach:
    """Every interface of billing that calls Stripe says so and keeps nothing."""

    def test_the_parents_card_page_says_the_card_was_not_saved(self, school, stripe_out_of_reach):
        parent = ParentFactory()
        client = Client()
        client.force_login(parent)
        response = client.post("/billing/card/", {"payment_method_id": "pm_card_visa"})
        assert response.status_code == 302
        assert [message.startswith("The card was not saved: ") for message in said(response)] == [True]
        assert not BillingProfile.objects.filter(family=parent.family).exclude(default_payment_method_id="").exists()

    def test_a_partial_refund_in_the_admin_is_an_error_on_the_form(self, owner_client, stripe_out_of_reach):
        payment = payment_record_succeeded(payment=PaymentFactory(stripe_payment_intent_id="pi_1"))
        response = owner_client.post(f"/admin/billing/payment/{payment.pk}/refund/", {"amount": "10.00", "reason": "x"})
        assert response.status_code == 200 and response.context["form"].errors["amount"]
        assert Payment.objects.get(pk=payment.pk).amount_refunded_cents == 0

    def test_the_refund_action_is_a_message(self, owner_client, stripe_out_of_reach):
        payment = payment_record_succeeded(payment=PaymentFactory(stripe_payment_intent_id="pi_1"))
        response = owner_client.post(
            "/admin/billing/payment/", {"action": "refund_in_full", "_selected_action": [payment.pk]}
        )
        assert response.status_code == 302 and [m.startswith(f"{payment}: ") for m in said(response)] == [True]
        assert Payment.objects.get(pk=payment.pk).amount_refunded_cents == 0

    def test_retry_now_is_a_message(self, owner_client, stripe_out_of_reach):
        failure = payment_failure_open(payment=PaymentFactory(stripe_invoice_id="in_1"), reason="Declined")
        response = owner_client.post(
            "/admin/billing/paymentfailure/", {"action": "retry_now", "_selected_action": [failure.pk]}
        )
        assert response.status_code == 302 and said(response)[0].startswith("Stripe could not be reached: ")
        assert PaymentFailure.objects.get(pk=failure.pk).attempts == failure.attempts  # this try did not count

    def test_charge_now_is_a_message(self, owner_client, stripe_out_of_reach):
        subscription = TuitionSubscription.objects.create(
            family=ParentFactory().family,
            tuition_plan=TuitionPlanFactory(),
            status=TuitionSubscription.Status.TRIALING,
            stripe_subscription_id="sub_1",
        )
        response = owner_client.post(
            "/admin/billing/tuitionsubscription/", {"action": "charge_now", "_selected_action": [subscription.pk]}
        )
        assert response.status_code == 302
        assert [m.startswith(f"{subscription.family}: ") for m in said(response)] == [True]
        assert not Payment.objects.exists()

    @pytest.mark.parametrize("command", ["billing_sync_catalog", "billing_reconcile"])
    def test_a_command_stops_with_a_sentence_not_a_trace(self, school, stripe_out_of_reach, command):
        """Failed before the fix: the command died with GatewayUnavailable's traceback."""
        TuitionPlanFactory()
        BillingProfile.objects.create(family=ParentFactory().family, stripe_customer_id="cus_1")
        with pytest.raises(CommandError):
            call_command(command, stdout=StringIO(), stderr=StringIO())


class TestTheWebhooksErrorBody:
    def test_a_bad_signature_is_a_400_with_the_error_body(self, school):
        response = Client().post(
            WEBHOOK, b'{"id": "evt_1"}', content_type="application/json", headers={"Stripe-Signature": "t=1,v1=00"}
        )
        assert response.status_code == 400
        body = response.json()
        assert (body["code"], body["fields"]) == ("bad_signature", {}) and body["request_id"] and body["message"]
        assert not StripeEvent.objects.exists()

    def test_a_signed_body_that_is_not_json_is_not_an_event(self, school):
        """Failed before the fix: it was answered `bad_signature`, though its signature held."""
        payload = b"not json"
        response = Client().post(
            WEBHOOK, payload, content_type="application/json", headers={"Stripe-Signature": sign(payload)}
        )
        assert response.status_code == 400 and response.json()["code"] == "not_an_event"
        assert not StripeEvent.objects.exists()

    def test_a_body_that_is_not_utf_8_is_a_bad_signature(self, school):
        response = Client().post(
            WEBHOOK, b"\xff\xfe", content_type="application/json", headers={"Stripe-Signature": "t=1,v1=00"}
        )
        assert response.status_code == 400 and response.json()["code"] == "bad_signature"


class TestBadIdsInTheAdmin:
    @pytest.mark.parametrize(
        "url",
        [
            "/admin/accounts/family/999999/credit/",
            "/admin/accounts/family/999999/start-billing/",
            "/admin/billing/payment/999999/refund/",
        ],
    )
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_billing_page_about_a_record_that_does_not_exist_is_a_404(self, owner_client, url, method):
        """Failed before the fix for the refund page: Payment.DoesNotExist, a 500."""
        data = {"amount": "10.00", "reason": "x", "tuition_plan": "1"} if method == "post" else None
        assert getattr(owner_client, method)(url, data).status_code == 404

    def test_a_payments_page_whose_id_is_not_a_number_is_djangos_answer_not_a_500(self, owner_client):
        """Failed before the fix: the refund link was reversed with the id `abc` (NoReverseMatch, a 500)."""
        response = owner_client.get("/admin/billing/payment/abc/change/")
        assert response.status_code == 302 and response["Location"] == "/admin/"

    def test_a_ledger_filtered_by_a_family_id_that_is_not_a_number_is_djangos_answer_not_a_500(self, owner_client):
        """Failed before the fix: the running balance's query was given int("abc"), a 500."""
        assert owner_client.get("/admin/billing/ledgerentry/?family__id__exact=abc").status_code == 200
