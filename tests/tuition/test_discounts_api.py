"""The owner's API for the family's own discounts and promotion codes: the same services as the admin (checked,
audited), the school's admins only."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from billing.models import FamilyDiscount, PromotionCode, PromotionRedemption
from billing.tuition import month_bill
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_today
from tests.factories import ParentFactory
from tests.tuition.conftest import enroll

pytestmark = pytest.mark.django_db
DISCOUNTS, CODES = "/api/v1/billing/family-discounts/", "/api/v1/billing/promotion-codes/"


@pytest.fixture
def owner(owner_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner_user)
    return client


def test_the_owner_sets_changes_and_ends_a_familys_discount_and_each_is_audited(owner, family):
    made = owner.post(DISCOUNTS, {"family": family.pk, "kind": "staff", "percent": 20, "note": "Teaches violin"})
    assert made.status_code == 201, made.content
    url = f"{DISCOUNTS}{made.json()['id']}/"
    again = owner.post(DISCOUNTS, {"family": family.pk, "kind": "family", "percent": 5}, format="json")
    assert again.status_code == 400 and "family" in again.json()["fields"]  # one per family: change it instead

    changed = owner.patch(url, {"percent": 25}, format="json")
    assert changed.status_code == 200 and changed.json()["percent"] == 25 and changed.json()["kind"] == "staff"
    assert owner.patch(url, {"percent": 101}, format="json").status_code == 400
    moved = owner.patch(url, {"family": family.pk + 1}, format="json")
    assert moved.status_code == 400 and "family" in moved.json()["fields"]  # the family stays
    assert owner.delete(url).status_code == 204
    assert not FamilyDiscount.objects.exists()
    actions = AuditEvent.objects.filter(object_type__model="familydiscount").values_list("action", flat=True)
    assert sorted(actions) == ["create", "delete", "update"]


def test_a_code_is_made_applied_to_one_enrollment_and_refused_a_second_time_or_when_used_up(
    owner, family, term, teacher, term_plan
):
    enrollment = enroll(family=family, teacher=teacher, plan=term_plan, weekday=0, starts_on=term.start_date)
    made = owner.post(
        CODES,
        {"code": "SPRING-10", "percent_off": 10, "duration": "repeating", "duration_months": 3, "max_redemptions": 1},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["terms"] == "10 % off for 3 months" and made.json()["redeemed"] == 0
    code_url = f"{CODES}{made.json()['id']}/"

    applied = owner.post(f"{code_url}apply/", {"family": family.pk, "enrollment": enrollment.pk}, format="json")
    assert applied.status_code == 201, applied.content
    assert applied.json()["code"] == "SPRING-10" and applied.json()["enrollment"] == enrollment.pk
    month = PromotionRedemption.objects.get().first_month
    bill = month_bill(family=family, month=max(month, term.start_date)).of(enrollment.pk)
    assert [line.kind for line in bill.discounts] == ["promotion"]

    other = ParentFactory().family
    used_up = owner.post(f"{code_url}apply/", {"family": other.pk}, format="json")
    assert used_up.status_code == 400 and used_up.json()["code"] == "promotion_code_refused"
    assert "used as often as it may be" in used_up.json()["message"]
    assert owner.get(code_url).json()["redeemed"] == 1


def test_what_a_code_takes_off_is_fixed_but_its_offer_can_end(owner):
    code = PromotionCode.objects.create(code="WELCOME", amount_off_cents=2_000, duration="once")
    url = f"{CODES}{code.pk}/"
    refused = owner.patch(url, {"amount_off_cents": 5_000}, format="json")
    assert refused.status_code == 400 and "amount_off_cents" in refused.json()["fields"]
    yesterday = (school_today() - timedelta(days=1)).isoformat()
    ended = owner.patch(url, {"active": False, "valid_until": yesterday}, format="json")
    assert ended.status_code == 200 and ended.json()["active"] is False
    code.refresh_from_db()
    assert code.amount_off_cents == 2_000 and not code.active


def test_a_parent_reaches_neither_their_familys_discount_nor_the_codes(family):
    parent = ParentFactory(family=family)
    discount = FamilyDiscount.objects.create(family=family, kind="family", percent=10)
    code = PromotionCode.objects.create(code="SPRING-10", percent_off=10)
    client = APIClient()
    client.force_authenticate(parent)
    for method, url, body in (
        ("get", DISCOUNTS, None),
        ("get", f"{DISCOUNTS}{discount.pk}/", None),
        ("delete", f"{DISCOUNTS}{discount.pk}/", None),
        ("get", CODES, None),
        ("post", f"{CODES}{code.pk}/apply/", {"family": family.pk}),
    ):
        response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
        assert response.status_code == 403, f"{method} {url}"
    assert FamilyDiscount.objects.filter(pk=discount.pk).exists() and not PromotionRedemption.objects.exists()
