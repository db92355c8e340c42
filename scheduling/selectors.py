"""Reads for scheduling: the conflict questions the services ask, who sees which lessons and teachers'
cancellations, the week's figures.

The free-slot finder is scheduling/slots.py.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from cedarheights.periods import local_midnight
from cedarheights.roles import is_parent, is_school_admin, is_teacher
from cedarheights.selectors import school_settings_get
from scheduling.local_time import days_between, local_datetime
from scheduling.models import (
    LONGEST_LESSON,
    Closure,
    Lesson,
    MakeupBlock,
    Student,
    Teacher,
    TeacherCancellation,
    Term,
    WeeklyAvailability,
)


def closed_dates(*, teacher_ids: Sequence[int], start_date: date, end_date: date) -> dict[int | None, set[date]]:
    """Dates without lessons between two dates: key None for the whole school, else a teacher's id."""
    closed: dict[int | None, set[date]] = defaultdict(set)
    closures = Closure.objects.filter(start_date__lte=end_date, end_date__gte=start_date).filter(
        Q(teacher__isnull=True) | Q(teacher_id__in=teacher_ids)
    )
    for teacher_id, first, last in closures.values_list("teacher_id", "start_date", "end_date"):
        closed[teacher_id].update(days_between(max(first, start_date), min(last, end_date)))
    return closed


def weekly_starts(
    *,
    student_id: int,
    teacher_id: int,
    term: Term,
    weekday: int,
    start_time: time,
    zone: ZoneInfo,
    from_date: date | None = None,
    weekly_lesson_id: int | None = None,
) -> list[datetime]:
    """The weeks of a weekly time still to book in a term, from `from_date`: each `weekday` at the local wall-clock
    `start_time` (DST moves no lesson), but the school's and the teacher's closures, a time the spring-forward gap
    skips, and a week already booked: a lesson of the student with the teacher at that time, not cancelled; and for
    a weekly lesson, any week it already has a lesson in, whatever became of it (a week the family cancelled, or
    one moved to another day, is not booked again)."""
    first = max(term.start_date, from_date or term.start_date)
    first += timedelta(days=(weekday - first.weekday()) % 7)
    closed = closed_dates(teacher_ids=[teacher_id], start_date=first, end_date=term.end_date)
    existing = set(
        Lesson.objects.filter(student_id=student_id, teacher_id=teacher_id, start_at__date__gte=first)
        .exclude(status=Lesson.Status.CANCELLED)
        .values_list("start_at", flat=True)
    )
    weeks_done = set()
    if weekly_lesson_id is not None:
        since = datetime.combine(first - timedelta(days=7), time.min, tzinfo=zone)
        had = Lesson.objects.filter(weekly_lesson_id=weekly_lesson_id, start_at__gte=since)
        weeks_done = {_monday(start_at.astimezone(zone).date()) for start_at in had.values_list("start_at", flat=True)}
    starts = []
    day = first
    while day <= term.end_date:
        start_at = local_datetime(day, start_time, zone)
        if (
            start_at is not None
            and day not in closed[None]
            and day not in closed[teacher_id]
            and start_at not in existing
            and _monday(day) not in weeks_done
        ):
            starts.append(start_at)
        day += timedelta(days=7)
    return starts


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def overlapping(*, start_at: datetime, end_at: datetime) -> Q:
    """Lessons overlapping [start_at, end_at): as none lasts longer than LONGEST_LESSON, they start after
    start_at - LONGEST_LESSON, which lets an index on start_at find them."""
    return Q(start_at__lt=end_at, start_at__gt=start_at - LONGEST_LESSON, end_at__gt=start_at)


def lessons_overlapping(
    *, start_at: datetime, end_at: datetime, exclude_lesson_id: int | None = None
) -> QuerySet[Lesson]:
    lessons = Lesson.objects.filter(overlapping(start_at=start_at, end_at=end_at)).exclude(
        status=Lesson.Status.CANCELLED
    )
    return lessons.exclude(id=exclude_lesson_id) if exclude_lesson_id else lessons


def closure_on(*, teacher_id: int, day: date) -> Closure | None:
    return (
        Closure.objects.filter(start_date__lte=day, end_date__gte=day)
        .filter(Q(teacher__isnull=True) | Q(teacher_id=teacher_id))
        .first()
    )


def availability_covers(*, teacher_id: int, start_at: datetime, end_at: datetime, zone: ZoneInfo) -> bool:
    """Whether the lesson lies inside one of the teacher's weekly windows, on one local day."""
    local_start, local_end = start_at.astimezone(zone), end_at.astimezone(zone)
    if local_start.date() != local_end.date():
        return False
    return WeeklyAvailability.objects.filter(
        teacher_id=teacher_id,
        weekday=local_start.weekday(),
        start_time__lte=local_start.time(),
        end_time__gte=local_end.time(),
    ).exists()


def terms_overlapping(*, start_date: date, end_date: date, exclude_id: int | None = None) -> QuerySet[Term]:
    terms = Term.objects.filter(start_date__lte=end_date, end_date__gte=start_date).select_related("academic_year")
    return terms.exclude(id=exclude_id) if exclude_id else terms


def lesson_list_visible_to(user) -> QuerySet[Lesson]:
    """Admin: every lesson; a teacher: their own; a parent: their family's children's."""
    # The names shown come from the teacher's user and the student; the room is shown by its id alone.
    lessons = Lesson.objects.select_related("teacher__user", "student").order_by("start_at", "id")
    if is_school_admin(user):
        return lessons
    if is_teacher(user):
        return lessons.filter(teacher_id=user.teacher.pk)
    if is_parent(user):
        return lessons.filter(student__family_id=user.family_id)
    return lessons.none()


# Teachers' cancellations awaiting the owner's decision come first (the API's list, the admin's).
PENDING_FIRST = Case(When(decision=TeacherCancellation.Decision.PENDING, then=Value(0)), default=Value(1)).asc()


def teacher_cancellation_list_visible_to(user) -> QuerySet[TeacherCancellation]:
    """Admin: every teacher's cancellation, those awaiting a decision first; a teacher: their own; others none."""
    cancellations = TeacherCancellation.objects.select_related("teacher__user", "lesson__student").order_by(
        PENDING_FIRST, "-reported_at", "-id"
    )
    if is_school_admin(user):
        return cancellations
    if is_teacher(user):
        return cancellations.filter(teacher_id=user.teacher.pk)
    return cancellations.none()


def school_week_figures() -> dict[str, int]:
    """The owner's dashboard: active students, and this week's lessons (Monday to Sunday in the school's zone)."""
    zone = school_settings_get().zone
    today = timezone.localdate(timezone=zone)
    week_start = timezone.make_aware(datetime.combine(today - timedelta(days=today.weekday()), time.min), zone)
    lessons = Lesson.objects.filter(start_at__gte=week_start, start_at__lt=week_start + timedelta(days=7)).aggregate(
        this_week=Count("id", filter=~Q(status=Lesson.Status.CANCELLED)),
        cancelled_this_week=Count("id", filter=Q(status=Lesson.Status.CANCELLED)),
    )
    return {
        "active_students": Student.objects.filter(status=Student.Status.ACTIVE).count(),
        "lessons_this_week": lessons["this_week"],
        "cancelled_this_week": lessons["cancelled_this_week"],
    }


def cancellation_notice_given(*, start_at: datetime, now: datetime) -> bool:
    """Whether a family cancelling at `now` gives the school's notice (`cancellation_notice_hours`) for a lesson
    starting at `start_at`. Measured back from the start on the school's clock, as a family reads it: 24 hours' notice
    for a lesson at 17:00 ends at 17:00 the day before, even when a DST change falls between (23 or 25 hours)."""
    school = school_settings_get()
    on_the_clock = start_at.astimezone(school.zone).replace(tzinfo=None) - now.astimezone(school.zone).replace(
        tzinfo=None
    )
    return on_the_clock >= timedelta(hours=school.cancellation_notice_hours)


def cancellation_window_closes(*, start_at: datetime) -> datetime:
    """When a family stops giving notice for a lesson starting at `start_at` (`cancellation_notice_given`): the
    school's notice hours before the start on the school's clock, in its zone. Cancelling at this very minute still
    gives notice."""
    school = school_settings_get()
    on_the_clock = start_at.astimezone(school.zone).replace(tzinfo=None)
    return (on_the_clock - timedelta(hours=school.cancellation_notice_hours)).replace(tzinfo=school.zone)


def sick_passes_left(*, lesson: Lesson) -> int:
    """Sick passes the child has left in the lesson's term (School settings: per enrollment per term)."""
    used = (
        Lesson.objects.filter(
            student_id=lesson.student_id, term_id=lesson.term_id, outcome=Lesson.Outcome.LATE_CANCEL_SICK
        )
        .exclude(pk=lesson.pk)
        .count()
    )
    return max(school_settings_get().sick_passes_per_term - used, 0)


# A lesson is overdue for its attendance this long after it ended (the owner's dashboard, the teachers' reminders).
UNMARKED_AFTER = timedelta(hours=24)


def lesson_week_owner_figures() -> dict[str, int]:
    """The owner's dashboard: teachers' cancellations awaiting a decision, and lessons nobody marked."""
    return {
        "teacher_cancellations_pending": TeacherCancellation.objects.filter(
            decision=TeacherCancellation.Decision.PENDING
        ).count(),
        "lessons_unmarked": lessons_unmarked(older_than=UNMARKED_AFTER).count(),
    }


# A teacher's side of the lesson week: their days, what is left to mark, their students, their make-up blocks.

# What a teacher's lists show of each lesson, in one query.
TEACHING_RELATED = ("student__instrument", "room", "teacher__user")


def lessons_unmarked(
    *, teacher: Teacher | None = None, older_than: timedelta = UNMARKED_AFTER, now: datetime | None = None
) -> QuerySet[Lesson]:
    """Lessons still without an outcome that ended more than `older_than` before `now` (every teacher's, or one's),
    oldest first. The partial index `lesson_unmarked` (teacher, end_at WHERE outcome = '') finds them."""
    lessons = Lesson.objects.filter(outcome="", end_at__lt=(now or timezone.now()) - older_than)
    if teacher is not None:
        lessons = lessons.filter(teacher=teacher)
    return lessons.select_related(*TEACHING_RELATED).order_by("end_at", "pk")


def lessons_of_days(*, teacher_id: int | None, first_day: date, last_day: date) -> QuerySet[Lesson]:
    """Lessons starting on the local days `first_day` to `last_day` (every teacher's, or one's), cancelled ones
    too (a teacher wants to see them go), by start."""
    zone = school_settings_get().zone
    lessons = Lesson.objects.filter(
        start_at__gte=local_midnight(first_day, zone),
        start_at__lt=local_midnight(last_day + timedelta(days=1), zone),
    )
    if teacher_id is not None:
        lessons = lessons.filter(teacher_id=teacher_id)
    return lessons.select_related(*TEACHING_RELATED).order_by("start_at", "pk")


# A lesson of an earlier day that its teacher marks stays in their box this long, its Undo at hand.
JUST_MARKED = timedelta(minutes=30)
UNDOABLE_OUTCOMES = (Lesson.Outcome.ATTENDED, Lesson.Outcome.NO_SHOW)


@dataclass(frozen=True)
class TeacherWeek:
    """A teacher's page: today and the six days after it, each with its lessons (today first), and the lessons of
    earlier days still to mark."""

    today: date
    days: list[tuple[date, list[Lesson]]]
    still_to_mark: list[Lesson]

    def lessons(self) -> list[Lesson]:
        """Every lesson the page shows."""
        return [*(lesson for _, lessons in self.days for lesson in lessons), *self.still_to_mark]


def teacher_week(*, teacher: Teacher, days: int = 7) -> TeacherWeek:
    zone = school_settings_get().zone
    now = timezone.now()
    today = now.astimezone(zone).date()
    last_day = today + timedelta(days=days - 1)
    by_day: dict[date, list[Lesson]] = {today + timedelta(days=n): [] for n in range(days)}
    for lesson in lessons_of_days(teacher_id=teacher.pk, first_day=today, last_day=last_day):
        by_day[lesson.start_at.astimezone(zone).date()].append(lesson)
    # Today's lessons are in today's list; the box holds those that began on earlier days and ended unmarked, one
    # that ran past midnight included (by its end it would be in neither), and those just marked, so a wrong tap on
    # one of them can still be undone.
    earlier = (
        Lesson.objects.filter(teacher=teacher, start_at__lt=local_midnight(today, zone), end_at__lt=now)
        .filter(Q(outcome="") | Q(outcome__in=UNDOABLE_OUTCOMES, outcome_set_at__gte=now - JUST_MARKED))
        .select_related(*TEACHING_RELATED)
        .order_by("end_at", "pk")
    )
    return TeacherWeek(today=today, days=list(by_day.items()), still_to_mark=list(earlier))


def teacher_lesson_get(*, teacher: Teacher, lesson_id: int) -> Lesson | None:
    """One of the teacher's own lessons; None for anyone else's (their pages answer 404)."""
    return Lesson.objects.select_related(*TEACHING_RELATED).filter(teacher=teacher, pk=lesson_id).first()


def teacher_students(*, teacher: Teacher) -> QuerySet[Student]:
    """The teacher's active students, each with their family's parents (names, email, phone) and `next_lesson_at`,
    the start of their next lesson with this teacher still to come (None when none is booked)."""
    next_lesson = Lesson.objects.filter(
        student=OuterRef("pk"), teacher=teacher, outcome="", start_at__gte=timezone.now()
    ).order_by("start_at")
    return (
        Student.objects.filter(teacher=teacher, status=Student.Status.ACTIVE)
        .select_related("instrument", "family")
        .prefetch_related("family__parents")
        .annotate(next_lesson_at=Subquery(next_lesson.values("start_at")[:1]))
        .order_by("first_name", "last_name", "pk")
    )


def makeups_inside(
    *,
    teacher_id: int | OuterRef,
    start_at: datetime | OuterRef,
    end_at: datetime | OuterRef,
    booked_since: datetime | OuterRef,
):
    """Make-up lessons of the teacher, not cancelled, overlapping [start_at, end_at) and booked since the block was
    published (values, or a make-up block's columns in a subquery): those the block may have offered. One booked
    before it came from the teacher's free time and does not hold the block."""
    return Lesson.objects.filter(
        overlapping(start_at=start_at, end_at=end_at),
        teacher_id=teacher_id,
        kind=Lesson.Kind.MAKEUP,
        created_at__gte=booked_since,
    ).exclude(status=Lesson.Status.CANCELLED)


def makeup_blocks_visible_to(user) -> QuerySet[MakeupBlock]:
    """Admin: every teacher's make-up blocks; a teacher: their own; anyone else: none."""
    blocks = MakeupBlock.objects.select_related("teacher__user").order_by("start_at", "pk")
    if is_school_admin(user):
        return blocks
    if is_teacher(user):
        return blocks.filter(teacher_id=user.teacher.pk)
    return blocks.none()


def makeup_blocks_upcoming(*, teacher: Teacher) -> QuerySet[MakeupBlock]:
    """The teacher's make-up blocks not over yet, each with `booked`: whether a make-up lesson is booked inside."""
    booked = makeups_inside(
        teacher_id=OuterRef("teacher_id"),
        start_at=OuterRef("start_at"),
        end_at=OuterRef("end_at"),
        booked_since=OuterRef("created_at"),
    )
    return (
        MakeupBlock.objects.filter(teacher=teacher, end_at__gt=timezone.now())
        .annotate(booked=Exists(booked))
        .order_by("start_at", "pk")
    )


def term_on(*, day: date) -> Term | None:
    """The term a day falls in (terms never overlap: the constraint `term_no_overlap`)."""
    return Term.objects.filter(start_date__lte=day, end_date__gte=day).first()
