"""A vacation pause: lessons inside it released or kept, never two overlapping, ended early by the owner, over by
the daily job on its resume date; the family and teacher told once."""

from datetime import timedelta

import pytest

from cedarheights.emails import EmailLog
from cedarheights.errors import InvalidInput
from cedarheights.selectors import school_settings_get, school_today
from enrollment.errors import PauseNotLive, PauseOverlaps
from enrollment.lifecycle.pauses import enrollment_pause, enrollment_pause_end, pause_live_get, pauses_resume_due
from enrollment.models import Enrollment, EnrollmentPause
from scheduling.outcomes import Outcome
from tests.lifecycle.conftest import Child

pytestmark = pytest.mark.django_db


def days(child: Child, first, before):
    zone = school_settings_get().zone
    return [lesson for lesson in child.lessons() if first <= lesson.start_at.astimezone(zone).date() < before]


def test_lessons_inside_a_pause_are_released_and_none_outside(child):
    starts_on, resumes_on = school_today() + timedelta(days=10), school_today() + timedelta(days=31)
    pause = enrollment_pause(actor=None, enrollment=child.enrollment, starts_on=starts_on, resumes_on=resumes_on)
    inside = days(child, starts_on, resumes_on)
    outside = [lesson for lesson in child.lessons() if lesson not in inside]
    assert pause.lessons == EnrollmentPause.Lessons.RELEASE and pause.lessons_released == len(inside) >= 2
    assert all(lesson.outcome == Outcome.RELEASED for lesson in inside)
    assert outside and all(lesson.outcome == "" for lesson in outside)
    child.enrollment.refresh_from_db()
    assert child.enrollment.status == Enrollment.Status.ACTIVE  # a vacation is not the unpaid PAUSED status


def test_kept_lessons_stay_booked(child):
    starts_on, resumes_on = school_today() + timedelta(days=1), school_today() + timedelta(days=20)
    pause = enrollment_pause(
        actor=None, enrollment=child.enrollment, starts_on=starts_on, resumes_on=resumes_on, release_lessons=False
    )
    assert pause.lessons == EnrollmentPause.Lessons.KEEP and pause.lessons_released == 0
    assert all(lesson.outcome == "" for lesson in days(child, starts_on, resumes_on))


def test_two_pauses_never_overlap_but_may_touch(child):
    today = school_today()
    enrollment_pause(
        actor=None, enrollment=child.enrollment, starts_on=today + timedelta(5), resumes_on=today + timedelta(15)
    )
    with pytest.raises(PauseOverlaps):
        enrollment_pause(
            actor=None, enrollment=child.enrollment, starts_on=today + timedelta(14), resumes_on=today + timedelta(30)
        )
    enrollment_pause(
        actor=None, enrollment=child.enrollment, starts_on=today + timedelta(15), resumes_on=today + timedelta(30)
    )
    assert EnrollmentPause.objects.count() == 2


def test_the_family_and_teacher_are_told_once(child):
    today = school_today()
    enrollment_pause(
        actor=None, enrollment=child.enrollment, starts_on=today + timedelta(3), resumes_on=today + timedelta(9)
    )
    recipients = list(
        EmailLog.objects.filter(template="enrollment_vacation_paused").values_list("recipient", flat=True)
    )
    assert sorted(recipients) == sorted([child.parent.email, child.teacher.user.email])


def test_the_owner_ends_a_pause_early_and_a_new_one_may_start_from_then(child, owner_client):
    today = school_today()
    pause = enrollment_pause(actor=None, enrollment=child.enrollment, starts_on=today, resumes_on=today + timedelta(20))
    pause = enrollment_pause_end(actor=None, pause=pause)
    assert pause.ended_on == today and not pause.live
    assert pause_live_get(enrollment=child.enrollment) is None
    with pytest.raises(PauseNotLive):
        enrollment_pause_end(actor=None, pause=pause)
    assert EmailLog.objects.filter(template="enrollment_vacation_ended").count() == 2


def test_the_daily_job_ends_a_pause_on_its_resume_date(child):
    today = school_today()
    pause = enrollment_pause(
        actor=None, enrollment=child.enrollment, starts_on=today + timedelta(2), resumes_on=today + timedelta(9)
    )
    assert pause_live_get(enrollment=child.enrollment) == pause
    assert pauses_resume_due(today=today + timedelta(8)) == 0
    assert pauses_resume_due(today=today + timedelta(9)) == 1
    pause.refresh_from_db()
    assert pause.ended_on == pause.resumes_on and pauses_resume_due(today=today + timedelta(10)) == 0


def test_a_pause_longer_than_a_summer_is_refused_and_releases_nothing(child):
    """The trial's pause to 9999 released every lesson of the year; a longer absence is a withdrawal."""
    starts_on = school_today() + timedelta(days=7)
    with pytest.raises(InvalidInput) as refused:
        enrollment_pause(
            actor=None, enrollment=child.enrollment, starts_on=starts_on, resumes_on=starts_on + timedelta(days=93)
        )
    assert "resumes_on" in refused.value.fields and not EnrollmentPause.objects.exists()
    assert all(lesson.outcome == "" for lesson in child.lessons())
    pause = enrollment_pause(
        actor=None, enrollment=child.enrollment, starts_on=starts_on, resumes_on=starts_on + timedelta(days=92)
    )
    assert pause.lessons_released >= 1
