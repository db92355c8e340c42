"""The registration fee: once per family and school year, on the ledger at once and at Stripe as a pending invoice
item that joins the family's next invoice, whose ledger charge then leaves it out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing import stripe_gateway
from billing.fees import registration_fee_charge
from billing.models import BillingProfile, FamilyFee, LedgerEntry
from billing.selectors import family_balance_cents
from billing.services.subscriptions import billing_start, subscription_invoice_route
from tests.concurrency import at_once
from tests.factories import AcademicYearFactory, StudentFactory, TuitionPlanFactory
from tests.fees.conftest import fee_settings

pytestmark = pytest.mark.django_db
GOOD = "4242424242424242"


def fee_charges(family) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(family=family, kind="charge", description__startswith="Registration fee"))


def test_a_second_enrollment_a_sibling_and_a_replay_leave_one_fee_for_the_school_year(family, this_year):
    """Made to fail by dropping the condition of `family_fee_registration_once` from the claim (a second row)."""
    plan = TuitionPlanFactory()
    for _child in range(2):
        StudentFactory(family=family)
        billing_start(family=family, tuition_plan=plan, payment_method_id="pm_card_visa")  # first child, sibling
    billing_start(family=family, tuition_plan=TuitionPlanFactory(), payment_method_id="pm_card_visa")  # 2nd lesson
    again = registration_fee_charge(family=family, on=timezone.localdate())  # a replayed start

    fee = FamilyFee.objects.get(family=family)
    assert again.pk == fee.pk
    assert (fee.kind, fee.academic_year, fee.amount_cents, fee.status) == ("registration", this_year, 5_000, "charged")
    assert [entry.amount_cents for entry in fee_charges(family)] == [5_000]
    assert fee.label == "Registration fee This year"
    assert family_balance_cents(family_id=family.pk) == 5_000


def test_the_next_school_year_is_a_new_fee_and_other_families_have_their_own(family, this_year):
    next_year = AcademicYearFactory(
        name="Next year",
        start_date=this_year.end_date + timedelta(days=1),
        end_date=this_year.end_date + timedelta(365),
    )
    other = StudentFactory().family

    registration_fee_charge(family=family, on=this_year.start_date)
    registration_fee_charge(family=family, on=next_year.start_date + timedelta(days=3))
    registration_fee_charge(family=other, on=this_year.end_date)

    assert set(FamilyFee.objects.filter(family=family).values_list("academic_year__name", flat=True)) == {
        "This year",
        "Next year",
    }
    assert FamilyFee.objects.filter(family=other).count() == 1
    assert family_balance_cents(family_id=family.pk) == 10_000


def test_no_fee_when_the_school_charges_none_or_no_school_year_holds_the_day(family, this_year):
    assert registration_fee_charge(family=family, on=this_year.end_date + timedelta(days=30)) is None
    fee_settings(registration_fee_cents=0)
    assert registration_fee_charge(family=family, on=timezone.localdate()) is None
    assert not FamilyFee.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_starts_at_the_same_instant_charge_one_fee(stripe_server, family, this_year):
    """Both claims race to the unique row: one makes it, the other finds it (no error, no second charge)."""
    outcomes = at_once(lambda: registration_fee_charge(family=family, on=timezone.localdate()))

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert len({fee.pk for fee in outcomes}) == 1
    assert FamilyFee.objects.count() == 1 and len(fee_charges(family)) == 1
    customer = BillingProfile.objects.get(family=family).stripe_customer_id
    assert [item["amount"] for item in stripe_server.list("invoiceitems", customer=customer)] == [5_000]


def test_the_fee_joins_the_familys_next_invoice_at_stripe_and_the_ledger_counts_it_once(
    stripe_server, family, plan, this_year, django_capture_on_commit_callbacks
):
    """Over HTTP against the local Stripe server. Before the invoice's ledger charge left the fee line out, the
    family owed the fee twice (balance 5,000 after paying everything)."""
    with django_capture_on_commit_callbacks(execute=True):
        subscription = billing_start(family=family, tuition_plan=plan, payment_method_id=stripe_server.card(GOOD))
    subscription.refresh_from_db()
    customer = BillingProfile.objects.get(family=family).stripe_customer_id
    [item] = stripe_server.list("invoiceitems", customer=customer)
    assert (item["amount"], item["invoice"], item["description"]) == (5_000, None, "Registration fee This year")
    assert family_balance_cents(family_id=family.pk) == 5_000  # the first month paid, the fee owed

    # The renewal: Stripe makes the next invoice of the subscription, and every pending item joins it.
    invoice = stripe_server.request(
        "POST", "/v1/invoices", {"customer": customer, "subscription": subscription.stripe_subscription_id}
    )
    assert sorted(line["amount"] for line in invoice["lines"]["data"]) == [5_000, 14_000]
    with django_capture_on_commit_callbacks(execute=True):
        outcome = stripe_gateway.invoice_pay(invoice_id=invoice["id"], attempt=0)
        payment = subscription_invoice_route(subscription=subscription, outcome=outcome)

    assert (payment.status, payment.amount_cents) == ("succeeded", 19_000)
    invoice_charge = LedgerEntry.objects.get(kind="charge", reference=f"payment:{payment.pk}")
    assert invoice_charge.amount_cents == 14_000  # the fee is its own line
    assert family_balance_cents(family_id=family.pk) == 0
    assert FamilyFee.objects.get(family=family).invoice_items.get().stripe_invoice_id == invoice["id"]
