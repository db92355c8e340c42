"""A child's standing weekly time (`WeeklyLesson`) and its lessons, term by term: booked when the child enrolls
(`weekly_lesson_book`: the term of its first week and every later term already made), rolled by the owner into a
term made since (`term_rollover`, shown first by `term_rollover_preview`), and ended when the family withdraws or
the enrollment pauses (`weekly_lesson_end`).

Each week is the weekday at the same wall-clock time in the school's zone, so a change of DST moves no lesson;
closures are skipped. A weekly lesson is booked whole in a term or not at all: a week that clashes with another
lesson, or a teacher who no longer teaches then, holds it back, and the owner is told why, week by week.

Locks: the teachers, then the students (the one order of every writer of lessons, scheduling.services), then the
weekly lessons.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import ClassVar

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from cedarheights.errors import DomainError, InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import audit_record
from scheduling.errors import LessonConflict, WeeklyTimeTaken
from scheduling.models import Lesson, Room, Student, Teacher, Term, WeeklyLesson
from scheduling.selectors import overlapping, weekly_starts
from scheduling.services import booking_lock, lesson_slot_validate, term_lessons_generate


@dataclass(frozen=True)
class Conflict:
    """Why a weekly lesson is not booked in a term: one week's clash (`on`, a local date), or a reason that holds
    for every week (`on` None: the teacher is inactive, or no longer teaches at that time)."""

    on: date | None
    code: str
    message: str


@dataclass(frozen=True)
class WeeklyLessonPlan:
    """One weekly lesson in a term: the local days of its weeks to book (in a result: booked, or held back), and
    what stands in the way."""

    weekly_lesson: WeeklyLesson
    days: tuple[date, ...]
    conflicts: tuple[Conflict, ...] = ()

    @property
    def lessons(self) -> int:
        return len(self.days)

    @property
    def first_day(self) -> date | None:
        return self.days[0] if self.days else None

    @property
    def last_day(self) -> date | None:
        return self.days[-1] if self.days else None


@dataclass(frozen=True)
class Rollover:
    """Every weekly lesson a term takes, planned (a preview) or booked (a result)."""

    term: Term
    plans: tuple[WeeklyLessonPlan, ...]
    preview: ClassVar[bool]

    @property
    def booked(self) -> tuple[WeeklyLessonPlan, ...]:
        """The weekly lessons without a conflict: booked whole (those with nothing left to book included)."""
        return tuple(plan for plan in self.plans if not plan.conflicts)

    @property
    def conflicted(self) -> tuple[WeeklyLessonPlan, ...]:
        """The weekly lessons held back: no week of theirs is booked until the owner settles them."""
        return tuple(plan for plan in self.plans if plan.conflicts)

    @property
    def lessons(self) -> int:
        return sum(plan.lessons for plan in self.booked)

    @property
    def children(self) -> int:
        return len({plan.weekly_lesson.student_id for plan in self.booked if plan.lessons})


class RolloverPreview(Rollover):
    """What `term_rollover` would book now; nothing written."""

    preview = True


class RolloverResult(Rollover):
    """What `term_rollover` booked, and what it held back."""

    preview = False


def weekly_lessons_to_roll(*, term: Term) -> QuerySet[WeeklyLesson]:
    """The weekly lessons a term takes: open (not ended), of an active student (not paused nor withdrawn), begun by
    the term's last day; by child."""
    return (
        WeeklyLesson.objects.filter(
            ended_on__isnull=True, student__status=Student.Status.ACTIVE, starts_on__lte=term.end_date
        )
        .select_related("student", "teacher__user", "room")
        .order_by("student__last_name", "student__first_name", "weekday", "start_time", "pk")
    )


def _rollover_from() -> date:
    # Tomorrow: a rollover never books a lesson in the past, nor today's, which may have begun.
    return school_today() + timedelta(days=1)


def _weeks_near_other_lessons(
    *, weekly_lesson: WeeklyLesson, starts: list[datetime], buffer: timedelta
) -> set[datetime]:
    """The weeks with a lesson of the teacher, the student or the room near them (one query, by index): only they
    can clash."""
    length = timedelta(minutes=weekly_lesson.minutes)
    near_a_week = reduce(or_, (overlapping(start_at=s - buffer, end_at=s + length + buffer) for s in starts))
    whose = Q(teacher_id=weekly_lesson.teacher_id) | Q(student_id=weekly_lesson.student_id)
    if weekly_lesson.room_id is not None:
        whose |= Q(room_id=weekly_lesson.room_id)
    others = list(
        Lesson.objects.filter(near_a_week, whose)
        .exclude(status=Lesson.Status.CANCELLED)
        .values_list("start_at", "end_at")
    )
    return {s for s in starts for begins, ends in others if begins < s + length + buffer and ends + buffer > s}


def _conflicts(*, weekly_lesson: WeeklyLesson, starts: list[datetime]) -> tuple[Conflict, ...]:
    """Each week's reason not to be booked, by the rules every booking follows (`lesson_slot_validate`): the rules
    of the time itself (an active teacher, inside their weekly hours) on the first week, which speaks for every
    week as each is the same weekday and wall-clock time; a clash on each week that has another lesson near it."""
    if not starts:
        return ()
    school = school_settings_get()
    near = _weeks_near_other_lessons(
        weekly_lesson=weekly_lesson, starts=starts, buffer=timedelta(minutes=school.buffer_minutes)
    )
    length = timedelta(minutes=weekly_lesson.minutes)
    found = []
    for start in [starts[0], *(start for start in starts[1:] if start in near)]:
        try:
            lesson_slot_validate(
                teacher=weekly_lesson.teacher,
                student=weekly_lesson.student,
                start_at=start,
                end_at=start + length,
                room=weekly_lesson.room,
            )
        except LessonConflict as error:
            found.append(Conflict(start.astimezone(school.zone).date(), error.code, error.message))
        except DomainError as error:
            return (Conflict(None, error.code, error.message),)
    return tuple(found)


def _plan(*, weekly_lesson: WeeklyLesson, term: Term, from_date: date) -> WeeklyLessonPlan:
    zone = school_settings_get().zone
    starts = weekly_starts(
        student_id=weekly_lesson.student_id,
        teacher_id=weekly_lesson.teacher_id,
        term=term,
        weekday=weekly_lesson.weekday,
        start_time=weekly_lesson.start_time,
        zone=zone,
        from_date=from_date,
        weekly_lesson_id=weekly_lesson.pk,
    )
    return WeeklyLessonPlan(
        weekly_lesson=weekly_lesson,
        days=tuple(start.astimezone(zone).date() for start in starts),
        conflicts=_conflicts(weekly_lesson=weekly_lesson, starts=starts),
    )


def term_rollover_preview(*, term: Term) -> RolloverPreview:
    """What `term_rollover` would book in `term` now, per weekly lesson (the weeks, from tomorrow), and each conflict
    named; nothing is written."""
    since = _rollover_from()
    plans = (
        _plan(weekly_lesson=weekly_lesson, term=term, from_date=max(weekly_lesson.starts_on, since))
        for weekly_lesson in weekly_lessons_to_roll(term=term)
    )
    return RolloverPreview(term=term, plans=tuple(plans))


def _generate(*, weekly_lesson: WeeklyLesson, term: Term, from_date: date) -> list[Lesson]:
    return term_lessons_generate(
        student=weekly_lesson.student,
        teacher=weekly_lesson.teacher,
        term=term,
        weekday=weekly_lesson.weekday,
        start_time=weekly_lesson.start_time,
        minutes=weekly_lesson.minutes,
        room=weekly_lesson.room,
        from_date=from_date,
        weekly_lesson=weekly_lesson,
    )


def _roll(*, weekly_lesson: WeeklyLesson, term: Term, from_date: date) -> WeeklyLessonPlan:
    """One weekly lesson into the term, in a savepoint of its own: booked whole, or held back with each conflict
    named (the booking's own refusal, when naming them week by week finds none)."""
    try:
        with transaction.atomic():
            lessons = _generate(weekly_lesson=weekly_lesson, term=term, from_date=from_date)
    except DomainError as error:
        plan = _plan(weekly_lesson=weekly_lesson, term=term, from_date=from_date)
        return replace(plan, conflicts=plan.conflicts or (Conflict(None, error.code, error.message),))
    zone = school_settings_get().zone
    return WeeklyLessonPlan(
        weekly_lesson=weekly_lesson, days=tuple(lesson.start_at.astimezone(zone).date() for lesson in lessons)
    )


@transaction.atomic
def term_rollover(*, term: Term, actor) -> RolloverResult:
    """Book every open weekly lesson of an active student into `term` (from tomorrow): the same weekday and
    wall-clock time, with the same teacher, closures skipped. A weekly lesson with a conflict books no week and is
    listed for the owner; the others are booked. Running it again books nothing new (a week booked once, even
    cancelled since, is not booked again). The audit trail keeps who ran it and what it booked."""
    rolling = weekly_lessons_to_roll(term=term)
    found = list(rolling.values_list("pk", "teacher_id", "student_id"))
    booking_lock(teacher_ids={teacher for _, teacher, _ in found}, student_ids={student for _, _, student in found})
    # Read again under their locks: one ended meanwhile (the family withdrew) is not rolled.
    weekly_lessons = rolling.filter(pk__in=[pk for pk, _, _ in found]).select_for_update(of=("self",))
    since = _rollover_from()
    result = RolloverResult(
        term=term,
        plans=tuple(
            _roll(weekly_lesson=weekly_lesson, term=term, from_date=max(weekly_lesson.starts_on, since))
            for weekly_lesson in weekly_lessons
        ),
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=term,
        changes={
            "rolled_over": [
                None,
                {"lessons": result.lessons, "children": result.children, "held_back": len(result.conflicted)},
            ]
        },
    )
    return result


@transaction.atomic
def weekly_lesson_book(
    *,
    student: Student,
    teacher: Teacher,
    weekday: int,
    start_time: time,
    minutes: int,
    room: Room | None = None,
    starts_on: date,
) -> WeeklyLesson:
    """Record the child's standing weekly time from `starts_on`, and book its lessons in the term of that day and in
    every later term already made, closures skipped; all or nothing (a clash in any week refuses it all). Weeks no
    term covers yet are booked by the owner's rollover once the term is made."""
    if not 0 <= weekday <= 6:
        raise InvalidInput("The weekday is 0 (Monday) to 6 (Sunday).", fields={"weekday": ["0 to 6."]})
    if not 15 <= minutes <= 240:
        raise InvalidInput("A weekly lesson lasts 15 to 240 minutes.", fields={"minutes": ["15 to 240."]})
    booking_lock(teacher_ids=[teacher.pk], student_ids=[student.pk])
    weekly_lesson = WeeklyLesson(
        student=student,
        teacher=teacher,
        weekday=weekday,
        start_time=start_time,
        minutes=minutes,
        room=room,
        starts_on=starts_on,
    )
    try:
        with transaction.atomic():
            weekly_lesson.save()
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
        if constraint != "weekly_lesson_one_standing_time":
            raise
        raise WeeklyTimeTaken(f"{student} already has a weekly lesson then ({start_time:%H:%M}).") from error
    for term in Term.objects.filter(end_date__gte=starts_on).order_by("start_date"):
        _generate(weekly_lesson=weekly_lesson, term=term, from_date=starts_on)
    return weekly_lesson


@transaction.atomic
def weekly_lesson_end(*, weekly_lesson: WeeklyLesson, on: date) -> WeeklyLesson:
    """No week after `on`: the weekly lesson is rolled into no later term. Its lessons are left as they are (whoever
    ends it releases them); one ended already keeps its first end."""
    weekly_lesson = WeeklyLesson.objects.select_for_update().get(pk=weekly_lesson.pk)
    if weekly_lesson.ended_on is None:
        weekly_lesson.ended_on = on
        weekly_lesson.save(update_fields=["ended_on"])
    return weekly_lesson


# --- Lifecycle: a weekly lesson changed from a date (enrollment/lifecycle/changes.py) ---


def weekly_lesson_plans(*, weekly_lesson: WeeklyLesson, from_date: date) -> tuple[WeeklyLessonPlan, ...]:
    """What booking `weekly_lesson` (saved or not) from `from_date` would book in each term made so far, and each
    week's conflict named, by the rules every booking follows; nothing is written. A change of weekly time reads it
    after releasing the old lessons, so that they do not stand in the new time's way."""
    terms = Term.objects.filter(end_date__gte=from_date).order_by("start_date")
    return tuple(_plan(weekly_lesson=weekly_lesson, term=term, from_date=from_date) for term in terms)
