"""The school's admins write tuition plans through the API; the plan services validate what they write."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from enrollment.models import TuitionPlan
from enrollment.services import tuition_plan_create, tuition_plan_update
from tests.factories import EnrollmentFactory, InstrumentFactory, TuitionPlanFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api() -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(role="admin", is_staff=True))
    return client


def test_an_admin_creates_and_reprices_a_plan_through_the_api(admin_api):
    piano = InstrumentFactory(name="Piano")
    created = admin_api.post(
        "/api/v1/tuition-plans/",
        {"name": "Piano 45", "instrument": piano.pk, "lesson_minutes": 45, "price_cents": 18_000, "currency": "CAD"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    plan = TuitionPlan.objects.get(name="Piano 45")
    assert (plan.instrument, plan.lesson_minutes, plan.currency) == (piano, 45, "cad")

    repriced = admin_api.patch(f"/api/v1/tuition-plans/{plan.pk}/", {"price_cents": 19_000}, format="json")

    assert repriced.status_code == 200 and repriced.json()["price_cents"] == 19_000
    plan.refresh_from_db()
    assert (plan.price_cents, plan.name) == (19_000, "Piano 45")


def test_the_plan_services_refuse_what_the_model_refuses_whoever_calls_them():
    with pytest.raises(ValidationError, match="three-letter"):
        tuition_plan_create(name="Odd", lesson_minutes=30, price_cents=100, currency="dollars")
    plan = TuitionPlanFactory(lesson_minutes=30)
    with pytest.raises(ValidationError):
        tuition_plan_update(plan=plan, lesson_minutes=50)
    assert TuitionPlan.objects.get(pk=plan.pk).lesson_minutes == 30 and not TuitionPlan.objects.filter(name="Odd")


def test_an_admin_deletes_an_unused_plan_and_a_plan_in_use_is_kept_with_a_conflict(admin_api):
    unused, in_use = TuitionPlanFactory(name="Unused"), TuitionPlanFactory(name="In use")
    EnrollmentFactory(tuition_plan=in_use)

    assert admin_api.delete(f"/api/v1/tuition-plans/{unused.pk}/").status_code == 204
    refused = admin_api.delete(f"/api/v1/tuition-plans/{in_use.pk}/")

    assert refused.status_code == 409 and refused.json()["code"] == "in_use"
    assert list(TuitionPlan.objects.values_list("name", flat=True)) == ["In use"]
