"""The owner's figures about the calendar (the admin's dashboard and `GET /api/v1/dashboard/`): how full the
teachers' weeks are, and the lessons nobody marked. A fixed number of queries, whatever the school's size."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum

from cedarheights.periods import Period, percent_of
from scheduling.local_time import days_between
from scheduling.models import Closure, Lesson, WeeklyAvailability

LESSON_LENGTH = ExpressionWrapper(F("end_at") - F("start_at"), output_field=DurationField())


@dataclass(frozen=True)
class Utilisation:
    booked_minutes: int
    available_minutes: int

    @property
    def percent(self) -> float | None:
        return percent_of(self.booked_minutes, self.available_minutes)


@dataclass(frozen=True)
class WeekUtilisation(Utilisation):
    week: date  # its Monday


@dataclass(frozen=True)
class TeacherUtilisation(Utilisation):
    teacher_id: int
    teacher: str


@dataclass(frozen=True)
class SchoolUtilisation:
    weeks: list[WeekUtilisation]  # oldest first; the last is this week
    teachers: list[TeacherUtilisation]  # this week, by name


def teacher_utilisation(*, weeks: list[Period]) -> SchoolUtilisation:
    """Booked ÷ available minutes of the active teachers, each week of `weeks` (the school's total) and in the last
    one (each teacher). Available: their weekly hours on each day neither the school nor they are closed; booked:
    their lessons that week not cancelled (a make-up outside their hours counts too, so a week can pass 100 %).
    Three queries: the hours, the closures, the lessons' minutes summed in SQL per teacher and week."""
    first, after = weeks[0].first, weeks[-1].after
    windows = WeeklyAvailability.objects.filter(teacher__active=True).values_list(
        "teacher_id", "teacher__user__first_name", "teacher__user__last_name", "weekday", "start_time", "end_time"
    )
    names: dict[int, str] = {}
    minutes_on_weekday: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for teacher_id, first_name, last_name, weekday, start, end in windows:
        names[teacher_id] = f"{first_name} {last_name}".strip()
        minutes_on_weekday[teacher_id][weekday] += _minutes(start, end)
    closed: dict[int | None, set[date]] = defaultdict(set)
    closures = Closure.objects.filter(start_date__lt=after, end_date__gte=first).values_list(
        "teacher_id", "start_date", "end_date"
    )
    for teacher_id, start_date, end_date in closures:
        closed[teacher_id].update(days_between(max(start_date, first), min(end_date, after - timedelta(days=1))))

    booked_rows = (
        Lesson.objects.filter(teacher__active=True, start_at__gte=weeks[0].start_at, start_at__lt=weeks[-1].end_at)
        .exclude(status=Lesson.Status.CANCELLED)
        .values("teacher", "teacher__user__first_name", "teacher__user__last_name")
        .annotate(
            **{
                f"w{n}": Sum(LESSON_LENGTH, filter=Q(start_at__gte=week.start_at, start_at__lt=week.end_at))
                for n, week in enumerate(weeks)
            }
        )
        .order_by()
    )
    booked: dict[int, list[int]] = {}
    for row in booked_rows:
        names[row["teacher"]] = f"{row['teacher__user__first_name']} {row['teacher__user__last_name']}".strip()
        booked[row["teacher"]] = [
            row[f"w{n}"] // timedelta(minutes=1) if row[f"w{n}"] else 0 for n in range(len(weeks))
        ]

    def available(teacher_id: int, week: Period) -> int:
        off = closed[None] | closed[teacher_id]
        hours = minutes_on_weekday.get(teacher_id, {})
        return sum(
            hours.get(day.weekday(), 0)
            for day in days_between(week.first, week.after - timedelta(days=1))
            if day not in off
        )

    teacher_ids = set(names)
    school_weeks = [
        WeekUtilisation(
            week=week.first,
            booked_minutes=sum(booked.get(t, [0] * len(weeks))[n] for t in teacher_ids),
            available_minutes=sum(available(t, week) for t in teacher_ids),
        )
        for n, week in enumerate(weeks)
    ]
    this_week = weeks[-1]
    teachers = [
        TeacherUtilisation(
            teacher_id=t,
            teacher=names[t],
            booked_minutes=booked.get(t, [0] * len(weeks))[-1],
            available_minutes=available(t, this_week),
        )
        for t in teacher_ids
    ]
    return SchoolUtilisation(weeks=school_weeks, teachers=sorted(teachers, key=lambda t: (t.teacher, t.teacher_id)))


def _minutes(start, end) -> int:
    return (datetime.combine(date.min, end) - datetime.combine(date.min, start)) // timedelta(minutes=1)


@dataclass(frozen=True)
class UnmarkedLessons:
    past: int  # lessons that ended and have no outcome
    oldest_ended_at: datetime | None


def lessons_unmarked_count(*, now: datetime) -> UnmarkedLessons:
    """Lessons past and without an outcome (the partial index `lesson_unmarked` finds them). One query."""
    counts = Lesson.objects.filter(outcome="", end_at__lt=now).aggregate(past=Count("id"), oldest=Min("end_at"))
    return UnmarkedLessons(past=counts["past"], oldest_ended_at=counts["oldest"])
