"""`Cache-Control: no-store` on every answer made for one caller, the sign-in roads and receipts; the public pages
and API keep their caching. Before the middleware, none of these answers had a Cache-Control header."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from billing.models import Payment
from billing.services.ledger import payment_record_succeeded
from tests.factories import ParentFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_a_parents_billing_page_and_receipt_are_not_stored(school):
    parent = ParentFactory()
    paid = payment_record_succeeded(
        payment=Payment.objects.create(family=parent.family, amount_cents=14_000, description="Piano")
    )
    client = Client()
    client.force_login(parent)
    for path in ("/billing/", f"/billing/receipts/{paid.receipt.number}/", "/accounts/profile/"):
        response = client.get(path)
        assert response.status_code == 200 and no_store(response), path


def test_the_api_answers_a_parent_with_no_store_by_session_and_by_token(school):
    parent = ParentFactory()
    api = APIClient()
    token = api.post("/api/v1/auth/token/", {"email": parent.email, "password": PASSWORD}, format="json")
    assert token.status_code == 201 and no_store(token)
    refused = api.post("/api/v1/auth/token/", {"email": parent.email, "password": "wrong-password"}, format="json")
    assert refused.status_code in (400, 401) and no_store(refused)

    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    by_token = api.get("/api/v1/students/")
    assert by_token.status_code == 200 and no_store(by_token)
    by_session = APIClient()
    by_session.force_login(parent)
    assert no_store(by_session.get("/api/v1/students/"))


def test_public_pages_keep_their_caching(school):
    for path in ("/api/v1/public/teachers/", "/enroll/"):
        response = Client().get(path)
        assert response.status_code == 200 and not no_store(response), path
