"""A change of an enrollment's weekly lesson from a date, in one step: its weekday and time, its teacher, its length
or its plan. One transaction: the lessons from that date are released and the new weekly time booked in their
place through the scheduling services (a clash in any week refuses the whole change and names the weeks), the old
weekly time ends the day before, the enrollment takes its new length and plan, the family and each teacher are
emailed once, and `enrollment_changed` tells billing. `enrollment_change_preview` runs the same steps and rolls
them back: what it shows is what the change would do now."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction

from cedarheights.emails import email_parents
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.money import default_currency, format_cents
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import audit_record
from enrollment.errors import ChangeConflicts, NotActive
from enrollment.lifecycle.lessons import lessons_release, lessons_to_come, open_weekly_lessons, teacher_email
from enrollment.models import Enrollment, EnrollmentChange, EnrollmentPause, TuitionPlan
from enrollment.signals import enrollment_change_quoted, enrollment_changed
from scheduling.local_time import local_datetime
from scheduling.models import Lesson, Teacher, WeeklyLesson
from scheduling.services import booking_lock, student_teacher_assign
from scheduling.weekly_lessons import Conflict, weekly_lesson_book, weekly_lesson_end, weekly_lesson_plans

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WeeklyTerms:
    """An enrollment's weekly lesson as a change sees it (the `before`/`after` of `enrollment_changed`)."""

    weekday: int
    start_time: time
    teacher_id: int
    lesson_minutes: int
    tuition_plan_id: int | None

    def as_dict(self) -> dict:
        return {
            "weekday": self.weekday,
            "start_time": self.start_time.strftime("%H:%M"),
            "teacher_id": self.teacher_id,
            "lesson_minutes": self.lesson_minutes,
            "tuition_plan_id": self.tuition_plan_id,
        }


@dataclass(frozen=True)
class LessonMove:
    """One week of the change: the lesson released (`before`) and the one booked (`after`), either missing when
    the week has only one of them (a closure, a term's edge)."""

    week_of: date
    before: datetime | None
    after: datetime | None

    @property
    def kind(self) -> str:
        return "moved" if self.before and self.after else "removed" if self.before else "added"


@dataclass(frozen=True)
class ChangePreview:
    enrollment: Enrollment
    effective_on: date
    before: WeeklyTerms
    after: WeeklyTerms
    lessons: tuple[LessonMove, ...]
    conflicts: tuple[Conflict, ...]
    words: tuple[str, ...]
    money_lines: tuple = field(default=())

    @property
    def possible(self) -> bool:
        return not self.conflicts

    @property
    def money_texts(self) -> list[str]:
        """Each money line a receiver quoted, in words: its label (or description) and its amount."""
        texts = []
        for line in self.money_lines:
            label = getattr(line, "label", None) or getattr(line, "description", None)
            amount = getattr(line, "amount_cents", None)
            if label is None or amount is None:
                texts.append(str(line))
                continue
            currency = getattr(line, "currency", None) or default_currency()
            texts.append(f"{label}: {format_cents(amount, currency)}")
        return texts


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekly_lesson(enrollment: Enrollment) -> WeeklyLesson:
    weekly = list(open_weekly_lessons(enrollment=enrollment).order_by("weekday", "start_time"))
    if len(weekly) != 1:
        raise InvalidInput(
            f"{enrollment.student} has {'no' if not weekly else len(weekly)} standing weekly lessons: change one "
            "lesson at a time in the calendar instead."
        )
    return weekly[0]


def _words(*, before: WeeklyTerms, after: WeeklyTerms, teachers: dict[int, Teacher], plans: dict) -> tuple[str, ...]:
    """The change in plain words, a line per thing that changes."""
    words = []
    if (before.weekday, before.start_time) != (after.weekday, after.start_time):
        words.append(
            f"Weekly lesson: {WEEKDAYS[before.weekday]}s at {before.start_time:%H:%M} → "
            f"{WEEKDAYS[after.weekday]}s at {after.start_time:%H:%M}"
        )
    if before.teacher_id != after.teacher_id:
        words.append(f"Teacher: {teachers[before.teacher_id]} → {teachers[after.teacher_id]}")
    if before.lesson_minutes != after.lesson_minutes:
        words.append(f"Length: {before.lesson_minutes} → {after.lesson_minutes} minutes")
    if before.tuition_plan_id != after.tuition_plan_id:
        words.append(f"Plan: {plans.get(before.tuition_plan_id) or 'none'} → {plans.get(after.tuition_plan_id)}")
    return tuple(words)


@dataclass
class _Applied:
    enrollment: Enrollment
    weekly: WeeklyLesson
    before: WeeklyTerms
    after: WeeklyTerms
    teachers: dict[int, Teacher]
    released: list[Lesson]
    planned: list[date]
    conflicts: tuple[Conflict, ...]
    words: tuple[str, ...]


def _apply(
    *,
    enrollment: Enrollment,
    effective_on: date,
    weekday: int | None,
    start_time: time | None,
    teacher: Teacher | None,
    lesson_minutes: int | None,
    tuition_plan: TuitionPlan | None,
) -> _Applied:
    """The change's writes up to the booking of the new time: checked, old lessons released, old weekly time
    ended, the new one's weeks and conflicts planned. The caller commits and books, or rolls back."""
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("student__family", "tuition_plan")
        .get(pk=enrollment.pk)
    )
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise NotActive(f"{enrollment.student}'s enrollment is {enrollment.get_status_display().lower()}.")
    if effective_on < school_today():
        raise InvalidInput("A change starts today or later.", fields={"effective_on": ["Today or later."]})
    if enrollment.ends_on is not None:
        raise NotActive(
            f"{enrollment.student} is withdrawing (last lesson {enrollment.ends_on:%-d %b %Y}): the weekly lesson "
            "stays as it is."
        )
    weekly = _weekly_lesson(enrollment)
    if lesson_minutes is not None and lesson_minutes not in Enrollment.LessonMinutes.values:
        raise InvalidInput("A lesson lasts 30, 45 or 60 minutes.", fields={"lesson_minutes": ["30, 45 or 60."]})
    before = WeeklyTerms(
        weekly.weekday, weekly.start_time, weekly.teacher_id, weekly.minutes, enrollment.tuition_plan_id
    )
    new_teacher = teacher or weekly.teacher
    after = WeeklyTerms(
        weekday if weekday is not None else weekly.weekday,
        start_time or weekly.start_time,
        new_teacher.pk,
        lesson_minutes or weekly.minutes,
        tuition_plan.pk if tuition_plan is not None else enrollment.tuition_plan_id,
    )
    if after == before:
        raise InvalidInput("Nothing would change: choose a new day, time, teacher, length or plan.")
    if not 0 <= after.weekday <= 6:
        raise InvalidInput("The weekday is 0 (Monday) to 6 (Sunday).", fields={"weekday": ["0 to 6."]})
    teachers = {weekly.teacher_id: weekly.teacher, new_teacher.pk: new_teacher}
    plans = {
        plan.pk: plan for plan in TuitionPlan.objects.filter(pk__in=[before.tuition_plan_id, after.tuition_plan_id])
    }
    booking_lock(teacher_ids=list(teachers), student_ids=[enrollment.student_id])
    released = list(lessons_to_come(enrollment=enrollment, from_day=effective_on))
    lessons_release(
        lessons=Lesson.objects.filter(pk__in=[lesson.pk for lesson in released]),
        reason=f"Weekly lesson changed from {effective_on:%-d %b %Y}",
    )
    weekly_lesson_end(weekly_lesson=weekly, on=effective_on - timedelta(days=1))
    new_weekly = WeeklyLesson(
        student=enrollment.student,
        teacher=new_teacher,
        weekday=after.weekday,
        start_time=after.start_time,
        minutes=after.lesson_minutes,
        room=weekly.room if new_teacher.pk == weekly.teacher_id else None,
        starts_on=effective_on,
    )
    term_plans = weekly_lesson_plans(weekly_lesson=new_weekly, from_date=effective_on)
    return _Applied(
        enrollment=enrollment,
        weekly=weekly,
        before=before,
        after=after,
        teachers=teachers,
        released=released,
        planned=[day for plan in term_plans for day in plan.days],
        conflicts=tuple(conflict for plan in term_plans for conflict in plan.conflicts),
        words=_words(before=before, after=after, teachers=teachers, plans=plans),
    )


def _moves(*, released: list[Lesson], booked: list[datetime]) -> tuple[LessonMove, ...]:
    """Released and booked lessons paired by week."""
    zone = school_settings_get().zone
    olds = {_monday(lesson.start_at.astimezone(zone).date()): lesson.start_at for lesson in released}
    news = {_monday(start.astimezone(zone).date()): start for start in booked}
    return tuple(LessonMove(week, olds.get(week), news.get(week)) for week in sorted(olds.keys() | news.keys()))


class _RolledBack(Exception):
    def __init__(self, applied: _Applied):
        self.applied = applied


def _planned_starts(applied: _Applied) -> list[datetime]:
    zone = school_settings_get().zone
    starts = (local_datetime(day, applied.after.start_time, zone) for day in applied.planned)
    return [start for start in starts if start is not None]


def enrollment_change_preview(
    *,
    enrollment: Enrollment,
    effective_on: date,
    weekday: int | None = None,
    start_time: time | None = None,
    teacher: Teacher | None = None,
    lesson_minutes: int | None = None,
    tuition_plan: TuitionPlan | None = None,
) -> ChangePreview:
    """What `enrollment_change` with these arguments would do now, written and rolled back: the lessons released
    and booked week by week, every week that clashes, the change in words, and the money lines billing quotes
    (`enrollment_change_quoted`; none until a receiver answers). Refusals are raised as the change raises them."""
    try:
        with transaction.atomic():
            raise _RolledBack(
                _apply(
                    enrollment=enrollment,
                    effective_on=effective_on,
                    weekday=weekday,
                    start_time=start_time,
                    teacher=teacher,
                    lesson_minutes=lesson_minutes,
                    tuition_plan=tuition_plan,
                )
            )
    except _RolledBack as rolled_back:
        applied = rolled_back.applied
    answers = enrollment_change_quoted.send(
        sender=Enrollment,
        enrollment=applied.enrollment,
        effective_on=effective_on,
        before=applied.before.as_dict(),
        after=applied.after.as_dict(),
    )
    return ChangePreview(
        enrollment=applied.enrollment,
        effective_on=effective_on,
        before=applied.before,
        after=applied.after,
        lessons=_moves(released=applied.released, booked=_planned_starts(applied)),
        conflicts=applied.conflicts,
        words=applied.words,
        money_lines=tuple(line for _, lines in answers for line in (lines or ())),
    )


def _conflicts_refuse(conflicts: tuple[Conflict, ...]) -> None:
    weeks = [f"{c.on:%a %-d %b %Y}: {c.message}" if c.on else c.message for c in conflicts]
    raise ChangeConflicts(
        f"The new weekly time clashes in {len(weeks)} week{'s' if len(weeks) != 1 else ''}; nothing was changed. "
        + " ".join(weeks),
        fields={"weeks": weeks},
    )


@transaction.atomic
def enrollment_change(
    *,
    actor,
    enrollment: Enrollment,
    effective_on: date,
    weekday: int | None = None,
    start_time: time | None = None,
    teacher: Teacher | None = None,
    lesson_minutes: int | None = None,
    tuition_plan: TuitionPlan | None = None,
    idempotency_key: uuid.UUID | None = None,
) -> EnrollmentChange:
    """Change the enrollment's weekly lesson from `effective_on` (the arguments left None stay as they are), whole
    or not at all (see the module). The same `idempotency_key` again returns the first change and does nothing."""
    key = idempotency_key or uuid.uuid4()
    if done := EnrollmentChange.objects.filter(idempotency_key=key).first():
        return done
    applied = _apply(
        enrollment=enrollment,
        effective_on=effective_on,
        weekday=weekday,
        start_time=start_time,
        teacher=teacher,
        lesson_minutes=lesson_minutes,
        tuition_plan=tuition_plan,
    )
    if applied.conflicts:
        _conflicts_refuse(applied.conflicts)
    enrollment, after = applied.enrollment, applied.after
    new_weekly = weekly_lesson_book(
        student=enrollment.student,
        teacher=applied.teachers[after.teacher_id],
        weekday=after.weekday,
        start_time=after.start_time,
        minutes=after.lesson_minutes,
        room=applied.weekly.room if after.teacher_id == applied.before.teacher_id else None,
        starts_on=effective_on,
    )
    _vacations_keep(enrollment=enrollment, effective_on=effective_on)
    booked = list(new_weekly.lessons.filter(outcome="").order_by("start_at"))
    enrollment.lesson_minutes, enrollment.tuition_plan_id = after.lesson_minutes, after.tuition_plan_id
    enrollment.save(update_fields=["lesson_minutes", "tuition_plan", "updated_at"])
    if after.teacher_id != applied.before.teacher_id:
        student_teacher_assign(actor=actor, student=enrollment.student, teacher=applied.teachers[after.teacher_id])
    change = EnrollmentChange.objects.create(
        enrollment=enrollment,
        effective_on=effective_on,
        before=applied.before.as_dict(),
        after=after.as_dict(),
        lessons_released=len(applied.released),
        lessons_booked=len(booked),
        idempotency_key=key,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=enrollment,
        changes={"weekly_lesson": [change.before, change.after], "effective_on": [None, effective_on.isoformat()]},
    )
    _change_emails(change=change, applied=applied, first=booked[0] if booked else None)
    enrollment_changed.send(
        sender=Enrollment, enrollment=enrollment, effective_on=effective_on, before=change.before, after=change.after
    )
    return change


def _vacations_keep(*, enrollment: Enrollment, effective_on: date) -> None:
    """A vacation pause that released its lessons keeps them released at the new time too."""
    live = EnrollmentPause.objects.filter(
        enrollment=enrollment,
        ended_at__isnull=True,
        lessons=EnrollmentPause.Lessons.RELEASE,
        resumes_on__gt=effective_on,
    )
    for pause in live:
        inside = lessons_to_come(
            enrollment=enrollment, from_day=max(pause.starts_on, effective_on), before_day=pause.resumes_on
        )
        lessons_release(lessons=inside, reason=f"Vacation until {pause.resumes_on:%-d %b %Y}")


def _change_emails(*, change: EnrollmentChange, applied: _Applied, first: Lesson | None) -> None:
    """One email to each parent and to each teacher, old and new, whatever the number of lessons moved."""
    context = {
        "change": change,
        "student": change.enrollment.student,
        "words": applied.words,
        "first": first,
        "zone": school_settings_get().zone,
    }
    key = f"enrollment_changed:{change.pk}"
    email_parents(
        family=change.enrollment.student.family,
        template="enrollment_changed",
        related=change,
        dedupe_key=key,
        context={**context, "for_family": True},
    )
    for teacher in applied.teachers.values():
        teacher_email(teacher=teacher, template="enrollment_changed", context=context, dedupe_key=key, related=change)
