"""Make-up credits as billing sees them (issue 15 §3): a credit from a missed lesson waits while the family's
tuition is unpaid and is released when the payment goes through; a teacher's or a closure's credit that expires
unused becomes money on the family's account, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from billing.selectors import family_balance_cents
from billing.services.dunning import payment_failure_open, payment_settle
from enrollment.credits import makeup_credit_grant, makeup_credits_expire
from enrollment.lesson_prices import lesson_price_cents
from enrollment.makeups import lesson_cancel_by_family
from enrollment.models import MakeupCredit
from scheduling.services import lesson_teacher_cancel
from tests.factories import PaymentFactory, UserFactory

pytestmark = pytest.mark.django_db


def unpaid(week):
    """A declined tuition payment of the week's family, still being retried."""
    return payment_failure_open(payment=PaymentFactory(family=week.parent.family), reason="Declined").payment


def cancel_with_notice(week) -> MakeupCredit:
    lesson = week.lesson_in(hours=72 + 24 * len(week.made))
    lesson_cancel_by_family(lesson=lesson, actor=week.parent)
    return MakeupCredit.objects.get(missed_lesson=lesson)


def test_a_credit_earned_while_tuition_is_unpaid_is_held_until_the_payment_goes_through(week):
    payment = unpaid(week)

    credit = cancel_with_notice(week)
    assert credit.held_until_paid

    payment_settle(payment=payment)

    credit.refresh_from_db()
    assert not credit.held_until_paid


def test_a_credit_stays_held_while_another_payment_is_still_unpaid(week):
    paid, still_unpaid = unpaid(week), unpaid(week)
    credit = cancel_with_notice(week)

    payment_settle(payment=paid)
    credit.refresh_from_db()
    assert credit.held_until_paid

    payment_settle(payment=still_unpaid)
    credit.refresh_from_db()
    assert not credit.held_until_paid


def test_a_family_that_owes_nothing_gets_a_usable_credit(week):
    assert not cancel_with_notice(week).held_until_paid


def test_another_familys_unpaid_tuition_holds_nothing(week):
    parent, _, _ = week.another_family()
    payment_failure_open(payment=PaymentFactory(family=parent.family), reason="Declined")

    assert not cancel_with_notice(week).held_until_paid


def test_the_owners_own_credit_is_given_whatever_the_family_owes(week):
    unpaid(week)
    owner = UserFactory(role="admin", is_staff=True)

    credit = makeup_credit_grant(enrollment=week.enrollment, actor=owner, goodwill=True, reason="Sorry for the mix-up")

    assert not MakeupCredit.objects.get(pk=credit.pk).held_until_paid


def expire_yesterday(credit: MakeupCredit) -> None:
    MakeupCredit.objects.filter(pk=credit.pk).update(expires_on=timezone.localdate() - timedelta(days=1))


def test_a_teachers_credit_expired_unused_becomes_one_lessons_worth_of_money_once(week):
    lesson = week.lesson_in(hours=48)
    lesson_teacher_cancel(lesson=lesson, actor=week.teacher.user, reason="Flu")
    credit = MakeupCredit.objects.get(missed_lesson=lesson)
    expire_yesterday(credit)

    assert makeup_credits_expire() == 1
    assert makeup_credits_expire() == 0  # the nightly job again: nothing more

    entry = LedgerEntry.objects.get()
    worth = lesson_price_cents(enrollment=week.enrollment)
    assert (entry.kind, entry.amount_cents, entry.reference) == ("credit", worth, f"makeup-credit:{credit.pk}")
    assert worth == round(14_000 * 12 / 52)  # a monthly plan's lesson: the month over its average weeks
    day = timezone.localtime(lesson.start_at)
    assert entry.description == f"Unused make-up credit (teacher cancelled) of {day:%a %-d %b %Y}"
    assert family_balance_cents(family_id=week.parent.family_id) == -worth  # the school owes the family


def test_a_familys_own_credit_expired_unused_is_simply_gone(week):
    expire_yesterday(cancel_with_notice(week))

    assert makeup_credits_expire() == 1
    assert not LedgerEntry.objects.exists()
