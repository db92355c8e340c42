"""Make-up credits held while the family's tuition is unpaid, and released once it is paid (an expired credit
turned into money is a ledger line: `ledger.makeup_credit_to_money`). The credits' ledger is enrollment's
(enrollment/credits.py); billing calls its services."""

from billing.models import Payment, PaymentFailure
from enrollment.credits import makeup_credit_hold, makeup_credits_release
from enrollment.models import MakeupCredit

# The owner's own credits are given knowingly, whatever the family owes: only a missed lesson's credit waits.
GIVEN_BY_THE_SCHOOL = frozenset({MakeupCredit.Origin.OWNER, MakeupCredit.Origin.GOODWILL})


def _tuition_unpaid(*, family_id: int, paid: Payment | None = None) -> bool:
    """The family has a declined payment still being retried (other than `paid`, which just went through)."""
    failures = PaymentFailure.objects.filter(family_id=family_id, status=PaymentFailure.Status.OPEN)
    return (failures.exclude(payment=paid) if paid is not None else failures).exists()


def makeup_credit_hold_while_unpaid(*, credit: MakeupCredit) -> MakeupCredit:
    """A credit just issued (enrollment's `makeup_credit_issued`, in its transaction) waits while the family's
    tuition is unpaid; one issued again once it is paid is usable at once."""
    if credit.origin in GIVEN_BY_THE_SCHOOL:
        return credit
    family_id = credit.enrollment.student.family_id
    if _tuition_unpaid(family_id=family_id):
        return makeup_credit_hold(credit=credit)
    if credit.held_until_paid:
        makeup_credits_release(family_id=family_id)
        credit.held_until_paid = False
    return credit


def makeup_credits_release_when_paid(*, payment: Payment) -> int:
    """A payment of the family went through: its held credits become usable, unless another payment is still
    unpaid. How many were released."""
    if _tuition_unpaid(family_id=payment.family_id, paid=payment):
        return 0
    return makeup_credits_release(family_id=payment.family_id)
