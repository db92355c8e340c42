"""A school paying its teachers weekly (Monday to Sunday), on the lesson week's school (tests/lesson_week.py): the
week's teacher with a fixed $30 rate for 30-minute lessons, a second teacher, and lessons placed on days relative to
today (last week's and the week before's periods are over; this week's is not)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest

from billing.payroll.models import PayPeriod, PayRate
from billing.payroll.selectors import pay_period_of_day
from billing.payroll.services import pay_periods_generate, pay_rate_create
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import school_settings_update
from scheduling.models import Lesson, Student, Teacher
from scheduling.outcomes import Outcome
from scheduling.services import lesson_create, lesson_outcome_set
from tests.factories import AvailabilityFactory, TeacherFactory
from tests.lesson_week import LessonWeek

FIXED_30 = 3000  # the week's teacher: $30 a 30-minute lesson


@dataclass
class Payroll:
    week: LessonWeek
    other: Teacher  # a second teacher of the same instrument (a substitute)

    @property
    def teacher(self) -> Teacher:
        return self.week.teacher

    @property
    def this_monday(self) -> date:
        today = school_today()
        return today - timedelta(days=today.weekday())

    def monday(self, weeks_ago: int) -> date:
        return self.this_monday - timedelta(weeks=weeks_ago)

    def lesson_on(
        self,
        day: date,
        *,
        at: int | time = 10,
        minutes: int = 30,
        teacher: Teacher | None = None,
        student: Student | None = None,
        outcome: str = Outcome.ATTENDED,
        kind: str = Lesson.Kind.REGULAR,
    ) -> Lesson:
        zone = school_settings_get().zone
        start = datetime.combine(day, time(at) if isinstance(at, int) else at, tzinfo=zone)
        lesson = lesson_create(
            teacher=teacher or self.teacher,
            student=student or self.week.student,
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            term=self.week.term,
            kind=kind,
            check_availability=False,
        )
        if outcome:
            lesson = lesson_outcome_set(lesson=lesson, outcome=outcome, actor=None)
        return lesson

    def period(self, day: date) -> PayPeriod:
        pay_periods_generate()
        return pay_period_of_day(day=day)


@pytest.fixture
def payroll(week) -> Payroll:
    school_settings_update(school_settings=school_settings_get(), pay_period="weekly")
    other = TeacherFactory(instruments=[week.student.instrument])
    for weekday in range(7):
        AvailabilityFactory(teacher=other, weekday=weekday, start_time="08:00", end_time="21:00")
    start = school_today() - timedelta(days=120)
    pay_rate_create(
        actor=None, teacher=week.teacher, kind=PayRate.Kind.FIXED, lesson_minutes=30, amount_cents=FIXED_30,
        effective_from=start,
    )  # fmt: skip
    return Payroll(week=week, other=other)
