"""A school in the middle of a term, for the lesson week's tests (a plugin of tests/conftest.py): a teacher free
every day 08:00–21:00, a family whose child is enrolled with them, and lessons placed relative to now.

`week.lesson_in(hours=…)` books a weekly lesson that many hours from now (rounded to the quarter hour, which the
slot grid uses), so notice windows are tested against the real clock without fixed dates.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from cedarheights.selectors import school_settings_get
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student, Teacher, Term
from scheduling.services import lesson_create
from tests.factories import (
    AcademicYearFactory,
    AvailabilityFactory,
    EnrollmentFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TermFactory,
)


def quarter_hour(moment: datetime) -> datetime:
    moment = moment.astimezone(timezone.get_current_timezone()).replace(second=0, microsecond=0)
    return moment - timedelta(minutes=moment.minute % 15)


@dataclass
class LessonWeek:
    teacher: Teacher
    parent: User
    student: Student
    enrollment: Enrollment
    term: Term
    made: list[Lesson] = field(default_factory=list)

    def lesson_in(self, *, hours: float, minutes: int = 30, student: Student | None = None) -> Lesson:
        start = quarter_hour(timezone.now() + timedelta(hours=hours))
        lesson = lesson_create(
            teacher=self.teacher,
            student=student or self.student,
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            term=self.term,
            check_availability=False,
        )
        self.made.append(lesson)
        return lesson

    def lesson_on(self, day: date, *, hour: int = 12, student: Student | None = None, room=None) -> Lesson:
        """A 30-minute lesson on `day` at `hour` o'clock school time: a test that moves it an hour or asks who teaches
        then gets the same answer whatever time of day it runs."""
        start = datetime.combine(day, time(hour), tzinfo=school_settings_get().zone)
        lesson = lesson_create(
            teacher=self.teacher,
            student=student or self.student,
            start_at=start,
            end_at=start + timedelta(minutes=30),
            term=self.term,
            room=room,
            check_availability=False,
        )
        self.made.append(lesson)
        return lesson

    def another_family(self) -> tuple[User, Student, Enrollment]:
        parent = ParentFactory()
        student = StudentFactory(family=parent.family, instrument=self.student.instrument, teacher=self.teacher)
        return parent, student, EnrollmentFactory(student=student, status=Enrollment.Status.ACTIVE)


@pytest.fixture
def week(school) -> LessonWeek:
    today = timezone.localdate()
    year = AcademicYearFactory(start_date=today - timedelta(days=200), end_date=today + timedelta(days=200))
    term = TermFactory(
        academic_year=year, name="This term", start_date=today - timedelta(days=60), end_date=today + timedelta(days=90)
    )
    teacher = TeacherFactory()
    for weekday in range(7):
        AvailabilityFactory(teacher=teacher, weekday=weekday, start_time="08:00", end_time="21:00")
    parent = ParentFactory()
    student = StudentFactory(family=parent.family, teacher=teacher)
    enrollment = EnrollmentFactory(student=student, status=Enrollment.Status.ACTIVE)
    return LessonWeek(teacher=teacher, parent=parent, student=student, enrollment=enrollment, term=term)
