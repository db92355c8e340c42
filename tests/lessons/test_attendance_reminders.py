"""Attendance reminders: a lesson unmarked a day after it ended earns its teacher one email; then, while any stay
unmarked, one digest a local day; nothing for marked lessons, nothing twice, however often the hourly job runs.

The job is run at a chosen `now` (noon today, and the days after); the lessons lie before the real clock too, so the
teacher can mark them."""

import importlib
from datetime import datetime, time, timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from django_q.models import Schedule

from cedarheights.models import EmailLog
from scheduling.attendance import attendance_reminders_send
from scheduling.models import Lesson
from scheduling.outcomes import Outcome
from scheduling.selectors import lessons_unmarked
from scheduling.services import lesson_create, lesson_outcome_set
from scheduling.tasks import attendance_reminders
from tests.factories import StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db


def noon(days: int = 0) -> datetime:
    """Noon in the school's zone, `days` from today."""
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())


def ended(week, before: datetime, hours: float, teacher=None) -> Lesson:
    """A 30-minute lesson that ended `hours` before `before`."""
    end = before - timedelta(hours=hours)
    teacher = teacher or week.teacher
    student = week.student if teacher == week.teacher else StudentFactory(teacher=teacher)
    return lesson_create(
        teacher=teacher,
        student=student,
        start_at=end - timedelta(minutes=30),
        end_at=end,
        term=week.term,
        check_availability=False,
    )


def sent(template: str) -> list[EmailLog]:
    return list(EmailLog.objects.filter(template=template).order_by("pk"))


def test_a_lesson_unmarked_a_day_after_it_ended_emails_its_teacher_once(week):
    due = ended(week, noon(), hours=25)
    ended(week, noon(), hours=23)  # not a day yet

    queued = attendance_reminders_send(now=noon())
    again = attendance_reminders_send(now=noon() + timedelta(hours=1))

    assert (queued, again) == (1, 0)
    [email] = sent("attendance_unmarked")
    assert email.recipient == week.teacher.user.email and email.related_id == str(due.pk)
    assert f"{week.student}" in email.subject
    assert f"/teach/lessons/{due.pk}/" in email.text_body and f"/teach/lessons/{due.pk}/" in email.html_body
    assert f"{timezone.localtime(due.start_at):%-I:%M %p}" in email.text_body
    assert not sent("attendance_digest")  # its own email today; the digest follows from tomorrow


def test_then_one_digest_a_day_while_it_stays_unmarked(week):
    lesson = ended(week, noon(), hours=25)
    attendance_reminders_send(now=noon())

    for hour in (0, 1, 5):  # hourly runs, the same day
        attendance_reminders_send(now=noon(1) + timedelta(hours=hour))
    attendance_reminders_send(now=noon(2))

    digests = sent("attendance_digest")
    assert [email.dedupe_key for email in digests] == [
        f"attendance-digest:{week.teacher.pk}:{(timezone.localdate() + timedelta(days=n)).isoformat()}" for n in (1, 2)
    ]
    assert all(f"{week.student}" in email.text_body and "/teach/" in email.text_body for email in digests)
    assert len(sent("attendance_unmarked")) == 1
    lesson.refresh_from_db()
    assert lesson.outcome == ""


def test_marked_and_cancelled_lessons_are_not_reminded(week):
    attended = ended(week, noon(), hours=30)
    no_show = ended(week, noon(), hours=80)
    released = ended(week, noon(), hours=100)
    lesson_outcome_set(lesson=attended, outcome=Outcome.ATTENDED, actor=week.teacher.user)
    lesson_outcome_set(lesson=no_show, outcome=Outcome.NO_SHOW, actor=week.teacher.user)
    lesson_outcome_set(lesson=released, outcome=Outcome.RELEASED, actor=None)

    for days in range(3):
        assert attendance_reminders_send(now=noon(days)) == 0
    assert not EmailLog.objects.exists()


def test_a_lesson_marked_since_leaves_the_next_digest(week):
    kept = ended(week, noon(), hours=80)
    marked = ended(week, noon(), hours=90)
    attendance_reminders_send(now=noon())
    lesson_outcome_set(lesson=marked, outcome=Outcome.ATTENDED, actor=week.teacher.user)

    attendance_reminders_send(now=noon(1))

    first, second = sent("attendance_digest")
    assert "2 lessons still have no attendance" in first.text_body
    assert "1 lesson still has no attendance" in second.text_body
    assert f"{timezone.localtime(marked.start_at):%a %-d %b, %-I:%M %p}" not in second.text_body
    assert f"{timezone.localtime(kept.start_at):%a %-d %b, %-I:%M %p}" in second.text_body


def test_lessons_long_overdue_are_in_the_digest_only_never_a_pile_of_single_emails(week):
    for days in range(3, 13):
        ended(week, noon(), hours=24 * days)

    attendance_reminders_send(now=noon())

    assert not sent("attendance_unmarked")
    [digest] = sent("attendance_digest")
    assert "10 lessons still have no attendance" in digest.text_body


def test_the_digest_waits_for_the_morning(week):
    ended(week, noon(), hours=80)
    early = noon() - timedelta(hours=6)  # 06:00

    assert attendance_reminders_send(now=early) == 0
    assert attendance_reminders_send(now=early + timedelta(hours=1)) == 1


def test_each_teacher_gets_their_own_and_an_inactive_teacher_none(week):
    other, gone = TeacherFactory(), TeacherFactory()
    ended(week, noon(), hours=80)
    ended(week, noon(), hours=80, teacher=other)
    ended(week, noon(), hours=25, teacher=gone)
    ended(week, noon(), hours=80, teacher=gone)
    gone.active = False
    gone.save()

    attendance_reminders_send(now=noon())

    assert sorted(email.recipient for email in EmailLog.objects.all()) == sorted(
        [week.teacher.user.email, other.user.email]
    )


def test_the_selector_finds_a_teachers_unmarked_lessons_oldest_first(week):
    older, newer = ended(week, noon(), hours=50), ended(week, noon(), hours=30)
    ended(week, noon(), hours=2)
    ended(week, noon(), hours=50, teacher=TeacherFactory())

    assert list(lessons_unmarked(teacher=week.teacher, now=noon())) == [older, newer]
    assert lessons_unmarked(now=noon()).count() == 3


def test_the_reminders_run_hourly_in_the_worker(week):
    # The migration's own function (a transactional test elsewhere may have flushed the row it made).
    migration = importlib.import_module("scheduling.migrations.0011_attendance_reminders_schedule")
    Schedule.objects.filter(func=migration.REMINDERS).delete()
    for _ in range(2):
        migration.schedule_reminders(apps, schema_editor=None)
    ended(week, timezone.now(), hours=25)

    schedule = Schedule.objects.get(func="scheduling.tasks.attendance_reminders")

    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 60, -1)
    assert attendance_reminders() == 1
