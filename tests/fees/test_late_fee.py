"""The late fee: only after an invoice's last payment retry failed, once per invoice, one kind email; waived by the
owner, the ledger goes back to what it was and Stripe's next invoice takes it off."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing.fees import family_fee_waive
from billing.models import BillingProfile, FamilyFee, LedgerEntry, PaymentFailure
from billing.selectors import family_balance_cents
from billing.services.dunning import billing_retry_due, payment_failure_give_up
from billing.services.subscriptions import billing_start
from cedarheights.models import AuditEvent, EmailLog
from tests.factories import UserFactory
from tests.fees.conftest import fee_settings

pytestmark = pytest.mark.django_db
DECLINES = "4000000000000341"


@pytest.fixture
def failing(stripe_server, family, plan, settings, django_capture_on_commit_callbacks):
    """A family whose first invoice was declined, with two retries to come and a late fee of $15."""
    settings.BILLING_RETRY_DAYS = [1, 3]
    fee_settings(late_fee_cents=1_500)
    with django_capture_on_commit_callbacks(execute=True):
        billing_start(family=family, tuition_plan=plan, payment_method_id=stripe_server.card(DECLINES))
    return PaymentFailure.objects.get(family=family)


def retry_all(django_capture_on_commit_callbacks, days: int):
    with django_capture_on_commit_callbacks(execute=True):
        billing_retry_due(now=timezone.now() + timedelta(days=days))


def retry_to_the_end(django_capture_on_commit_callbacks):
    """Both retries fail: the failure is given up on."""
    retry_all(django_capture_on_commit_callbacks, days=2)
    retry_all(django_capture_on_commit_callbacks, days=10)


def late_fee_emails() -> list:
    return [m for m in mail.outbox if m.subject.startswith("A late fee")]


def test_no_late_fee_after_an_earlier_retry_one_after_the_last(
    stripe_server, family, failing, django_capture_on_commit_callbacks
):
    """Made to fail by charging the fee in `payment_failure_open` (at the first decline) instead of at the give-up."""
    assert family_balance_cents(family_id=family.pk) == 14_000
    retry_all(django_capture_on_commit_callbacks, days=2)  # the first retry fails: one more to come
    assert PaymentFailure.objects.get(pk=failing.pk).status == "open"
    assert not FamilyFee.objects.exists() and not late_fee_emails()

    retry_all(django_capture_on_commit_callbacks, days=10)  # the last retry fails: given up

    failure = PaymentFailure.objects.get(pk=failing.pk)
    fee = FamilyFee.objects.get(family=family)
    assert failure.status == "gave_up"
    assert (fee.kind, fee.payment_id, fee.amount_cents, fee.status) == ("late", failure.payment_id, 1_500, "charged")
    assert family_balance_cents(family_id=family.pk) == 15_500
    [email] = late_fee_emails()
    assert email.to == ["parent@example.com"] and "$15.00 CAD" in email.body and "waive" in email.body
    customer = BillingProfile.objects.get(family=family).stripe_customer_id
    [item] = stripe_server.list("invoiceitems", customer=customer)
    assert (item["amount"], item["invoice"], item["description"]) == (1_500, None, "Late fee")


def test_a_replayed_give_up_charges_and_emails_once(family, failing, django_capture_on_commit_callbacks):
    retry_to_the_end(django_capture_on_commit_callbacks)
    retry_all(django_capture_on_commit_callbacks, days=20)  # nothing due any more
    with django_capture_on_commit_callbacks(execute=True):
        payment_failure_give_up(failure=PaymentFailure.objects.get(pk=failing.pk))  # a replayed give-up

    assert FamilyFee.objects.filter(family=family, kind="late").count() == 1
    assert LedgerEntry.objects.filter(family=family, description="Late fee").count() == 1
    assert len(late_fee_emails()) == 1
    assert EmailLog.objects.filter(template="late_fee").count() == 1


def test_no_late_fee_when_the_school_charges_none(family, failing, django_capture_on_commit_callbacks):
    fee_settings(late_fee_cents=0)
    retry_to_the_end(django_capture_on_commit_callbacks)
    assert PaymentFailure.objects.get(pk=failing.pk).status == "gave_up"
    assert not FamilyFee.objects.exists() and not late_fee_emails()


def test_waived_before_it_is_invoiced_the_ledger_is_back_to_before_and_stripe_nets_it_out(
    stripe_server, family, failing, django_capture_on_commit_callbacks
):
    retry_to_the_end(django_capture_on_commit_callbacks)
    owner = UserFactory(role="admin", is_staff=True, is_superuser=True)
    fee = FamilyFee.objects.get(family=family)

    with django_capture_on_commit_callbacks(execute=True):
        waived = family_fee_waive(fee=fee, actor=owner, note="New card was in the mail")
        again = family_fee_waive(fee=fee, actor=owner, note="Clicked twice")

    assert family_balance_cents(family_id=family.pk) == 14_000  # as before the fee
    assert (waived.status, again.note) == ("waived", "New card was in the mail")
    reversal = LedgerEntry.objects.get(reference=f"family-fee-waiver:{fee.pk}")
    assert (reversal.kind, reversal.amount_cents) == ("adjustment", -1_500)
    customer = BillingProfile.objects.get(family=family).stripe_customer_id
    amounts = sorted(item["amount"] for item in stripe_server.list("invoiceitems", customer=customer))
    assert amounts == [-1_500, 1_500]  # the next invoice carries both: nothing
    assert AuditEvent.objects.filter(object_id=str(fee.pk), changes__status=["charged", "waived"]).count() == 1


def test_waived_after_an_invoice_carried_it_is_a_credit(family, failing, django_capture_on_commit_callbacks):
    retry_to_the_end(django_capture_on_commit_callbacks)
    fee = FamilyFee.objects.get(family=family)
    fee.invoice_items.update(stripe_invoice_id="in_carried")  # the next invoice carried it

    with django_capture_on_commit_callbacks(execute=True):
        family_fee_waive(fee=fee, actor=None, note="Goodwill")

    credit = LedgerEntry.objects.get(reference=f"family-fee-waiver:{fee.pk}")
    assert (credit.kind, credit.amount_cents) == ("credit", 1_500)
    assert family_balance_cents(family_id=family.pk) == 14_000
