"""When a make-up credit expires, and the job that expires it (enrollment/credits.py makeup_credits_expire): a family's
credit 60 days after the missed lesson's date, a teacher's or a closure's at the term's end + 30 days and then
money on the family's account (billing listens to `makeup_credit_expired`)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.credits import credit_balance, makeup_credit_extend, makeup_credits_expire
from enrollment.makeups import cancellation_preview, lesson_cancel_by_family
from enrollment.models import MakeupCredit, MakeupCreditEntry
from enrollment.signals import makeup_credit_expired
from scheduling.models import Lesson
from scheduling.outcomes import Outcome
from scheduling.services import lesson_create, lesson_outcome_set, lesson_teacher_cancel
from tests.concurrency import at_once
from tests.lessons.credit_ledger import book_makeup, ledger

pytestmark = pytest.mark.django_db

Kind = MakeupCreditEntry.Kind


@pytest.fixture
def turned_into_money():
    """The credits `makeup_credit_expired` told the layers above about (billing's receiver, when it is connected,
    puts them on the family's account)."""
    told: list[int] = []

    def receiver(sender, *, credit, **kwargs):
        told.append(credit.pk)

    makeup_credit_expired.connect(receiver, dispatch_uid="tests.credit_expiry")
    yield told
    makeup_credit_expired.disconnect(dispatch_uid="tests.credit_expiry")


def local_day(lesson: Lesson):
    return lesson.start_at.astimezone(school_settings_get().zone).date()


class TestExpiryDates:
    def test_a_familys_credit_lasts_60_days_from_the_missed_lesson_not_from_the_cancellation(self, week):
        lesson = week.lesson_in(hours=24 * 10)

        preview = cancellation_preview(lesson=lesson)
        lesson_cancel_by_family(lesson=lesson, actor=week.parent)

        credit = MakeupCredit.objects.get()
        assert credit.expires_on == local_day(lesson) + timedelta(days=60) == preview.credit_expires_on
        assert credit.expires_on != timezone.localdate() + timedelta(days=60)

    def test_a_sick_pass_credit_lasts_as_a_familys(self, week):
        lesson = week.lesson_in(hours=3)

        lesson_cancel_by_family(lesson=lesson, actor=week.parent, use_sick_pass=True)

        credit = MakeupCredit.objects.get()
        assert credit.origin == MakeupCredit.Origin.SICK_PASS
        assert credit.expires_on == local_day(lesson) + timedelta(days=60)

    @pytest.mark.parametrize("outcome", [Outcome.TEACHER_CANCELLED, Outcome.SCHOOL_CLOSED])
    def test_a_teachers_or_a_closures_credit_lasts_to_the_terms_end_plus_30_days(self, week, outcome):
        lesson_outcome_set(lesson=week.lesson_in(hours=30), outcome=outcome, actor=None, reason="Snow")

        assert MakeupCredit.objects.get().expires_on == week.term.end_date + timedelta(days=30)

    def test_a_lesson_without_a_term_takes_the_term_of_its_date(self, week):
        start = week.lesson_in(hours=30).start_at + timedelta(days=1)
        lesson = lesson_create(
            teacher=week.teacher,
            student=week.student,
            start_at=start,
            end_at=start + timedelta(minutes=45),
            check_availability=False,  # 30 hours from now may fall at the end of the teacher's day
        )

        lesson_outcome_set(lesson=lesson, outcome=Outcome.SCHOOL_CLOSED, actor=None)

        credit = MakeupCredit.objects.get(missed_lesson=lesson)
        assert credit.term == week.term and credit.lesson_minutes == 45
        assert credit.expires_on == week.term.end_date + timedelta(days=30)

    def test_the_missed_lessons_date_is_the_schools_whatever_zone_the_process_runs_in(self, week):
        """Failed before the school's zone was used: the date was the process's (settings.TIME_ZONE)."""
        # Given a school far ahead of the process's zone, and a lesson at noon by the process's clock: the next
        # day already at the school
        school_settings_update(school_settings=school_settings_get(), time_zone="Pacific/Kiritimati")
        process_zone = timezone.get_current_timezone()
        start = datetime.combine(timezone.localdate() + timedelta(days=5), time(12), tzinfo=process_zone)
        schools_day = start.astimezone(ZoneInfo("Pacific/Kiritimati")).date()
        assert schools_day != start.date()
        lesson = lesson_create(
            teacher=week.teacher,
            student=week.student,
            start_at=start,
            end_at=start + timedelta(minutes=30),
            term=week.term,
            check_availability=False,
        )

        # When it is cancelled with notice
        lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)

        # Then its credit counts from the school's date
        assert MakeupCredit.objects.get().expires_on == schools_day + timedelta(days=60)


class TestTheExpiryJob:
    def test_each_unused_credit_past_its_date_expires_once_and_only_school_credits_become_money(
        self, week, turned_into_money
    ):
        # Given a family's, a teacher's and a closure's credit
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        lesson_teacher_cancel(lesson=week.lesson_in(hours=30), actor=week.teacher.user, reason="Ill")
        lesson_outcome_set(lesson=week.lesson_in(hours=50), outcome=Outcome.SCHOOL_CLOSED, actor=None)
        family, teacher, school = (
            MakeupCredit.objects.get(origin=origin)
            for origin in (MakeupCredit.Origin.NOTICE, MakeupCredit.Origin.TEACHER, MakeupCredit.Origin.SCHOOL)
        )
        last_day = max(credit.expires_on for credit in (family, teacher, school))

        # When the job runs on each one's last day, then the day after the last, twice
        assert makeup_credits_expire(today=family.expires_on) == 0
        assert makeup_credits_expire(today=last_day + timedelta(days=1)) == 3
        assert makeup_credits_expire(today=last_day + timedelta(days=1)) == 0

        # Then each expired once, and only the teacher's and the closure's were told to the layers above
        for credit in (family, teacher, school):
            assert ledger(credit) == [Kind.ISSUED, Kind.EXPIRED] and credit_balance(credit=credit) == 0
        assert sorted(turned_into_money) == sorted([teacher.pk, school.pk])

    def test_only_credits_past_their_date_expire(self, week, turned_into_money):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        credit = MakeupCredit.objects.get()

        assert makeup_credits_expire(today=credit.expires_on) == 0
        assert makeup_credits_expire(today=credit.expires_on + timedelta(days=1)) == 1
        assert turned_into_money == []

    def test_a_used_credit_does_not_expire(self, week):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        credit = MakeupCredit.objects.get()
        book_makeup(week, credit)

        assert makeup_credits_expire(today=credit.expires_on + timedelta(days=1)) == 0
        assert ledger(credit) == [Kind.ISSUED, Kind.REDEEMED]

    def test_an_extended_credit_expires_after_its_new_date(self, week):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        credit = MakeupCredit.objects.get()
        old = credit.expires_on
        makeup_credit_extend(credit=credit, actor=None, expires_on=old + timedelta(days=10), reason="Exams")

        assert makeup_credits_expire(today=old + timedelta(days=1)) == 0
        assert makeup_credits_expire(today=old + timedelta(days=11)) == 1
        assert ledger(credit) == [Kind.ISSUED, Kind.EXTENDED, Kind.EXPIRED]

    def test_the_job_runs_as_of_the_schools_today_by_default(self, week):
        lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
        MakeupCredit.objects.update(expires_on=timezone.localdate() - timedelta(days=2))

        assert makeup_credits_expire() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_expiry_jobs_at_once_expire_each_credit_once(week, turned_into_money):
    lesson_teacher_cancel(lesson=week.lesson_in(hours=30), actor=week.teacher.user, reason="Ill")
    credit = MakeupCredit.objects.get()
    after = credit.expires_on + timedelta(days=1)

    results = at_once(lambda: makeup_credits_expire(today=after))

    assert sorted(results) == [0, 1]
    assert ledger(credit) == [Kind.ISSUED, Kind.EXPIRED] and turned_into_money == [credit.pk]


class TestAnExpiredCreditsLessonChanged:
    def test_a_school_credit_that_became_money_is_not_issued_again(self, week, turned_into_money):
        """Failed before the fix: the new outcome issued the credit again, the job expired it again, and the family
        got its value as money twice."""
        # Given a teacher's credit that expired and became money
        lesson = week.lesson_in(hours=30)
        lesson_teacher_cancel(lesson=lesson, actor=week.teacher.user, reason="Ill")
        credit = MakeupCredit.objects.get()
        makeup_credits_expire(today=credit.expires_on + timedelta(days=1))

        # When the school corrects the outcome to a closure, and the job runs again
        lesson_outcome_set(lesson=lesson, outcome=Outcome.SCHOOL_CLOSED, actor=None, reason="It was the snow")
        makeup_credits_expire(today=credit.expires_on + timedelta(days=1))

        # Then the credit stayed expired, once
        assert ledger(credit) == [Kind.ISSUED, Kind.EXPIRED] and turned_into_money == [credit.pk]

    def test_a_familys_expired_credit_comes_back_when_the_new_outcome_lasts_longer(self, week):
        # Given a family's credit that expired (its date moved back, then the job ran)
        lesson = week.lesson_in(hours=72)
        lesson_cancel_by_family(lesson=lesson, actor=week.parent)
        MakeupCredit.objects.update(expires_on=timezone.localdate() - timedelta(days=1))
        assert makeup_credits_expire() == 1

        # When the school says the teacher cancelled it after all
        lesson_outcome_set(lesson=lesson, outcome=Outcome.TEACHER_CANCELLED, actor=None, reason="Ill")

        # Then the credit stands again, as a teacher's
        credit = MakeupCredit.objects.get()
        assert ledger(credit) == [Kind.ISSUED, Kind.EXPIRED, Kind.ISSUED] and credit_balance(credit=credit) == 1
        assert credit.origin == MakeupCredit.Origin.TEACHER
        assert credit.expires_on == week.term.end_date + timedelta(days=30)

    def test_a_familys_expired_credit_stays_expired_when_the_new_outcome_would_have_expired_too(self, week):
        # Given a school whose family credits last a day, and a credit of three days ago that expired
        school_settings_update(school_settings=school_settings_get(), family_credit_days=1)
        lesson = week.lesson_in(hours=-72)
        lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
        assert makeup_credits_expire() == 1

        # When the school says it was a sick pass (a family's credit too, as short)
        lesson_outcome_set(lesson=lesson, outcome=Outcome.LATE_CANCEL_SICK, actor=None)

        # Then nothing is issued only to expire again
        assert ledger(MakeupCredit.objects.get()) == [Kind.ISSUED, Kind.EXPIRED]
