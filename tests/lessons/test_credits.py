"""Make-up credits issued by lesson outcomes: which outcome earns one, the term's cap, a cancellation sent twice, an
outcome changed and changed back, the owner's extend and void (enrollment/credits.py)."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import User
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent, EmailLog
from enrollment.credits import (
    capped_credits_used,
    credit_balance,
    makeup_credit_extend,
    makeup_credit_grant,
    makeup_credit_void,
)
from enrollment.errors import CreditAlreadyUsed, CreditNotUsable
from enrollment.makeups import cancellation_preview, lesson_cancel_by_family
from enrollment.models import MakeupCredit, MakeupCreditEntry
from scheduling.models import Lesson
from scheduling.outcomes import FLAGS, Outcome
from scheduling.services import lesson_create, lesson_outcome_set, lesson_teacher_cancel
from tests.concurrency import at_once
from tests.factories import TermFactory
from tests.lesson_week import quarter_hour
from tests.lessons.credit_ledger import book_makeup, ledger

pytestmark = pytest.mark.django_db

Origin, Kind = MakeupCredit.Origin, MakeupCreditEntry.Kind

# Written out, not read from FLAGS: the table is what is under test.
CREDIT_OF_OUTCOME = {
    Outcome.ATTENDED: None,
    Outcome.CANCELLED_WITH_NOTICE: Origin.NOTICE,
    Outcome.LATE_CANCEL: None,
    Outcome.LATE_CANCEL_SICK: Origin.SICK_PASS,
    Outcome.NO_SHOW: None,
    Outcome.TEACHER_CANCELLED: Origin.TEACHER,
    Outcome.SCHOOL_CLOSED: Origin.SCHOOL,
    Outcome.RELEASED: None,
}


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_superuser("owner@example.com", "an-owner-password-1")


def lesson_audits(lesson: Lesson) -> list[dict]:
    rows = AuditEvent.objects.filter(object_type=ContentType.objects.get_for_model(Lesson), object_id=str(lesson.pk))
    return [row.changes for row in rows.order_by("at", "pk")]


def test_every_outcome_is_in_the_table():
    assert set(CREDIT_OF_OUTCOME) == set(Outcome)
    assert {o for o, origin in CREDIT_OF_OUTCOME.items() if origin} == {o for o in Outcome if FLAGS[o].issues_credit}


@pytest.mark.parametrize("outcome", list(Outcome))
def test_each_outcome_issues_a_credit_or_none_as_its_flags_say(week, outcome):
    # Given a weekly lesson that has started (so attendance may be marked too)
    lesson = week.lesson_in(hours=-2)

    # When the school records the outcome
    lesson_outcome_set(lesson=lesson, outcome=outcome, actor=None, reason="Recorded")

    # Then a credit of the right origin stands, or there is none
    credit = MakeupCredit.objects.filter(missed_lesson=lesson).first()
    if CREDIT_OF_OUTCOME[outcome] is None:
        assert credit is None
    else:
        assert credit.origin == CREDIT_OF_OUTCOME[outcome] and credit_balance(credit=credit) == 1
        assert credit.enrollment == week.enrollment and credit.lesson_minutes == 30
        assert credit.counts_toward_cap == (outcome == Outcome.CANCELLED_WITH_NOTICE)
        assert ledger(credit) == [Kind.ISSUED]


def test_a_demo_lesson_never_earns_a_credit(week):
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=4)
    demo = lesson_create(
        teacher=week.teacher,
        student=week.student,
        start_at=start,
        end_at=start + timedelta(minutes=30),
        kind=Lesson.Kind.DEMO,
        check_availability=False,
    )
    assert cancellation_preview(lesson=demo).why_no_credit == "only weekly lessons earn make-up credits"

    lesson_outcome_set(lesson=demo, outcome=Outcome.TEACHER_CANCELLED, actor=None, reason="Ill")

    assert not MakeupCredit.objects.exists()


def test_a_makeup_lesson_cancelled_gives_its_credit_back_and_earns_no_new_one(week):
    # Given a credit spent on a make-up lesson
    lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
    credit = MakeupCredit.objects.get()
    makeup = book_makeup(week, credit)

    # When the teacher cancels the make-up
    lesson_teacher_cancel(lesson=makeup, actor=week.teacher.user, reason="Ill")

    # Then the same credit is back, once, and the make-up earned none of its own
    assert MakeupCredit.objects.count() == 1 and not MakeupCredit.objects.filter(missed_lesson=makeup).exists()
    assert ledger(credit) == [Kind.ISSUED, Kind.REDEEMED, Kind.RETURNED] and credit_balance(credit=credit) == 1


def test_a_makeup_cancelled_late_is_forfeited(week):
    lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
    credit = MakeupCredit.objects.get()
    makeup = book_makeup(week, credit)

    lesson_outcome_set(lesson=makeup, outcome=Outcome.LATE_CANCEL, actor=None)

    assert ledger(credit) == [Kind.ISSUED, Kind.REDEEMED] and credit_balance(credit=credit) == 0


class TestTheTermsCap:
    def test_the_third_cancellation_with_notice_earns_nothing_and_the_preview_says_why(self, week):
        first, second, third = (week.lesson_in(hours=h) for h in (72, 96, 120))
        lesson_cancel_by_family(lesson=first, actor=week.parent)
        lesson_cancel_by_family(lesson=second, actor=week.parent)

        preview = cancellation_preview(lesson=third)
        lesson_cancel_by_family(lesson=third, actor=week.parent)

        assert (
            not preview.earns_credit
            and preview.why_no_credit == "this term's 2 make-up credits have been issued already"
        )
        assert preview.credit_expires_on is None
        assert MakeupCredit.objects.count() == 2 and not MakeupCredit.objects.filter(missed_lesson=third).exists()
        third.refresh_from_db()
        assert third.outcome == Outcome.CANCELLED_WITH_NOTICE
        [told] = EmailLog.objects.filter(template="lesson_cancelled", related_id=str(third.pk))
        assert "this term's 2 make-up credits have been issued already" in told.text_body

    def test_teacher_and_closure_credits_never_count(self, week):
        lesson_teacher_cancel(lesson=week.lesson_in(hours=30), actor=week.teacher.user, reason="Ill")
        lesson_outcome_set(lesson=week.lesson_in(hours=50), outcome=Outcome.SCHOOL_CLOSED, actor=None)
        for hours in (72, 96):
            lesson_cancel_by_family(lesson=week.lesson_in(hours=hours), actor=week.parent)

        assert capped_credits_used(enrollment=week.enrollment, term=week.term) == 2
        assert MakeupCredit.objects.count() == 4
        assert not cancellation_preview(lesson=week.lesson_in(hours=120)).earns_credit

    def test_the_owners_credit_counts_unless_goodwill(self, week, owner):
        makeup_credit_grant(enrollment=week.enrollment, actor=owner, reason="Recital week")
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        assert not cancellation_preview(lesson=week.lesson_in(hours=96)).earns_credit

        goodwill = makeup_credit_grant(enrollment=week.enrollment, actor=owner, goodwill=True, reason="Sorry")
        assert goodwill.origin == Origin.GOODWILL and not goodwill.counts_toward_cap
        assert capped_credits_used(enrollment=week.enrollment, term=week.term) == 2

    def test_a_voided_credit_no_longer_counts(self, week, owner):
        for hours in (72, 96):
            lesson_cancel_by_family(lesson=week.lesson_in(hours=hours), actor=week.parent)
        third = week.lesson_in(hours=120)
        assert not cancellation_preview(lesson=third).earns_credit

        makeup_credit_void(credit=MakeupCredit.objects.first(), actor=owner, reason="Entered by mistake")

        assert cancellation_preview(lesson=third).earns_credit
        lesson_cancel_by_family(lesson=third, actor=week.parent)
        assert credit_balance(credit=MakeupCredit.objects.get(missed_lesson=third)) == 1

    def test_a_credit_revoked_by_a_changed_outcome_no_longer_counts(self, week):
        first, second = week.lesson_in(hours=-50), week.lesson_in(hours=-26)
        for lesson in (first, second):
            lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
        third = week.lesson_in(hours=72)
        assert not cancellation_preview(lesson=third).earns_credit

        lesson_outcome_set(lesson=first, outcome=Outcome.ATTENDED, actor=None)

        assert cancellation_preview(lesson=third).earns_credit

    def test_the_cap_is_per_term(self, week):
        for hours in (72, 96):
            lesson_cancel_by_family(lesson=week.lesson_in(hours=hours), actor=week.parent)
        next_term = TermFactory(
            academic_year=week.term.academic_year,
            start_date=week.term.end_date + timedelta(days=1),
            end_date=week.term.end_date + timedelta(days=60),
        )
        start = quarter_hour(timezone.now() + (next_term.start_date - timezone.localdate() + timedelta(days=7)))
        next_terms = lesson_create(
            teacher=week.teacher,
            student=week.student,
            start_at=start,
            end_at=start + timedelta(minutes=30),
            term=next_term,
            check_availability=False,
        )

        assert cancellation_preview(lesson=next_terms).earns_credit


class TestOnce:
    def test_a_cancellation_sent_twice_earns_one_credit_and_one_email(self, week):
        lesson = week.lesson_in(hours=72)

        lesson_cancel_by_family(lesson=lesson, actor=week.parent)
        lesson_cancel_by_family(lesson=lesson, actor=week.parent)

        credit = MakeupCredit.objects.get()
        assert ledger(credit) == [Kind.ISSUED] and credit_balance(credit=credit) == 1
        assert EmailLog.objects.filter(template="lesson_cancelled").count() == week.parent.family.parents.count()
        assert len(lesson_audits(lesson)) == 1

    def test_an_outcome_changed_and_changed_back_totals_as_if_set_once(self, week):
        # Given a lesson the school marked cancelled with notice
        lesson = week.lesson_in(hours=-30)
        lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
        credit = MakeupCredit.objects.get()
        expires_on = credit.expires_on

        # When it is corrected to attended, then back
        lesson_outcome_set(lesson=lesson, outcome=Outcome.ATTENDED, actor=None)
        assert credit_balance(credit=credit) == 0
        lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)

        # Then one credit stands, as the first time, with the whole story in its ledger and one audit row a change
        credit.refresh_from_db()
        assert MakeupCredit.objects.count() == 1 and credit_balance(credit=credit) == 1
        assert credit.origin == Origin.NOTICE and credit.expires_on == expires_on and credit.counts_toward_cap
        assert ledger(credit) == [Kind.ISSUED, Kind.REVOKED, Kind.ISSUED]
        assert [audit["outcome"] for audit in lesson_audits(lesson)] == [
            ["", Outcome.CANCELLED_WITH_NOTICE],
            [Outcome.CANCELLED_WITH_NOTICE, Outcome.ATTENDED],
            [Outcome.ATTENDED, Outcome.CANCELLED_WITH_NOTICE],
        ]

    def test_an_outcome_changed_to_the_teachers_retypes_the_credit(self, week):
        lesson = week.lesson_in(hours=-30)
        lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)

        lesson_outcome_set(lesson=lesson, outcome=Outcome.TEACHER_CANCELLED, actor=None, reason="Ill after all")

        credit = MakeupCredit.objects.get()
        assert credit_balance(credit=credit) == 1 and ledger(credit) == [Kind.ISSUED, Kind.REVOKED, Kind.ISSUED]
        assert credit.origin == Origin.TEACHER and not credit.counts_toward_cap
        assert credit.expires_on == week.term.end_date + timedelta(days=30)
        assert len(lesson_audits(lesson)) == 2

    def test_the_outcome_of_a_lesson_whose_credit_was_used_is_pinned(self, week):
        # Given a credit spent on a make-up lesson
        lesson = week.lesson_in(hours=72)
        lesson_cancel_by_family(lesson=lesson, actor=week.parent)
        credit = MakeupCredit.objects.get()
        book_makeup(week, credit)
        audits = len(lesson_audits(lesson))

        # When the school changes the missed lesson's outcome
        with pytest.raises(CreditAlreadyUsed) as refused:
            lesson_outcome_set(lesson=lesson, outcome=Outcome.TEACHER_CANCELLED, actor=None, reason="Ill")

        # Then it is refused and nothing changed
        assert refused.value.code == "credit_already_used" and refused.value.status == 409
        lesson.refresh_from_db()
        assert lesson.outcome == Outcome.CANCELLED_WITH_NOTICE
        assert ledger(credit) == [Kind.ISSUED, Kind.REDEEMED] and len(lesson_audits(lesson)) == audits
        assert MakeupCredit.objects.get().origin == Origin.NOTICE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cancellation_sent_twice_at_once_earns_one_credit(week):
    # Given a lesson a parent cancels from two tabs at the same instant
    lesson = week.lesson_in(hours=72)

    results = at_once(lambda: lesson_cancel_by_family(lesson=lesson, actor=week.parent))

    # Then both answered with the lesson, and one credit with one ledger line stands
    assert all(isinstance(result, Lesson) for result in results), results
    credit = MakeupCredit.objects.get()
    assert ledger(credit) == [Kind.ISSUED]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_cancellations_at_once_for_the_last_credit_of_the_term_earn_one(week):
    # Given a term with one credit left and two lessons the family cancels at the same instant
    lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
    racing = [week.lesson_in(hours=hours) for hours in (96, 120)]

    results = at_once(
        [lambda lesson=lesson: lesson_cancel_by_family(lesson=lesson, actor=week.parent) for lesson in racing]
    )

    # Then both are cancelled, and the cap held: one of them earned the last credit
    assert all(isinstance(result, Lesson) for result in results), results
    assert (
        Lesson.objects.filter(pk__in=[lesson.pk for lesson in racing], outcome=Outcome.CANCELLED_WITH_NOTICE).count()
        == 2
    )
    assert MakeupCredit.objects.filter(missed_lesson__in=racing).count() == 1
    assert capped_credits_used(enrollment=week.enrollment, term=week.term) == 2


class TestOwnersHand:
    def test_an_extension_moves_the_expiry_later_with_a_reason_audited(self, week, owner):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        credit = MakeupCredit.objects.get()
        before, later = credit.expires_on, credit.expires_on + timedelta(days=20)

        makeup_credit_extend(credit=credit, actor=owner, expires_on=later, reason="Away on tour")

        credit.refresh_from_db()
        assert credit.expires_on == later and credit_balance(credit=credit) == 1
        extended = credit.entries.get(kind=Kind.EXTENDED)
        assert (extended.expires_on, extended.reason, extended.actor, extended.change) == (
            later,
            "Away on tour",
            owner,
            0,
        )
        audit = AuditEvent.objects.get(object_type=ContentType.objects.get_for_model(MakeupCredit))
        assert audit.actor == owner
        assert audit.changes["expires_on"] == [before.isoformat(), later.isoformat()]

    @pytest.mark.parametrize("days", [0, -1])
    def test_an_extension_to_the_same_or_an_earlier_date_is_refused(self, week, owner, days):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        credit = MakeupCredit.objects.get()
        expires_on = credit.expires_on

        with pytest.raises(InvalidInput) as refused:
            makeup_credit_extend(
                credit=credit, actor=owner, expires_on=expires_on + timedelta(days=days), reason="Why not"
            )

        assert "expires_on" in refused.value.fields
        credit.refresh_from_db()
        assert credit.expires_on == expires_on and ledger(credit) == [Kind.ISSUED]

    def test_an_extension_needs_a_reason(self, week, owner):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        credit = MakeupCredit.objects.get()

        with pytest.raises(InvalidInput) as refused:
            makeup_credit_extend(credit=credit, actor=owner, expires_on=credit.expires_on + timedelta(1), reason=" ")

        assert "reason" in refused.value.fields and ledger(credit) == [Kind.ISSUED]

    def test_a_used_credit_is_neither_extended_nor_voided(self, week, owner):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        credit = MakeupCredit.objects.get()
        book_makeup(week, credit)

        with pytest.raises(CreditNotUsable):
            makeup_credit_extend(credit=credit, actor=owner, expires_on=credit.expires_on + timedelta(9), reason="x")
        with pytest.raises(CreditNotUsable):
            makeup_credit_void(credit=credit, actor=owner, reason="Mistake")

        assert ledger(credit) == [Kind.ISSUED, Kind.REDEEMED]
        assert not AuditEvent.objects.filter(object_type=ContentType.objects.get_for_model(MakeupCredit)).exists()

    def test_a_void_takes_an_unused_credit_back_once(self, week, owner):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        credit = MakeupCredit.objects.get()

        makeup_credit_void(credit=credit, actor=owner, reason="Entered by mistake")
        with pytest.raises(CreditNotUsable):
            makeup_credit_void(credit=credit, actor=owner, reason="Again")

        assert ledger(credit) == [Kind.ISSUED, Kind.REVOKED] and credit_balance(credit=credit) == 0
        revoked = credit.entries.get(kind=Kind.REVOKED)
        assert (revoked.actor, revoked.reason) == (owner, "Entered by mistake")
        audit = AuditEvent.objects.get(object_type=ContentType.objects.get_for_model(MakeupCredit))
        assert audit.changes == {"voided": ["", "Entered by mistake"]}
