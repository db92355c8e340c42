"""The shipped samples import whole, with their weekly lessons, and importing them again changes nothing."""

import time

import pytest

from accounts.models import Family, User
from cedarheights.school_import.run import NEW, UNCHANGED
from scheduling.models import Lesson, Student, Teacher, WeeklyAvailability, WeeklyLesson
from tests.school_import.samples import run

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Family, User, Student, Teacher, WeeklyAvailability, WeeklyLesson, Lesson)
    }


def test_the_teachers_sheet_makes_teachers_with_instruments_and_hours_and_no_password(term, owner):
    report = run("teachers.csv", actor=owner)

    assert report.committed and report.count(NEW) == 12
    clara = Teacher.objects.get(external_id="T-1")
    assert clara.user.email == "clara.wieck@teachers.example.com" and not clara.user.has_usable_password()
    assert sorted(clara.instruments.values_list("name", flat=True)) == ["Piano", "Voice"]
    assert clara.availability.count() == 6


@pytest.mark.parametrize(
    ("name", "children_with_lessons"),
    [("my_music_staff_500.csv", None), ("template_500.csv", 500)],
)
def test_a_500_row_sample_imports_with_its_lessons_and_again_changes_nothing(
    teachers_imported, owner, name, children_with_lessons, mailoutbox
):
    started = time.monotonic()
    report = run(name, actor=owner)
    print(f"\n{name}: {len(report.rows)} rows in {time.monotonic() - started:.1f} s")  # reported, not asserted

    assert report.committed and not report.failed
    assert Student.objects.count() == 500
    weekly = WeeklyLesson.objects.count()
    if children_with_lessons:
        assert weekly == children_with_lessons
    assert weekly > 400 and Lesson.objects.filter(weekly_lesson__isnull=False).count() >= weekly
    assert not User.objects.filter(role=User.Role.PARENT).exclude(password__startswith="!").exists()
    assert mailoutbox == []
    before, lessons_updated = _counts(), sorted(Lesson.objects.values_list("pk", "updated_at"))

    again = run(name, actor=owner)

    assert again.committed and {row.outcome for row in again.rows} == {UNCHANGED}
    assert _counts() == before
    assert sorted(Lesson.objects.values_list("pk", "updated_at")) == lessons_updated
