"""A withdrawal with notice: the last lesson date, the lessons and weekly time released after it, the make-up
credits that expire with it, the emails, and the daily job that ends the enrollment."""

from datetime import timedelta

import pytest
from django.core import mail

from cedarheights.emails import EmailLog
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import school_settings_update
from enrollment.credits import credit_balance, makeup_credit_grant, makeup_credits_expire
from enrollment.errors import AlreadyWithdrawn
from enrollment.lifecycle.withdrawals import enrollment_withdraw, withdrawal_quote, withdrawals_complete_due
from enrollment.models import Enrollment
from scheduling.models import Lesson
from scheduling.outcomes import Outcome
from scheduling.services import closure_create
from tests.lifecycle.conftest import Child

pytestmark = pytest.mark.django_db


def mondays_until(child: Child, last_day):
    return [
        lesson
        for lesson in child.lessons()
        if lesson.start_at.astimezone(school_settings_get().zone).date() <= last_day
    ]


def local_day(lesson: Lesson):
    return lesson.start_at.astimezone(school_settings_get().zone).date()


def test_the_last_lesson_is_the_last_one_on_or_before_the_notice_days_across_a_month_end(child):
    """30 days cross a month's end from any day but the 1st of a 31-day month (then notice is given on the 2nd);
    the last Monday lesson inside them is the last lesson."""
    today = school_today()
    given_on = today if (today + timedelta(days=30)).month != today.month else today + timedelta(days=1)
    deadline = given_on + timedelta(days=30)
    expected = max(local_day(lesson) for lesson in child.lessons() if local_day(lesson) <= deadline)
    quote = withdrawal_quote(enrollment=child.enrollment, notice_given_on=given_on)
    assert quote.deadline == deadline
    assert quote.deadline.month != given_on.month or quote.deadline.year != given_on.year
    assert quote.last_lesson_on == expected
    assert quote.deadline - timedelta(days=6) <= expected <= quote.deadline


def test_a_closure_on_the_last_week_moves_the_last_lesson_a_week_earlier(child):
    today = school_today()
    last = withdrawal_quote(enrollment=child.enrollment, notice_given_on=today).last_lesson_on
    closure_create(reason="Holiday", start_date=last, end_date=last)
    assert withdrawal_quote(enrollment=child.enrollment, notice_given_on=today).last_lesson_on == last - timedelta(7)


def test_a_shorter_notice_setting_moves_the_last_lesson_earlier(child):
    school_settings_update(school_settings=school_settings_get(), withdrawal_notice_days=8)
    today = school_today()
    quote = withdrawal_quote(enrollment=child.enrollment, notice_given_on=today)
    assert today < quote.last_lesson_on <= today + timedelta(days=8)


def test_withdrawing_releases_the_lessons_after_the_last_one_and_ends_the_weekly_time(child):
    today = school_today()
    enrollment = enrollment_withdraw(actor=child.parent, enrollment=child.enrollment, notice_given_on=today)
    ends_on = enrollment.ends_on
    assert enrollment.withdrawal_given_on == today and enrollment.status == Enrollment.Status.ACTIVE
    kept = [lesson for lesson in child.lessons() if local_day(lesson) <= ends_on]
    after = [lesson for lesson in child.lessons() if local_day(lesson) > ends_on]
    assert kept and all(lesson.status == Lesson.Status.SCHEDULED for lesson in kept)
    assert after and all(lesson.outcome == Outcome.RELEASED for lesson in after)
    child.weekly.refresh_from_db()
    assert child.weekly.ended_on == ends_on


def test_open_make_up_credits_expire_with_the_last_lesson(child):
    """Made to fail once by leaving the credits' expiry as it was: the credit outlived the enrollment."""
    credit = makeup_credit_grant(enrollment=child.enrollment, actor=None, reason="Goodwill")
    assert credit.expires_on > school_today() + timedelta(days=31)
    ends_on = enrollment_withdraw(actor=None, enrollment=child.enrollment, notice_given_on=school_today()).ends_on
    credit.refresh_from_db()
    assert credit.expires_on == ends_on
    makeup_credits_expire(today=ends_on)
    assert credit_balance(credit=credit) == 1  # usable on the last lesson's day
    makeup_credits_expire(today=ends_on + timedelta(days=1))
    assert credit_balance(credit=credit) == 0


def test_the_family_and_the_teacher_are_emailed_once_and_notice_is_given_once(
    child, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrollment_withdraw(
            actor=child.parent, enrollment=child.enrollment, notice_given_on=school_today()
        )
    logs = EmailLog.objects.filter(template="enrollment_withdrawal")
    assert sorted(logs.values_list("recipient", flat=True)) == sorted([child.parent.email, child.teacher.user.email])
    family_email = next(m for m in mail.outbox if m.to == [child.parent.email])
    assert f"{enrollment.ends_on:%-d %B %Y}" in family_email.body
    with pytest.raises(AlreadyWithdrawn):
        enrollment_withdraw(actor=child.parent, enrollment=child.enrollment, notice_given_on=school_today())
    assert logs.count() == 2


def test_the_daily_job_cancels_the_enrollment_after_its_last_lesson(child):
    ends_on = enrollment_withdraw(actor=None, enrollment=child.enrollment, notice_given_on=school_today()).ends_on
    assert withdrawals_complete_due(today=ends_on) == 0
    assert withdrawals_complete_due(today=ends_on + timedelta(days=1)) == 1
    child.enrollment.refresh_from_db()
    assert child.enrollment.status == Enrollment.Status.CANCELLED
    assert withdrawals_complete_due(today=ends_on + timedelta(days=2)) == 0
