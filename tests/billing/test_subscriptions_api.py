"""Starting billing through the API: the admin page's rule (a card given, or one on file), which is billing_start's."""

import pytest
from rest_framework.test import APIClient

from billing.models import TuitionSubscription
from billing.services.catalog import catalog_sync
from billing.services.customers import payment_method_update
from tests.factories import ParentFactory, TuitionPlanFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/billing/subscriptions/"


def test_a_family_without_a_card_is_an_error_on_the_card_and_one_with_a_card_on_file_starts(stripe_server, school):
    family = ParentFactory().family
    plan = TuitionPlanFactory()
    catalog_sync()
    client = APIClient()
    client.force_authenticate(UserFactory(role="admin", is_staff=True))

    refused = client.post(URL, {"family": family.pk, "tuition_plan": plan.pk}, format="json")

    assert refused.status_code == 400, refused.json()
    body = refused.json()
    assert body["code"] == "invalid" and body["fields"] == {"payment_method_id": ["The family has no card on file."]}
    assert not TuitionSubscription.objects.exists()

    payment_method_update(family=family, payment_method_id=stripe_server.card("4242424242424242"))
    started = client.post(URL, {"family": family.pk, "tuition_plan": plan.pk}, format="json")

    assert started.status_code == 202, started.json()
    assert TuitionSubscription.objects.get().family == family


def test_a_card_given_with_the_request_needs_none_on_file(stripe_server, school):
    family = ParentFactory().family
    plan = TuitionPlanFactory()
    catalog_sync()
    client = APIClient()
    client.force_authenticate(UserFactory(role="admin", is_staff=True))

    card = stripe_server.card("4242424242424242")
    started = client.post(URL, {"family": family.pk, "tuition_plan": plan.pk, "payment_method_id": card}, format="json")

    assert started.status_code == 202, started.json()
    assert TuitionSubscription.objects.get().payment_method_id == card
