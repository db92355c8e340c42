"""The owner's tuition pages: the subscription's lines by month, and promotion codes applied through the service."""

import pytest

from billing.models import PromotionCode, PromotionRedemption, TuitionSubscription
from cedarheights.models import AuditEvent
from tests.factories import FamilyFactory
from tests.tuition.conftest import enroll

pytestmark = pytest.mark.django_db


def test_the_subscription_page_shows_next_months_lines(owner_client, term, teacher, family, term_plan):
    enrollment = enroll(family=family, teacher=teacher, plan=term_plan, weekday=0, starts_on=term.start_date)
    subscription = TuitionSubscription.objects.create(family=family, tuition_plan=term_plan, enrollment=enrollment)
    page = owner_client.get(f"/admin/billing/tuitionsubscription/{subscription.pk}/change/").content.decode()
    assert "Tuition by month" in page and f"{term.start_date:%B %Y}" in page and "over 4 months" in page


def test_a_used_up_code_is_refused_on_the_form_and_a_good_one_is_applied_and_audited(owner_client, family):
    used_up = PromotionCode.objects.create(code="ONCE", amount_off_cents=2_000, max_redemptions=0)
    good = PromotionCode.objects.create(code="WELCOME", percent_off=15, duration="repeating", duration_months=3)
    url = "/admin/billing/promotionredemption/add/"

    refused = owner_client.post(url, {"code": used_up.pk, "family": family.pk})
    assert refused.status_code == 200 and "used as often as it may be" in refused.content.decode()
    assert not PromotionRedemption.objects.exists()

    applied = owner_client.post(url, {"code": good.pk, "family": family.pk})
    assert applied.status_code == 302
    redemption = PromotionRedemption.objects.get(family=family)
    assert redemption.code == good and redemption.first_month.day == 1
    assert AuditEvent.objects.filter(object_id=str(redemption.pk), action="create").exists()


def test_a_code_for_another_familys_enrollment_is_a_form_error_not_a_500(
    owner_client, term, teacher, family, term_plan
):
    """Made to fail by checking the enrollment's family only in the service's write (the admin answered 500)."""
    theirs = enroll(family=FamilyFactory(), teacher=teacher, plan=term_plan, weekday=1, starts_on=term.start_date)
    code = PromotionCode.objects.create(code="TENOFF", percent_off=10)

    refused = owner_client.post(
        "/admin/billing/promotionredemption/add/", {"code": code.pk, "family": family.pk, "enrollment": theirs.pk}
    )

    assert refused.status_code == 200 and "another family" in refused.content.decode()
    assert not PromotionRedemption.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "percent_off", "Give a percent off or an amount off"),
        ({"percent_off": 10, "amount_off_cents": 500}, "percent_off", "Give a percent off or an amount off"),
        ({"percent_off": 150}, "percent_off", "Between 1 and 100."),
        ({"percent_off": 10, "duration": "repeating"}, "duration_months", "Say for how many months."),
        ({"amount_off_cents": 500, "currency": "x1z"}, "currency", "three-letter"),
    ],
)
def test_a_promotion_code_form_says_what_is_wrong_in_words(owner_client, fields, field, message):
    """Before, the database's constraint names were the form's errors ('Constraint … is violated')."""
    data = {"code": "SPRING", "duration": "once", "currency": "cad", "active": "on"} | fields
    page = owner_client.post("/admin/billing/promotioncode/add/", data).content.decode()
    assert message in page and "is violated" not in page
    assert not PromotionCode.objects.exists()
