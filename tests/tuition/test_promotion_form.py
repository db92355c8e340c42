"""A parent enters a promotion code on their billing page: the new line shows, and a code that cannot be used is a
form error that keeps what they typed."""

from datetime import timedelta

import pytest
from django.test import Client

from billing.models import PromotionCode, PromotionRedemption
from cedarheights.selectors import school_today
from tests.factories import FamilyFactory, ParentFactory
from tests.tuition.conftest import enroll

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent_client(family, term, teacher, term_plan) -> Client:
    enroll(family=family, teacher=teacher, plan=term_plan, weekday=0, starts_on=term.start_date)
    client = Client()
    client.force_login(ParentFactory(family=family))
    return client


def test_a_code_typed_in_any_case_applies_and_its_line_shows(parent_client, family):
    PromotionCode.objects.create(code="SPRING-10", percent_off=10, duration="forever")
    response = parent_client.post("/billing/", {"code": "  spring-10 "}, follow=True)
    page = response.content.decode()
    redemption = PromotionRedemption.objects.get(family=family)
    assert response.redirect_chain == [("/billing/", 302)]
    assert f"The code SPRING-10 takes 10 % off every month from {redemption.first_month:%B %Y}" in page
    assert "Promotion SPRING-10: 10 % off every month" in page  # the line, in next month's tuition


@pytest.mark.parametrize(
    ("typed", "code", "said"),
    [
        ("NOPE-5", None, "We do not know the code NOPE-5"),
        ("OLD-20", {"percent_off": 20, "valid_until": "yesterday"}, "could be used until"),
        ("GONE-5", {"percent_off": 5, "active": False}, "is no longer offered"),
        ("ONE-15", {"percent_off": 15, "max_redemptions": 1}, "has been used as often as it may be"),
    ],
)
def test_a_code_that_cannot_be_used_is_a_form_error_keeping_what_was_typed(parent_client, family, typed, code, said):
    if code is not None:
        if code.get("valid_until") == "yesterday":  # relative to today, read once the database is there
            code = {**code, "valid_until": school_today() - timedelta(days=1)}
        made = PromotionCode.objects.create(code=typed, **code)
        if made.max_redemptions:
            used_on = school_today().replace(day=1)
            PromotionRedemption.objects.create(code=made, family=FamilyFactory(), first_month=used_on)
    response = parent_client.post("/billing/", {"code": typed})
    page = response.content.decode()
    assert response.status_code == 200
    assert said in str(response.context["promotion_form"].errors["code"])
    assert f'value="{typed}"' in page and said in page
    assert not PromotionRedemption.objects.filter(family=family).exists()
