"""A child with a standing weekly lesson (Mondays 16:00 with their teacher, from today to the term's end), the school
around them relative to today: what a pause, a withdrawal and a change act on."""

from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest

from accounts.models import User
from cedarheights.selectors import school_today
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student, Teacher, Term, WeeklyLesson
from scheduling.weekly_lessons import weekly_lesson_book
from tests.factories import (
    AcademicYearFactory,
    AvailabilityFactory,
    EnrollmentFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TermFactory,
    TuitionPlanFactory,
)


def next_weekday(day: date, weekday: int) -> date:
    """The first `weekday` after `day` (never `day` itself)."""
    return day + timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)


@dataclass
class Child:
    parent: User
    student: Student
    enrollment: Enrollment
    teacher: Teacher
    weekly: WeeklyLesson
    term: Term

    def lessons(self) -> list[Lesson]:
        return list(Lesson.objects.filter(student=self.student).order_by("start_at"))

    def to_come(self) -> list[Lesson]:
        return [lesson for lesson in self.lessons() if lesson.status == Lesson.Status.SCHEDULED]


def teacher_every_day() -> Teacher:
    teacher = TeacherFactory()
    for weekday in range(7):
        AvailabilityFactory(teacher=teacher, weekday=weekday, start_time="08:00", end_time="21:00")
    return teacher


def child_with_weekly_lesson(*, teacher: Teacher, term: Term, weekday: int = 0, at: time = time(16)) -> Child:
    parent = ParentFactory()
    student = StudentFactory(family=parent.family, teacher=teacher)
    plan = TuitionPlanFactory(price_cents=16_000, lesson_rate_cents=4_000)
    enrollment = EnrollmentFactory(student=student, status=Enrollment.Status.ACTIVE, tuition_plan=plan)
    weekly = weekly_lesson_book(
        student=student,
        teacher=teacher,
        weekday=weekday,
        start_time=at,
        minutes=30,
        starts_on=school_today() + timedelta(days=1),
    )
    return Child(parent, student, enrollment, teacher, weekly, term)


def term_around_today() -> Term:
    today = school_today()
    year = AcademicYearFactory(start_date=today - timedelta(days=200), end_date=today + timedelta(days=300))
    return TermFactory(
        academic_year=year,
        name="This term",
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=150),
    )


@pytest.fixture
def term(school) -> Term:
    return term_around_today()


@pytest.fixture
def child(term) -> Child:
    return child_with_weekly_lesson(teacher=teacher_every_day(), term=term)
