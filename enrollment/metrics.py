"""The owner's figures about students (the admin's dashboard and `GET /api/v1/dashboard/`): who is enrolled each
month, who left, who stayed a year, how long the waitlist waits, how demos convert, what make-ups are owed. Each
figure is one query, whatever the school's size.

An enrollment counts from its activation (`activated_at`; an enrollment the owner made active directly has none, so
its creation) until its end: its withdrawal's last lesson (`ends_on`), or for one cancelled, completed or paused
without a withdrawal date, the day it last changed. Pending and waitlisted enrollments never count.

A month's churn is the enrollments active on its first day that end in it, ÷ those active on its first day (so
never over 100 %: one that starts and ends within the month is not churn). Ending means leaving: a withdrawal's last
lesson, or cancelled without one (or completed after a withdrawal was given); a completed course without a
withdrawal is not a family leaving, nor is a pause."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, DateTimeField, Exists, F, OuterRef, Q, QuerySet, When
from django.db.models.functions import Coalesce

from cedarheights.periods import Period, percent_of
from enrollment.credits import credits_with_balance
from enrollment.models import Enrollment, MakeupCredit
from enrollment.selectors import EXPIRING_SOON_DAYS
from scheduling.models import Lesson, Student

Status = Enrollment.Status
NEVER_STARTED = (Status.PENDING, Status.WAITLISTED)
# Ended without a withdrawal date: the day the status last changed is the end.
ENDED = (Status.CANCELLED, Status.COMPLETED, Status.PAUSED)
# A family leaving: cancelled, or completed after giving a withdrawal (a course that ran its length is not one); a
# pause for an unpaid card is not counted as one (it resumes once paid).
WITHDRAWN = Q(status=Status.CANCELLED) | Q(status=Status.COMPLETED, withdrawal_given_on__isnull=False)
# The submission activates a child it finds a teacher for in its own transaction: activated later, they waited.
WAITED_AT_LEAST = timedelta(hours=1)
CONVERSION_DAYS = 30  # a demo converts when a regular lesson follows it within this many days


def _started_at():
    return Coalesce(
        "activated_at",
        Case(
            When(status__in=[Status.ACTIVE, Status.PAUSED, Status.COMPLETED], then=F("created_at")),
            output_field=DateTimeField(),
        ),
    )


def enrollment_spans() -> QuerySet[Enrollment]:
    """Enrollments annotated with `started_at` (None: never started)."""
    return Enrollment.objects.exclude(status__in=NEVER_STARTED).annotate(started_at=_started_at())


def _started_before(instant: datetime) -> Q:
    return Q(started_at__lt=instant)


def _not_ended_before(day: date, instant: datetime) -> Q:
    """Still enrolled on `day` (whose local midnight is `instant`)."""
    return Q(ends_on__gte=day) | (Q(ends_on__isnull=True) & (~Q(status__in=ENDED) | Q(updated_at__gte=instant)))


def _active_during(period: Period) -> Q:
    return _started_before(period.end_at) & _not_ended_before(period.first, period.start_at)


def _active_at_start(period: Period) -> Q:
    return _started_before(period.start_at) & _not_ended_before(period.first, period.start_at)


def _withdrawn_during(period: Period) -> Q:
    """Left in `period`: a withdrawal's last lesson in it, or withdrawn without one the day it last changed."""
    by_notice = Q(ends_on__gte=period.first, ends_on__lt=period.after)
    cancelled = Q(ends_on__isnull=True) & WITHDRAWN & Q(updated_at__gte=period.start_at, updated_at__lt=period.end_at)
    return Q(started_at__isnull=False) & (by_notice | cancelled)


def _churned_during(month: Period) -> Q:
    """The churn's numerator: of the enrollments active on the month's first day (its denominator), those that left
    in it."""
    return _active_at_start(month) & _withdrawn_during(month)


@dataclass(frozen=True)
class StudentMonth:
    month: date
    active_students: int  # distinct students with an enrollment active at some time in the month
    active_at_start: int  # enrollments active on its first day
    withdrawals: int  # of those, the ones that left in it

    @property
    def churn_percent(self) -> float | None:
        return percent_of(self.withdrawals, self.active_at_start)


def students_by_month(*, months: list[Period]) -> list[StudentMonth]:
    """Active students, enrollments at each month's start and withdrawals in it, for each month. One query."""
    aggregates = {}
    for n, month in enumerate(months):
        aggregates[f"students{n}"] = Count("student", distinct=True, filter=_active_during(month))
        aggregates[f"start{n}"] = Count("id", filter=_active_at_start(month))
        aggregates[f"left{n}"] = Count("id", filter=_churned_during(month))
    counts = enrollment_spans().aggregate(**aggregates)
    return [
        StudentMonth(month.first, counts[f"students{n}"], counts[f"start{n}"], counts[f"left{n}"])
        for n, month in enumerate(months)
    ]


@dataclass(frozen=True)
class Retention:
    active_a_year_ago: int
    still_active: int

    @property
    def percent(self) -> float | None:
        return percent_of(self.still_active, self.active_a_year_ago)


def retention_over_a_year(*, then: Period, now: Period) -> Retention:
    """Students enrolled on the day `then` (a year ago) who are enrolled on the day `now` (today), whatever the
    instrument or enrollment. One query."""

    def enrolled_on(day: Period):
        return Exists(
            enrollment_spans().filter(
                _started_before(day.end_at) & _not_ended_before(day.first, day.start_at), student=OuterRef("pk")
            )
        )

    counts = Student.objects.aggregate(
        then=Count("id", filter=Q(enrolled_on(then))),
        kept=Count("id", filter=Q(enrolled_on(then)) & Q(enrolled_on(now))),
    )
    return Retention(active_a_year_ago=counts["then"], still_active=counts["kept"])


@dataclass(frozen=True)
class TeacherChurn:
    teacher_id: int
    teacher: str
    enrolled: int  # enrollments of the teacher's students active at some time in the period
    withdrawals: int

    @property
    def churn_percent(self) -> float | None:
        return percent_of(self.withdrawals, self.enrolled)


def churn_by_teacher(*, period: Period) -> list[TeacherChurn]:
    """For each teacher (of the student now), the enrollments active in `period` and those that ended in it, most
    churn first. One query."""
    rows = (
        enrollment_spans()
        .filter(_active_during(period), student__teacher__isnull=False)
        .values("student__teacher", "student__teacher__user__first_name", "student__teacher__user__last_name")
        .annotate(enrolled=Count("id"), withdrawals=Count("id", filter=_withdrawn_during(period)))
        .order_by("student__teacher__user__last_name", "student__teacher__user__first_name", "student__teacher")
    )
    teachers = [
        TeacherChurn(
            teacher_id=row["student__teacher"],
            teacher=f"{row['student__teacher__user__first_name']} {row['student__teacher__user__last_name']}".strip(),
            enrolled=row["enrolled"],
            withdrawals=row["withdrawals"],
        )
        for row in rows
    ]
    return sorted(teachers, key=lambda t: -(t.churn_percent or 0))


@dataclass(frozen=True)
class Waitlist:
    size: int
    waits_counted: int  # children who waited: those still waiting, and those activated off the waitlist
    median_wait_days: float | None


def waitlist_waits(*, since: datetime, now: datetime) -> Waitlist:
    """The waitlist now, and the median wait from submission to a teacher: of children activated off the waitlist
    since `since`, and of those still waiting (counted to `now`). One query."""
    rows = list(
        Enrollment.objects.filter(
            Q(status=Status.WAITLISTED)
            | Q(activated_at__gte=since, activated_at__lte=now, activated_at__gt=F("created_at") + WAITED_AT_LEAST)
        ).values_list("status", "created_at", "activated_at")
    )
    waits = [((activated_at or now) - created_at).total_seconds() / 86400 for _, created_at, activated_at in rows]
    return Waitlist(
        size=sum(1 for status, _, _ in rows if status == Status.WAITLISTED),
        waits_counted=len(waits),
        median_wait_days=round(statistics.median(waits), 1) if waits else None,
    )


@dataclass(frozen=True)
class DemoConversion:
    demos: int
    converted: int

    @property
    def percent(self) -> float | None:
        return percent_of(self.converted, self.demos)


def demo_conversion(*, since: datetime, now: datetime) -> DemoConversion:
    """Demo lessons given between `since` and `now` (not cancelled), and those followed by a regular lesson of the
    child (not cancelled) within CONVERSION_DAYS. One query."""
    followed = Lesson.objects.filter(
        student=OuterRef("student"),
        kind=Lesson.Kind.REGULAR,
        start_at__gt=OuterRef("start_at"),
        start_at__lte=OuterRef("start_at") + timedelta(days=CONVERSION_DAYS),
    ).exclude(status=Lesson.Status.CANCELLED)
    counts = (
        Lesson.objects.filter(kind=Lesson.Kind.DEMO, start_at__gte=since, start_at__lte=now)
        .exclude(status=Lesson.Status.CANCELLED)
        .aggregate(demos=Count("id"), converted=Count("id", filter=Q(Exists(followed))))
    )
    return DemoConversion(demos=counts["demos"], converted=counts["converted"])


@dataclass(frozen=True)
class MakeupLiability:
    open_credits: int  # make-up lessons the school owes (unused, not expired)
    expiring_soon: int  # of them, expiring within EXPIRING_SOON_DAYS


def makeup_liability(*, today: date) -> MakeupLiability:
    """One query."""
    counts = (
        credits_with_balance(MakeupCredit.objects.filter(expires_on__gte=today))
        .filter(balance=1)
        .aggregate(
            open=Count("id"),
            soon=Count("id", filter=Q(expires_on__lte=today + timedelta(days=EXPIRING_SOON_DAYS))),
        )
    )
    return MakeupLiability(open_credits=counts["open"], expiring_soon=counts["soon"])
