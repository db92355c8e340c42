"""The make-up credit ledger's invariant, over random sequences of what happens to one enrollment's lessons
(Hypothesis, on PostgreSQL), and the database's refusal of a line that breaks it.

After every step, for every credit: balance = issued − redeemed + returned − expired − revoked; each line's
balance_after is 0 or 1 and the running sum of the changes; sequences run 1..n without gaps. And what the balance
means: a weekly lesson's credit stands only while the lesson's outcome earns one, and a credit is never both
available and spent on a make-up.
"""

from collections import Counter
from contextlib import suppress
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cedarheights.errors import DomainError, InvalidInput
from enrollment.credits import (
    credits_with_balance,
    makeup_credit_extend,
    makeup_credit_void,
    makeup_credits_expire,
)
from enrollment.errors import CreditAlreadyUsed, CreditNotUsable
from enrollment.makeups import makeup_book, makeup_slots_offer
from enrollment.models import MakeupCredit, MakeupCreditEntry
from scheduling.errors import LessonConflict, LessonStatusRefused
from scheduling.models import Lesson
from scheduling.outcomes import FLAGS, Outcome
from scheduling.services import lesson_outcome_set

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

Kind = MakeupCreditEntry.Kind
SIGN = {Kind.ISSUED: 1, Kind.RETURNED: 1, Kind.REDEEMED: -1, Kind.EXPIRED: -1, Kind.REVOKED: -1, Kind.EXTENDED: 0}
WEEKLY_LESSONS_AT = (-50, -26, 72, 96)  # hours from now: two taught (or not) already, two to come

pick = st.integers(min_value=0, max_value=7)  # which lesson or credit, modulo how many there are
outcome_set = st.tuples(st.just("outcome"), pick, st.sampled_from(["", *Outcome]))
steps = st.lists(
    st.one_of(
        outcome_set,
        outcome_set,  # twice as likely: most of what happens to credits starts here
        st.tuples(st.just("book"), pick, st.integers(min_value=2, max_value=6)),  # days ahead
        st.tuples(
            st.just("makeup outcome"),
            pick,
            st.sampled_from([Outcome.CANCELLED_WITH_NOTICE, Outcome.LATE_CANCEL, Outcome.TEACHER_CANCELLED, ""]),
        ),
        st.tuples(st.just("expire"), pick, st.just(None)),
        st.tuples(st.just("extend"), pick, st.integers(min_value=-3, max_value=20)),  # days later (or not)
        st.tuples(st.just("void"), pick, st.just(None)),
    ),
    min_size=1,
    max_size=12,
)


def nth(items: list, index: int):
    return items[index % len(items)] if items else None


# What the rules may refuse, by step (and then nothing is left behind). Anything else is a failure: a ledger line
# refused in the middle of a step (`credit_not_usable` from an outcome change) means the credits lost track.
REFUSALS: dict[str, tuple[type[DomainError], ...]] = {
    "outcome": (LessonStatusRefused, LessonConflict, CreditAlreadyUsed),  # attendance ahead; a reopened time taken
    "book": (),
    "makeup outcome": (LessonConflict, CreditAlreadyUsed),
    "expire": (),
    "extend": (CreditNotUsable, InvalidInput),  # used, or not later
    "void": (CreditNotUsable,),
}


def step_run(week, weekly: list[Lesson], action: str, index: int, arg) -> None:
    """One thing that may happen to the enrollment's lessons and credits."""
    credits = list(MakeupCredit.objects.order_by("pk"))
    credit = nth(credits, index)
    if action == "outcome":
        lesson_outcome_set(lesson=nth(weekly, index), outcome=arg, actor=None, reason="Changed")
    elif action == "book" and (usable := nth(list(credits_with_balance().filter(balance=1).order_by("pk")), index)):
        day = timezone.localdate() + timedelta(days=arg)
        if offers := makeup_slots_offer(credit=usable, day=day):
            makeup_book(credit=usable, teacher=offers[0].teacher, start_at=offers[0].start_at, actor=None)
    elif action == "makeup outcome":
        makeups = list(Lesson.objects.filter(kind=Lesson.Kind.MAKEUP).order_by("pk"))
        if makeups:
            lesson_outcome_set(lesson=nth(makeups, index), outcome=arg, actor=None, reason="Changed")
    elif action == "expire" and credit is not None:
        MakeupCredit.objects.filter(pk=credit.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
        makeup_credits_expire()
    elif action == "extend" and credit is not None:
        makeup_credit_extend(
            credit=credit, actor=None, expires_on=credit.expires_on + timedelta(days=arg), reason="Asked"
        )
    elif action == "void" and credit is not None:
        makeup_credit_void(credit=credit, actor=None, reason="Mistake")


def invariant_check() -> None:
    balances = dict(credits_with_balance().values_list("pk", "balance"))
    for credit in MakeupCredit.objects.select_related("missed_lesson"):
        lines = list(credit.entries.order_by("sequence"))
        assert [line.sequence for line in lines] == list(range(1, len(lines) + 1))
        running = 0
        for line in lines:
            running += line.change
            assert line.change == SIGN[line.kind] and line.balance_after == running and running in (0, 1)
        kinds = Counter(line.kind for line in lines)
        balance = (
            kinds[Kind.ISSUED] - kinds[Kind.REDEEMED] + kinds[Kind.RETURNED] - kinds[Kind.EXPIRED] - kinds[Kind.REVOKED]
        )
        assert balance == running == balances[credit.pk]
        # Each make-up lesson the credit paid for holds it (its last line for that lesson is a redemption) unless
        # the make-up was cancelled in a way that gives a credit back; at most one holds it, and then it is spent.
        last_for_lesson = {line.lesson_id: line.kind for line in lines if line.lesson_id}
        makeups = Lesson.objects.in_bulk(last_for_lesson)
        for lesson_id, kind in last_for_lesson.items():
            outcome = makeups[lesson_id].outcome
            assert kind == (Kind.RETURNED if outcome and FLAGS[outcome].issues_credit else Kind.REDEEMED)
        held = sum(kind == Kind.REDEEMED for kind in last_for_lesson.values())
        assert balance + held <= 1
        # A weekly lesson's credit stands, or is spent, only while the lesson's outcome earns one.
        if credit.missed_lesson is not None and balance + held == 1:
            assert credit.missed_lesson.outcome and FLAGS[credit.missed_lesson.outcome].issues_credit


NOTICE, TEACHER = Outcome.CANCELLED_WITH_NOTICE, Outcome.TEACHER_CANCELLED


# The stories the issue names, always run, before the random ones.
@example([("outcome", 0, NOTICE), ("outcome", 0, Outcome.ATTENDED), ("outcome", 0, NOTICE), ("outcome", 0, TEACHER)])
@example([("outcome", 2, NOTICE), ("book", 0, 3), ("makeup outcome", 0, NOTICE), ("book", 0, 4), ("outcome", 2, "")])
@example([("outcome", 3, NOTICE), ("book", 0, 5), ("makeup outcome", 0, NOTICE), ("makeup outcome", 0, TEACHER)])
@example([("outcome", 0, TEACHER), ("expire", 0, None), ("outcome", 0, Outcome.SCHOOL_CLOSED), ("expire", 0, None)])
@example([("outcome", 1, NOTICE), ("book", 0, 2), ("makeup outcome", 0, NOTICE), ("makeup outcome", 0, "")])
@example([("outcome", 1, NOTICE), ("extend", 0, 5), ("extend", 0, -1), ("void", 0, None), ("void", 0, None)])
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_the_ledger_holds_after_any_sequence_of_what_happens(week, steps):
    # Each example starts from the same school (the fixture's) and leaves nothing behind.
    with transaction.atomic():
        weekly = [week.lesson_in(hours=hours) for hours in WEEKLY_LESSONS_AT]
        for action, index, arg in steps:
            with suppress(*REFUSALS[action]):  # refused, as the rules say: the invariant must hold all the same
                step_run(week, weekly, action, index, arg)
            invariant_check()
        transaction.set_rollback(True)


class TestTheDatabaseHoldsTheLedger:
    @pytest.fixture
    def credit(self, week) -> MakeupCredit:
        lesson = week.lesson_in(hours=-26)
        lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
        return MakeupCredit.objects.get(missed_lesson=lesson)

    def refused(self, credit: MakeupCredit, **line) -> str:
        with pytest.raises(IntegrityError) as error, transaction.atomic():
            MakeupCreditEntry.objects.create(credit=credit, **line)
        return error.value.__cause__.diag.constraint_name

    def test_a_line_making_the_balance_two_is_refused(self, credit):
        assert self.refused(credit, sequence=2, kind=Kind.RETURNED, change=1, balance_after=2) == (
            "makeup_credit_balance_zero_or_one"
        )

    def test_a_line_making_the_balance_minus_one_is_refused(self, credit):
        makeup_credit_void(credit=credit, actor=None, reason="Mistake")

        assert self.refused(credit, sequence=3, kind=Kind.REVOKED, change=-1, balance_after=-1) == (
            "makeup_credit_balance_zero_or_one"
        )

    def test_a_line_whose_balance_does_not_follow_the_last_is_refused(self, credit):
        """Within 0..1, yet a second `issued` on a balance of 1 would make it 2: the trigger says no."""
        assert self.refused(credit, sequence=2, kind=Kind.ISSUED, change=1, balance_after=1) == (
            "makeup_credit_entry_follows"
        )

    @pytest.mark.parametrize("sequence", [1, 3])
    def test_a_line_out_of_sequence_is_refused(self, credit, sequence):
        assert self.refused(credit, sequence=sequence, kind=Kind.REVOKED, change=-1, balance_after=0) == (
            "makeup_credit_entry_follows"
        )

    def test_a_change_that_does_not_match_its_kind_is_refused(self, credit):
        makeup_credit_void(credit=credit, actor=None, reason="Mistake")

        assert self.refused(credit, sequence=3, kind=Kind.EXPIRED, change=1, balance_after=1) == (
            "makeup_credit_entry_change_matches_kind"
        )

    def test_a_line_is_never_rewritten(self, credit):
        with pytest.raises(IntegrityError), transaction.atomic():
            credit.entries.update(balance_after=0, change=0)

        assert list(credit.entries.values_list("balance_after", flat=True)) == [1]

    def test_a_line_that_follows_the_last_is_taken(self, credit):
        MakeupCreditEntry.objects.create(credit=credit, sequence=2, kind=Kind.REVOKED, change=-1, balance_after=0)

        assert list(credit.entries.values_list("balance_after", flat=True)) == [1, 0]
