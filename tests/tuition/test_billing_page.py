"""The parent's billing page and receipts show each month's tuition as lines: base, each discount, totals."""

import pytest
from django.test import Client

from billing.models import FamilyDiscount, Payment, PromotionCode, PromotionRedemption
from billing.services.ledger import payment_record_succeeded
from billing.tuition import month_bill
from tests.factories import ParentFactory
from tests.tuition.conftest import enroll

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent(school):
    return ParentFactory()


def test_the_billing_page_shows_each_discount_as_its_own_line_in_a_fixed_number_of_queries(
    parent, term, teacher, term_plan, per_lesson_plan, django_assert_max_num_queries
):
    """Made to fail by leaving the discount lines out of the page (the base only), and by a query per line."""
    family = parent.family
    children = [
        enroll(family=family, teacher=teacher, plan=plan, weekday=day, starts_on=term.start_date)
        for day, plan in ((0, term_plan), (1, term_plan), (2, per_lesson_plan))
    ]
    FamilyDiscount.objects.create(family=family, kind="staff", percent=20, note="Ms. Ortiz teaches violin")
    code = PromotionCode.objects.create(code="SPRING-10", percent_off=10, duration="once")
    PromotionRedemption.objects.create(code=code, family=family, first_month=term.start_date)
    bill = month_bill(family=family, month=term.start_date)
    client = Client()
    client.force_login(parent)

    # the whole page: two months of tuition lines, fees, make-up credits, and the footer's privacy officer
    with django_assert_max_num_queries(27):
        page = client.get("/billing/").content.decode()

    assert f"Tuition for {term.start_date:%B %Y}" in page
    for child in children:
        item = bill.of(child.pk)
        for line in item.lines:
            assert line.label in page
        assert item.total_display in page
    kinds = [[line.kind for line in item.lines] for item in bill.enrollments]
    assert sorted(kinds) == sorted(
        [
            ["base", "staff", "promotion"],
            ["base", "sibling", "staff", "promotion"],
            ["base", "sibling", "staff", "promotion"],
        ]
    )
    assert {line.label for item in bill.enrollments for line in item.discounts} >= {
        "Second child: −10 %",
        "Third or later child: −15 %",
        "Staff discount: −20 %",
        "Promotion SPRING-10: 10 % off for one month",
    }
    assert bill.total_display in page


def test_a_tuition_receipt_lists_the_months_lines(parent, term, teacher, term_plan):
    enroll(family=parent.family, teacher=teacher, plan=term_plan, weekday=0, starts_on=term.start_date)
    paid = payment_record_succeeded(
        payment=Payment.objects.create(family=parent.family, amount_cents=14_000, description="Piano")
    )
    client = Client()
    client.force_login(parent)
    page = client.get(f"/billing/receipts/{paid.receipt.number}/").content.decode()
    assert "Receipt" in page and "Piano" in page  # this month has no term yet: no lines, the receipt as before
