"""The ledger always balances; receipts have no gaps; refunds never exceed payments; emails go once."""

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import LedgerEntry, Payment, Receipt
from billing.selectors import family_balance_cents, ledger_with_running_balance
from billing.services.charges import refund_record
from billing.services.ledger import (
    credit_issue,
    ledger_entry_add,
    payment_record_failed,
    payment_record_succeeded,
)
from cedarheights.errors import InvalidInput
from cedarheights.models import EmailLog
from tests.factories import FamilyFactory, ParentFactory, PaymentFactory

pytestmark = pytest.mark.django_db

operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(1, 50_000)),
        st.tuples(st.just("fail"), st.integers(1, 50_000)),
        st.tuples(st.just("refund"), st.integers(1, 60_000)),
        st.tuples(st.just("credit"), st.integers(1, 20_000)),
        st.tuples(st.just("adjust"), st.integers(-20_000, 20_000).filter(bool)),
        st.tuples(st.just("replay"), st.just(0)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_the_ledger_balances_after_any_sequence(steps):
    family = FamilyFactory()
    expected, paid, refunded, payments = 0, 0, 0, []
    for n, (kind, amount) in enumerate(steps):
        if kind in {"pay", "fail"}:
            payment = Payment.objects.create(family=family, amount_cents=amount, description=f"Tuition {n}")
            if kind == "pay":
                payments.append(payment_record_succeeded(payment=payment))
                paid += amount
            else:
                payment_record_failed(payment=payment, reason="card_declined")
                expected += amount  # a failed payment is still owed
        elif kind == "refund" and payments:
            payment = Payment.objects.get(pk=payments[-1].pk)
            try:
                refund_record(payment=payment, amount_cents=amount, reference=f"refund:{family.pk}:{n}")
            except InvalidInput:
                assert amount > payment.amount_cents - payment.amount_refunded_cents
            else:
                expected += amount
                refunded += amount
        elif kind == "credit":
            credit_issue(family=family, amount_cents=amount, reason="goodwill")
            expected -= amount
        elif kind == "adjust":
            ledger_entry_add(family=family, kind=LedgerEntry.Kind.ADJUSTMENT, amount_cents=amount, description="fix")
            expected += amount
        elif kind == "replay" and payments:
            payment_record_succeeded(payment=payments[-1])  # a replayed event changes nothing

        assert family_balance_cents(family_id=family.pk) == expected
        assert refunded <= paid
    rows = list(ledger_with_running_balance(family_id=family.pk))
    assert (rows[-1].balance if rows else 0) == expected
    assert all(p.amount_refunded_cents <= p.amount_cents for p in Payment.objects.filter(family=family))


def test_a_successful_payment_writes_charge_payment_receipt_and_one_email_per_parent(
    django_capture_on_commit_callbacks,
):
    parent = ParentFactory()
    payment = PaymentFactory(family=parent.family, amount_cents=14_000, description="Piano, December")
    with django_capture_on_commit_callbacks(execute=True):
        payment_record_succeeded(payment=payment)
        payment_record_succeeded(payment=payment)  # delivered twice

    kinds = sorted(LedgerEntry.objects.filter(family=parent.family).values_list("kind", flat=True))
    assert kinds == ["charge", "payment"]
    assert family_balance_cents(family_id=parent.family_id) == 0
    receipt = Receipt.objects.get(payment=payment)
    assert receipt.amount_cents == 14_000 and receipt.number.endswith("-00001")
    assert [m.to for m in mail.outbox] == [[parent.email]]
    assert receipt.number in mail.outbox[0].subject and "$140.00 CAD" in mail.outbox[0].body
    assert EmailLog.objects.get().status == "sent"


def test_a_paid_event_replayed_after_a_refund_leaves_the_refund_standing():
    """Made to fail first: the replay set a partially refunded payment back to `succeeded` (the demo's second seed
    showed it)."""
    payment = payment_record_succeeded(payment=PaymentFactory(amount_cents=10_000))
    refund_record(payment=payment, amount_cents=4_000, reference="re_1")
    balance = family_balance_cents(family_id=payment.family_id)

    payment_record_succeeded(payment=payment)

    replayed = Payment.objects.get(pk=payment.pk)
    assert (replayed.status, replayed.amount_refunded_cents) == ("partially_refunded", 4_000)
    assert family_balance_cents(family_id=payment.family_id) == balance


def test_refunds_are_partial_or_full_but_never_more_than_paid():
    payment = payment_record_succeeded(payment=PaymentFactory(amount_cents=10_000))
    refund_record(payment=payment, amount_cents=4_000, reference="re_1")
    refund_record(payment=payment, amount_cents=4_000, reference="re_1")  # the same refund again: nothing new
    assert Payment.objects.get(pk=payment.pk).status == "partially_refunded"
    with pytest.raises(InvalidInput):
        refund_record(payment=payment, amount_cents=6_001, reference="re_2")
    refund_record(payment=payment, amount_cents=6_000, reference="re_3")
    fresh = Payment.objects.get(pk=payment.pk)
    assert (fresh.status, fresh.amount_refunded_cents) == ("refunded", 10_000)
    # charge 10 000 − payment 10 000 + refunds 10 000: the refunded tuition is owed again unless credited
    assert family_balance_cents(family_id=payment.family_id) == 10_000
