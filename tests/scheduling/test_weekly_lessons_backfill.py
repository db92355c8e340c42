"""A school booked before weekly lessons were recorded (issue 15): migration scheduling/0010 reads each active
child's standing weekly time from their regular lessons still to come and links those lessons to it, so the next
term's rollover finds them; past, cancelled and withdrawn children's lessons make none. Its outcomes migration
(0009) gives lessons already taught or cancelled the outcome their status meant."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from scheduling.models import Lesson, WeeklyLesson
from tests.migration_states import migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("scheduling", "0008_student_moves_here")]
LATEST = [("scheduling", "0010_weekly_lessons_from_booked_lessons")]


def _migrate(targets):
    """Migrates to the targets (what depends on them is unapplied) and gives the models as the database has them."""
    return migrate_to(targets)


def test_weekly_times_and_outcomes_come_from_the_lessons_already_booked():
    old = _migrate(BEFORE)
    family = old.get_model("accounts", "Family").objects.create(name="Backfill")
    piano = old.get_model("scheduling", "Instrument").objects.create(name="Clavichord")
    user = old.get_model("accounts", "User").objects.create(email="teacher-backfill@example.com", role="teacher")
    teacher = old.get_model("scheduling", "Teacher").objects.create(user=user)
    Student = old.get_model("scheduling", "Student")
    born = date.today() - timedelta(days=9 * 365)
    active = Student.objects.create(
        family=family, first_name="Ada", last_name="B", date_of_birth=born, instrument=piano, status="active"
    )
    withdrawn = Student.objects.create(
        family=family, first_name="Bo", last_name="B", date_of_birth=born, instrument=piano, status="withdrawn"
    )
    Lesson_ = old.get_model("scheduling", "Lesson")
    first = (timezone.localtime() + timedelta(days=3)).replace(hour=16, minute=30, second=0, microsecond=0)
    for week in range(3):
        start = first + timedelta(weeks=week)
        Lesson_.objects.create(teacher=teacher, student=active, start_at=start, end_at=start + timedelta(minutes=45))
    past = first - timedelta(weeks=2)
    Lesson_.objects.create(
        teacher=teacher, student=active, start_at=past, end_at=past + timedelta(minutes=45), status="completed"
    )
    later = first + timedelta(hours=2)
    Lesson_.objects.create(teacher=teacher, student=withdrawn, start_at=later, end_at=later + timedelta(minutes=30))
    try:
        _migrate(LATEST)

        weekly = WeeklyLesson.objects.get(student_id=active.pk)
        assert (weekly.teacher_id, weekly.weekday, weekly.start_time.strftime("%H:%M"), weekly.minutes) == (
            teacher.pk,
            first.weekday(),
            "16:30",
            45,
        )
        assert weekly.starts_on == first.date()
        assert Lesson.objects.filter(weekly_lesson=weekly).count() == 3
        # The columns of that migration's day only: later migrations add others (the calendar uid).
        outcome = Lesson.objects.values_list("outcome", flat=True).get(student_id=active.pk, start_at=past)
        assert outcome == Lesson.Outcome.ATTENDED
        assert not WeeklyLesson.objects.filter(student_id=withdrawn.pk).exists()
    finally:
        _migrate([node for node in MigrationExecutor(connection).loader.graph.leaf_nodes()])
