"""Fees and open make-up credits where people read them: the parent's billing page and receipts, the owner's admin,
and the API."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from billing.fees import registration_fee_charge
from billing.models import FamilyFee, FeeInvoiceItem, Payment
from billing.selectors import family_balance_cents
from billing.services.dunning import payment_failure_give_up, payment_failure_open
from billing.services.ledger import payment_record_succeeded
from enrollment.credits import makeup_credit_grant
from enrollment.models import Enrollment
from tests.factories import EnrollmentFactory, ParentFactory, StudentFactory, UserFactory
from tests.fees.conftest import fee_settings

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner():
    return UserFactory(role="admin", is_staff=True, is_superuser=True, email="owner@example.com")


@pytest.fixture
def parent(family):
    return family.parents.get()


def grant_credits(family, owner, count: int) -> None:
    student = StudentFactory(family=family, first_name="Lucia")
    enrollment = EnrollmentFactory(student=student, status=Enrollment.Status.ACTIVE, lesson_minutes=30)
    for _ in range(count):
        makeup_credit_grant(enrollment=enrollment, actor=owner, reason="Snow day", goodwill=True)


def test_the_billing_page_shows_the_fee_and_the_make_up_lessons_which_change_no_total(
    family, parent, owner, this_year, django_assert_max_num_queries
):
    """Made to fail by counting open credits into the balance (the page then says $50 less)."""
    registration_fee_charge(family=family, on=this_year.start_date)
    balance_before = family_balance_cents(family_id=family.pk)
    grant_credits(family, owner, count=2)
    registration_fee_charge(family=ParentFactory().family, on=this_year.start_date)  # another family's: not shown

    client = signed_in(parent)
    with django_assert_max_num_queries(23):  # the whole page: tuition lines of two months too, the privacy officer
        page = client.get("/billing/").content.decode()

    assert family_balance_cents(family_id=family.pk) == balance_before == 5_000
    assert "Balance owed: <strong>$50.00 CAD</strong>" in page
    assert "Registration fee This year" in page and "On your next invoice" in page
    assert page.count("Registration fee This year") == 1
    assert "Make-up lessons you can book: 2 — not a money credit" in page
    assert page.count("30-minute Piano lesson, use by") == 2


def test_no_fee_or_make_up_block_for_a_family_with_neither(parent):
    page = signed_in(parent).get("/billing/").content.decode()
    assert "Fees" not in page and "Make-up lessons you can book" not in page


def test_a_receipt_lists_the_fee_it_paid_and_the_make_up_lessons_open_now(family, parent, owner, this_year):
    fee = registration_fee_charge(family=family, on=this_year.start_date)
    grant_credits(family, owner, count=1)
    payment = Payment.objects.create(family=family, amount_cents=19_000, stripe_invoice_id="in_renewal")
    FeeInvoiceItem.objects.filter(fee=fee).update(stripe_invoice_item_id="ii_1", stripe_invoice_id="in_renewal")
    receipt = payment_record_succeeded(payment=payment).receipt

    page = signed_in(parent).get(f"/billing/receipts/{receipt.number}/").content.decode()

    assert "Amount: <strong>$190.00 CAD</strong>" in page
    assert "Registration fee This year: $50.00 CAD" in page
    assert "Make-up lessons you can book: 1 — not a money credit" in page
    assert "Open today, not as of the receipt's date." in page  # the open credits now, not the receipt's day
    assert family_balance_cents(family_id=family.pk) == 0  # 140 tuition + 50 fee, paid


def test_the_owner_waives_a_fee_in_the_admin_and_from_a_failed_payment(family, this_year, owner_client):
    fee = registration_fee_charge(family=family, on=this_year.start_date)
    listing = owner_client.get("/admin/billing/familyfee/")
    assert listing.status_code == 200 and "Waive…" in listing.content.decode()

    form = owner_client.get(f"/admin/billing/familyfee/waive/?ids={fee.pk}")
    assert form.status_code == 200 and "Registration fee This year" in form.content.decode()
    answer = owner_client.post(f"/admin/billing/familyfee/waive/?ids={fee.pk}", {"note": "Second year, welcome back"})

    assert answer.status_code == 302
    assert FamilyFee.objects.get(pk=fee.pk).status == "waived"
    assert family_balance_cents(family_id=family.pk) == 0

    # From the failed payments' list: its late fee, to the same waiver page.
    fee_settings(late_fee_cents=1_500)
    payment = Payment.objects.create(family=family, amount_cents=14_000, stripe_invoice_id="in_declined")
    failure = payment_failure_give_up(failure=payment_failure_open(payment=payment, reason="Declined"))
    late = FamilyFee.objects.get(payment=payment)
    chosen = owner_client.post(
        "/admin/billing/paymentfailure/", {"action": "late_fees_waive", "_selected_action": [failure.pk]}
    )
    assert chosen.status_code == 302 and chosen.url == f"/admin/billing/familyfee/waive/?ids={late.pk}"


def test_the_api_lists_a_familys_fees_to_its_parent_and_lets_only_the_school_waive(family, parent, owner, this_year):
    fee = registration_fee_charge(family=family, on=this_year.start_date)
    registration_fee_charge(family=ParentFactory().family, on=this_year.start_date)
    as_parent, as_owner = APIClient(), APIClient()
    as_parent.force_authenticate(parent)
    as_owner.force_authenticate(owner)

    mine = as_parent.get("/api/v1/billing/fees/").json()
    refused = as_parent.post(f"/api/v1/billing/fees/{fee.pk}/waive/", {"note": "please"}, format="json")
    no_reason = as_owner.post(f"/api/v1/billing/fees/{fee.pk}/waive/", {"note": " "}, format="json")
    waived = as_owner.post(f"/api/v1/billing/fees/{fee.pk}/waive/", {"note": "Sibling started late"}, format="json")

    assert [row["id"] for row in mine["results"]] == [fee.pk]
    assert mine["results"][0]["label"] == "Registration fee This year" and mine["results"][0]["invoiced"] is False
    assert refused.status_code == 403
    assert no_reason.status_code == 400
    assert waived.status_code == 200 and waived.json()["status"] == "waived"
    assert as_owner.get("/api/v1/billing/fees/").json()["count"] == 2
