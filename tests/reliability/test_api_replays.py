"""A create sent again with its Idempotency-Key, one after the other or at the same instant on separate
connections: one row, and the first answer replayed."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Family, User
from scheduling.models import Closure
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db


def test_the_same_idempotency_key_creates_once_and_replays_the_first_answer(world, as_role):
    client = as_role("admin")
    key = str(uuid.uuid4())
    day = (timezone.localdate() + timedelta(weeks=6)).isoformat()
    body = {"reason": "Snow day", "start_date": day, "end_date": day}
    first = client.post("/api/v1/closures/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post("/api/v1/closures/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Closure.objects.filter(reason="Snow day").count() == 1

    different = client.post(
        "/api/v1/closures/", {**body, "reason": "Ice storm"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert different.status_code == 400 and different.json()["code"] == "idempotency_key_reused"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_key_create_one_row(school):
    admin = User.objects.create_superuser("owner@example.com", "a-long-test-password-1")
    key, body = str(uuid.uuid4()), {"name": "Concurrent family"}

    def post():
        client = APIClient()
        client.force_authenticate(admin)
        return client.post("/api/v1/families/", body, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code

    statuses = at_once(post, times=6)

    assert statuses == [201] * 6
    assert Family.objects.filter(name="Concurrent family").count() == 1
