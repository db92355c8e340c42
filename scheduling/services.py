"""Writes for scheduling: lessons booked, moved and cancelled without double booking; terms that never overlap;
the school's catalogue (instruments, teachers and their weekly hours, rooms, academic years, closures) and its
students.

Each service locks the teachers, then the students (always that order, each in pk order; then the lesson), checks
every rule, and lets the database have the last word: on PostgreSQL the exclusion constraints, whose violation
becomes the same `LessonConflict` a check would have raised.
"""

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cedarheights.emails import email_owner, email_parents
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_settings_get
from cedarheights.services import audit_record, audited_create, audited_update, record_save
from scheduling.change_notices import LessonBefore, lesson_booked_notice_queue, lesson_change_notices_queue
from scheduling.errors import (
    CancellationDecided,
    ClosureConflict,
    LessonConflict,
    LessonStatusRefused,
    NoSickPassLeft,
    NotYourLesson,
    OutsideAvailability,
    TermOverlap,
    TooLateToCancel,
)
from scheduling.models import (
    LONGEST_LESSON,
    AcademicYear,
    Closure,
    Instrument,
    Lesson,
    Room,
    Student,
    Teacher,
    TeacherCancellation,
    Term,
    WeeklyAvailability,
    WeeklyLesson,
)
from scheduling.outcomes import CANCELLING, STATUS_OF_OUTCOME, Outcome
from scheduling.selectors import (
    availability_covers,
    cancellation_notice_given,
    closure_on,
    lessons_of_days,
    lessons_overlapping,
    overlapping,
    sick_passes_left,
    terms_overlapping,
    weekly_starts,
)
from scheduling.signals import lesson_outcome_changed
from scheduling.transitions import (
    ATTENDANCE,
    ATTENDANCE_CORRECTIONS,
    STATUS_OUTCOME,
    STILL_TO_COME,
    WHO_RECORDS,
    Role,
    lesson_role,
)

CONSTRAINT_MESSAGES = {
    "lesson_no_teacher_overlap": "The teacher already has a lesson at this time.",
    "lesson_no_student_overlap": "The student already has a lesson at this time.",
    "lesson_no_room_overlap": "The room is already taken at this time.",
}


def booking_lock(*, teacher_ids: Collection[int], student_ids: Collection[int]) -> None:
    """Lock the teachers, then the students, each in pk order: every writer of lessons takes them in this one
    order, so two writers never wait for each other in a circle."""
    # Their rows alone: the teacher manager's join would lock the teacher's user row too (and hold up their
    # sign-in, which writes last_login, for the rest of the booking).
    list(Teacher.objects.select_for_update().filter(pk__in=teacher_ids).order_by("pk").values_list("pk"))
    list(Student.objects.select_for_update().filter(pk__in=student_ids).order_by("pk").values_list("pk"))


def _teacher_busy(teacher: Teacher, start: datetime, end: datetime, lesson_id: int, zone) -> LessonConflict:
    return LessonConflict(
        f"{teacher} already teaches from {start.astimezone(zone):%a %-d %b %H:%M} to {end.astimezone(zone):%H:%M}.",
        conflicting_lesson_id=lesson_id,
    )


def _student_busy(student: Student, start: datetime, lesson_id: int, zone) -> LessonConflict:
    return LessonConflict(
        f"{student} already has a lesson from {start.astimezone(zone):%a %-d %b %H:%M}.",
        conflicting_lesson_id=lesson_id,
    )


def _room_busy(room: Room, lesson_id: int) -> LessonConflict:
    return LessonConflict(f"{room} is taken at that time.", conflicting_lesson_id=lesson_id)


def lesson_slot_validate(
    *,
    teacher: Teacher,
    student: Student,
    start_at: datetime,
    end_at: datetime,
    room: Room | None = None,
    exclude_lesson_id: int | None = None,
    check_availability: bool = True,
) -> None:
    """Raise a DomainError naming what makes this time impossible; return when it is free."""
    _slot_rules_validate(teacher=teacher, start_at=start_at, end_at=end_at, check_availability=check_availability)
    school = school_settings_get()
    zone, buffer = school.zone, timedelta(minutes=school.buffer_minutes)
    within_buffer = lessons_overlapping(
        start_at=start_at - buffer, end_at=end_at + buffer, exclude_lesson_id=exclude_lesson_id
    )
    if clash := within_buffer.filter(teacher=teacher).first():
        raise _teacher_busy(teacher, clash.start_at, clash.end_at, clash.pk, zone)
    at_the_time = lessons_overlapping(start_at=start_at, end_at=end_at, exclude_lesson_id=exclude_lesson_id)
    if clash := at_the_time.filter(student=student).first():
        raise _student_busy(student, clash.start_at, clash.pk, zone)
    if room is not None and (clash := at_the_time.filter(room=room).first()):
        raise _room_busy(room, clash.pk)


def _slot_rules_validate(*, teacher: Teacher, start_at: datetime, end_at: datetime, check_availability: bool) -> None:
    """What a lesson time must be before any other lesson is looked at: aware, in order, at most four hours,
    with an active teacher, on a day without a closure, inside the teacher's weekly hours."""
    if timezone.is_naive(start_at) or timezone.is_naive(end_at):
        raise InvalidInput("Lesson times need a time zone.", fields={"start_at": ["Give a time with its offset."]})
    if end_at <= start_at:
        raise InvalidInput("The lesson must end after it starts.", fields={"end_at": ["Must be after the start."]})
    if end_at - start_at > LONGEST_LESSON:
        raise InvalidInput(
            "A lesson lasts at most four hours.", fields={"end_at": ["At most four hours after the start."]}
        )
    if not teacher.active:
        raise InvalidInput(
            f"{teacher} is not teaching at the moment.", fields={"teacher": ["This teacher is inactive."]}
        )
    zone = school_settings_get().zone
    local_start = start_at.astimezone(zone)
    if closure := closure_on(teacher_id=teacher.pk, day=local_start.date()):
        raise ClosureConflict(f"No lessons on {local_start:%A %-d %B %Y}: {closure.reason}.")
    if check_availability and not availability_covers(
        teacher_id=teacher.pk, start_at=start_at, end_at=end_at, zone=zone
    ):
        raise OutsideAvailability(
            f"{teacher} does not teach on {local_start:%A} at {local_start:%H:%M}–{end_at.astimezone(zone):%H:%M}."
        )


# What a calendar shows of a lesson: a change to any of them raises the lesson's revision (its SEQUENCE).
CALENDAR_FIELDS = ("start_at", "end_at", "teacher_id", "room_id", "kind", "status")


def calendar_state(lesson: Lesson) -> tuple:
    return tuple(getattr(lesson, name) for name in CALENDAR_FIELDS)


def _save_or_conflict(
    lessons: list[Lesson], *, update_fields: tuple[str, ...] = (), calendar_before: tuple | None = None
) -> bool:
    """Insert, or update one lesson's `update_fields` only (a lesson read earlier never writes back a status
    changed since), under a savepoint; an exclusion-constraint violation becomes a LessonConflict. An update whose
    lesson no longer matches `calendar_before` (its `calendar_state` as read) raises its revision: whether it did."""
    revised = False
    try:
        with transaction.atomic():
            if len(lessons) == 1 and lessons[0].pk:
                lesson = lessons[0]
                revised = calendar_before is not None and calendar_state(lesson) != calendar_before
                if revised:
                    lesson.revision, lesson.revised_at = F("revision") + 1, timezone.now()
                    update_fields = (*update_fields, "revision", "revised_at")
                lesson.save(update_fields=[*update_fields, "updated_at"])
                if revised:
                    lesson.refresh_from_db(fields=["revision"])
            else:
                Lesson.objects.bulk_create(lessons)
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
        if constraint not in CONSTRAINT_MESSAGES:
            raise
        raise LessonConflict(CONSTRAINT_MESSAGES[constraint]) from error
    return revised


@transaction.atomic
def lesson_create(
    *,
    teacher: Teacher,
    student: Student,
    start_at: datetime,
    end_at: datetime,
    kind: str = Lesson.Kind.REGULAR,
    room: Room | None = None,
    term: Term | None = None,
    payment_status: str = Lesson.PaymentStatus.INCLUDED,
    notes: str = "",
    outcome: str = STILL_TO_COME,
    actor=None,
    check_availability: bool = True,
) -> Lesson:
    """Book a lesson, as `actor` (None: the school's own work). It is booked still to come, then given `outcome` as
    `actor` may (the owner entering a lesson already taught, in the admin), in the same transaction. Booked by anyone
    but its teacher less than 48 hours ahead, the teacher is told (scheduling.change_notices)."""
    booking_lock(teacher_ids=[teacher.pk], student_ids=[student.pk])
    lesson_slot_validate(
        teacher=teacher,
        student=student,
        start_at=start_at,
        end_at=end_at,
        room=room,
        check_availability=check_availability,
    )
    lesson = Lesson(
        teacher=teacher,
        student=student,
        start_at=start_at,
        end_at=end_at,
        kind=kind,
        room=room,
        term=term,
        payment_status=payment_status,
        notes=notes,
    )
    _save_or_conflict([lesson])
    lesson_booked_notice_queue(lesson=lesson, actor=actor)
    if outcome != lesson.outcome:
        lesson = lesson_outcome_set(lesson=lesson, outcome=outcome, actor=actor)
    return lesson


@transaction.atomic
def lesson_reschedule(
    *,
    lesson: Lesson,
    start_at: datetime,
    end_at: datetime | None = None,
    room: Room | None = None,
    check_availability: bool = True,
    actor=None,
) -> Lesson:
    """Move a lesson still to come (`actor` moved it: the change notices leave them out)."""
    if lesson.status != Lesson.Status.SCHEDULED:
        raise InvalidInput(f"A {lesson.get_status_display().lower()} lesson cannot be moved.")
    end_at = end_at or start_at + (lesson.end_at - lesson.start_at)
    booking_lock(teacher_ids=[lesson.teacher_id], student_ids=[lesson.student_id])
    lesson_slot_validate(
        teacher=lesson.teacher,
        student=lesson.student,
        start_at=start_at,
        end_at=end_at,
        room=room,
        exclude_lesson_id=lesson.pk,
        check_availability=check_availability,
    )
    before, was = calendar_state(lesson), LessonBefore.of(lesson)
    lesson.start_at, lesson.end_at, lesson.room = start_at, end_at, room
    if _save_or_conflict([lesson], update_fields=("start_at", "end_at", "room"), calendar_before=before):
        lesson_change_notices_queue(lesson=lesson, before=was, actor=actor)
    return lesson


def lesson_outcome_validate(*, lesson: Lesson, outcome: str, actor, reason: str = "") -> Role:
    """Raise unless `actor` (None: the school itself) may record `outcome` on the lesson now, by the table in
    scheduling.transitions: attendance once the lesson has started; a family's cancellation before it starts, with
    notice or late by the school's notice window (a sick pass while the term has one left); a teacher's cancellation
    with a reason, before the lesson ends. The same outcome again is no change, allowed to whoever has a part."""
    role = lesson_role(actor=actor, lesson=lesson)
    if role is None:
        raise NotYourLesson("You may not change this lesson.")
    if outcome == lesson.outcome:
        return role
    wanted = Outcome(outcome).label.lower() if outcome else "still to come"
    if role not in WHO_RECORDS[outcome]:
        allowed = " or ".join(sorted(WHO_RECORDS[outcome]))
        raise _refused(f"A lesson is marked {wanted} by {allowed} only.")
    if role != Role.OWNER and lesson.outcome != STILL_TO_COME:
        correcting = role == Role.TEACHER and {lesson.outcome, outcome} <= ATTENDANCE_CORRECTIONS
        if not correcting:
            current = Outcome(lesson.outcome).label.lower()
            raise _refused(f"This lesson is already marked {current}; please ask the school to change it.")
    now = timezone.now()
    if outcome in ATTENDANCE and lesson.start_at > now:
        raise _refused(f"A lesson can be marked {wanted} once it has started.")
    if role == Role.PARENT:
        _family_cancellation_validate(lesson=lesson, outcome=outcome, now=now)
    if role == Role.TEACHER and outcome == Outcome.TEACHER_CANCELLED:
        _reason_required(reason)
        if lesson.end_at <= now:
            raise _refused("This lesson has ended: mark its attendance instead.")
    return role


def _reason_required(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput("Say why the lesson is cancelled.", fields={"reason": ["Give a reason."]})


def _refused(message: str) -> LessonStatusRefused:
    return LessonStatusRefused(message, fields={"outcome": [message]})


def _family_cancellation_validate(*, lesson: Lesson, outcome: str, now: datetime) -> None:
    if lesson.start_at <= now:
        raise TooLateToCancel("This lesson has already started; please call the school.")
    school = school_settings_get()
    late = not cancellation_notice_given(start_at=lesson.start_at, now=now)
    if outcome == Outcome.CANCELLED_WITH_NOTICE and late:
        raise TooLateToCancel(
            f"Lessons cancelled less than {school.cancellation_notice_hours} hours ahead are late cancellations."
        )
    if outcome in {Outcome.LATE_CANCEL, Outcome.LATE_CANCEL_SICK} and not late:
        raise _refused("This lesson is far enough ahead to be cancelled with notice.")
    if outcome == Outcome.LATE_CANCEL_SICK and sick_passes_left(lesson=lesson) <= 0:
        raise NoSickPassLeft(
            f"All {school.sick_passes_per_term} sick passes of this term are used.",
            fields={"use_sick_pass": ["No sick pass is left this term."]},
        )


def family_cancellation_outcome(*, lesson: Lesson, use_sick_pass: bool = False) -> str:
    """The outcome a family's cancellation of this lesson gets now: with notice, or late (a sick pass if asked)."""
    if cancellation_notice_given(start_at=lesson.start_at, now=timezone.now()):
        return Outcome.CANCELLED_WITH_NOTICE
    return Outcome.LATE_CANCEL_SICK if use_sick_pass else Outcome.LATE_CANCEL


@transaction.atomic
def lesson_outcome_set(
    *,
    lesson: Lesson,
    outcome: str,
    actor,
    reason: str = "",
    teacher: Teacher | None = None,
    family_emailed: bool = False,
) -> Lesson:
    """The one way a lesson's outcome (and so its status) changes, as `lesson_outcome_validate` allows. Who recorded
    it and when are kept, with an audit event; a reopened lesson first checks its time is still free (with
    `teacher`, a substitute, when one takes it). The layers above reverse what the old outcome issued and issue what
    the new one issues, in this transaction (`lesson_outcome_changed`), once: the same outcome again changes nothing.
    A change close to the lesson is emailed (scheduling.change_notices), to the family too unless the caller emails
    them about it itself (`family_emailed`).
    """
    teacher_ids = {lesson.teacher_id} | ({teacher.pk} if teacher else set())
    booking_lock(teacher_ids=teacher_ids, student_ids=[lesson.student_id])
    lesson = Lesson.objects.select_related("student", "teacher").select_for_update(of=("self",)).get(pk=lesson.pk)
    lesson_outcome_validate(lesson=lesson, outcome=outcome, actor=actor, reason=reason)
    previous, previous_teacher = lesson.outcome, lesson.teacher
    if outcome == previous and teacher in (None, lesson.teacher):
        return lesson
    before, was = calendar_state(lesson), LessonBefore.of(lesson)
    if teacher is not None:
        lesson.teacher = teacher
    if outcome not in CANCELLING and (previous in CANCELLING or teacher is not None):
        lesson_slot_validate(
            teacher=lesson.teacher,
            student=lesson.student,
            start_at=lesson.start_at,
            end_at=lesson.end_at,
            room=lesson.room,
            exclude_lesson_id=lesson.pk,
            check_availability=False,  # booked once already: an agreed time outside the weekly hours stays agreed
        )
    now = timezone.now()
    lesson.outcome, lesson.status = outcome, STATUS_OF_OUTCOME[outcome]
    if outcome not in CANCELLING:
        lesson.cancelled_at, lesson.cancelled_by, lesson.cancellation_reason = None, None, ""
    elif previous not in CANCELLING:
        lesson.cancelled_at, lesson.cancelled_by, lesson.cancellation_reason = now, actor, reason[:200]
    elif reason:
        lesson.cancellation_reason = reason[:200]
    lesson.outcome_set_at, lesson.outcome_set_by = (now, actor) if outcome else (None, None)
    revised = _save_or_conflict(
        [lesson],
        update_fields=(
            "teacher", "outcome", "status", "cancelled_at", "cancelled_by", "cancellation_reason",
            "outcome_set_at", "outcome_set_by",
        ),
        calendar_before=before,
    )  # fmt: skip
    changes = {"outcome": [previous, outcome]} | ({"reason": ["", reason]} if reason else {})
    if lesson.teacher != previous_teacher:
        changes["teacher"] = [str(previous_teacher), str(lesson.teacher)]
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=lesson, changes=changes)
    lesson_outcome_changed.send(sender=Lesson, lesson=lesson, previous=previous, actor=actor)
    if revised:
        lesson_change_notices_queue(lesson=lesson, before=was, actor=actor, family_emailed=family_emailed)
    return lesson


def lesson_status_change(*, lesson: Lesson, status: str, actor, reason: str = "") -> Lesson:
    """A status asked for (the API's `status` field, the admin's column): the outcome it means for `actor`. A
    cancellation is the family's (with notice or late), the teacher's (`lesson_teacher_cancel`), the owner's on a
    family's behalf (with notice), or the school's own work releasing the time (`actor=None`)."""
    if status == lesson.status:
        lesson_outcome_validate(lesson=lesson, outcome=lesson.outcome, actor=actor)
        return lesson
    if status != Lesson.Status.CANCELLED:
        try:
            return lesson_outcome_set(lesson=lesson, outcome=STATUS_OUTCOME[status], actor=actor, reason=reason)
        except LessonStatusRefused as error:  # asked as a status: answered under `status`
            raise LessonStatusRefused(error.message, fields={"status": [error.message]}) from error
    role = lesson_role(actor=actor, lesson=lesson)
    if role == Role.TEACHER:
        return lesson_teacher_cancel(lesson=lesson, actor=actor, reason=reason)
    if role == Role.PARENT:
        outcome = family_cancellation_outcome(lesson=lesson)
    else:
        outcome = Outcome.RELEASED if actor is None else Outcome.CANCELLED_WITH_NOTICE
    return lesson_outcome_set(lesson=lesson, outcome=outcome, actor=actor, reason=reason)


def lesson_teacher_cancel(*, lesson: Lesson, actor, reason: str) -> Lesson:
    """A teacher cancels their lesson with a reason (`teacher_cancellation_create`): the lesson, cancelled."""
    return teacher_cancellation_create(lesson=lesson, actor=actor, reason=reason).lesson


@transaction.atomic
def teacher_cancellation_create(*, lesson: Lesson, actor, reason: str) -> TeacherCancellation:
    """A teacher (or the school for them) cancels the lesson with a reason: the family's credit stands at once (never
    capped) and the family is told, with the make-up link; the owner is told, to send a substitute instead
    (`teacher_cancellation_decide`). Sent again, the first report stands: no second record, no second email."""
    _reason_required(reason)
    booking_lock(teacher_ids=[lesson.teacher_id], student_ids=[lesson.student_id])
    previous = Lesson.objects.values_list("outcome", flat=True).get(pk=lesson.pk)
    lesson = lesson_outcome_set(
        lesson=lesson, outcome=Outcome.TEACHER_CANCELLED, actor=actor, reason=reason, family_emailed=True
    )
    reported = lesson.teacher_cancellations.order_by("-reported_at", "-pk").first()
    if previous == Outcome.TEACHER_CANCELLED and reported is not None:
        return reported  # decided since, perhaps: a repeated cancel must not ask the owner again
    zone = school_settings_get().zone
    cancellation, created = TeacherCancellation.objects.get_or_create(
        lesson=lesson,
        decision=TeacherCancellation.Decision.PENDING,
        defaults={"teacher": lesson.teacher, "reason": reason[:200]},
    )
    if created:
        email_owner(
            template="teacher_cancelled_owner",
            dedupe_key=f"teacher-cancelled:{cancellation.pk}",
            related=lesson,
            context={"cancellation": cancellation, "lesson": lesson, "zone": zone},
        )
        email_parents(
            family=lesson.student.family,
            template="teacher_cancelled_family",
            dedupe_key=f"teacher-cancelled-family:{lesson.pk}:{lesson.outcome_set_at.isoformat()}",
            related=lesson,
            context={"lesson": lesson, "zone": zone},
        )
    return cancellation


@transaction.atomic
def teacher_cancellation_decide(
    *, cancellation: TeacherCancellation, actor, substitute: Teacher | None = None
) -> TeacherCancellation:
    """The owner's answer to a teacher's cancellation: a substitute takes the lesson (it is kept, the family's
    credit taken back, and the family told the lesson is on), or the credit stands. Decided once, while the lesson is
    still cancelled by its teacher; the same answer again changes nothing."""
    lesson = cancellation.lesson
    booking_lock(  # first, as every booking does: a substitute books the time again
        teacher_ids={lesson.teacher_id, cancellation.teacher_id} | ({substitute.pk} if substitute else set()),
        student_ids=[lesson.student_id],
    )
    cancellation = TeacherCancellation.objects.select_for_update().select_related("lesson").get(pk=cancellation.pk)
    decision = TeacherCancellation.Decision.SUBSTITUTE if substitute else TeacherCancellation.Decision.CREDIT
    if cancellation.decision != TeacherCancellation.Decision.PENDING:
        if cancellation.decision == decision and cancellation.substitute == substitute:
            return cancellation
        raise CancellationDecided(f"This cancellation was decided already: {cancellation.get_decision_display()}.")
    if substitute is not None:
        if substitute.pk == cancellation.teacher_id:
            raise InvalidInput("Choose another teacher as the substitute.", fields={"substitute": ["Another teacher."]})
        if cancellation.lesson.outcome != Outcome.TEACHER_CANCELLED:
            raise CancellationDecided(
                f"The lesson is {cancellation.lesson.get_outcome_display().lower() or 'still to come'} since: "
                "no substitute can take it."
            )
        lesson = lesson_outcome_set(
            lesson=cancellation.lesson, outcome=STILL_TO_COME, actor=actor, teacher=substitute, family_emailed=True
        )
        email_parents(
            family=lesson.student.family,
            template="teacher_substitute_family",
            dedupe_key=f"teacher-substitute:{cancellation.pk}",
            related=lesson,
            context={"lesson": lesson, "cancellation": cancellation, "substitute": substitute},
        )
    cancellation.decision, cancellation.substitute = decision, substitute
    cancellation.decided_at, cancellation.decided_by = timezone.now(), actor
    cancellation.save(update_fields=["decision", "substitute", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=cancellation.lesson,
        changes={"teacher_cancellation": ["pending", decision], "substitute": ["", str(substitute or "")]},
    )
    return cancellation


@transaction.atomic
def lessons_cancel(
    *, lessons: QuerySet[Lesson], actor, outcome: str, reason: str = "", family_emailed: bool = False
) -> int:
    """Give the lessons still to come of `lessons` a cancelling `outcome`, all or none; how many. A lesson already
    cancelled, or taught, is left as it is. `family_emailed`: the caller tells the families itself (see
    `lesson_outcome_set`)."""
    scheduled = list(lessons.filter(outcome=STILL_TO_COME).order_by("pk"))
    # All of them first, held to the end: each lesson's own lock would take them out of order.
    booking_lock(
        teacher_ids={lesson.teacher_id for lesson in scheduled},
        student_ids={lesson.student_id for lesson in scheduled},
    )
    for lesson in scheduled:
        lesson_outcome_set(lesson=lesson, outcome=outcome, actor=actor, reason=reason, family_emailed=family_emailed)
    return len(scheduled)


def weekly_slot_free(*, student_id: int, reason: str) -> int:
    """Release a student's future regular lessons (an enrollment paused): the slot goes back on offer. A lesson within
    48 hours is noticed to the family too: a subscription Stripe stopped pauses with no email of its own to them."""
    future = Lesson.objects.filter(student_id=student_id, kind=Lesson.Kind.REGULAR, start_at__gt=timezone.now())
    return lessons_cancel(lessons=future, actor=None, outcome=Outcome.RELEASED, reason=reason)


def _weekly_slot_validate(
    *, teacher: Teacher, student: Student, starts: list[datetime], length: timedelta, room: Room | None
) -> None:
    """`lesson_slot_validate` for every week of a weekly slot at once: the same rules, in a few queries (the
    weeks share their weekday and hours, so the first week's time speaks for the rest)."""
    _slot_rules_validate(teacher=teacher, start_at=starts[0], end_at=starts[0] + length, check_availability=True)
    school = school_settings_get()
    zone, buffer = school.zone, timedelta(minutes=school.buffer_minutes)
    nearby = Q(teacher=teacher) | Q(student=student) | (Q(room=room) if room is not None else Q(pk__in=[]))
    # Only the lessons near one of the weeks, found by index.
    near_a_week = reduce(
        or_, (overlapping(start_at=start - buffer, end_at=start + length + buffer) for start in starts)
    )
    others = list(
        Lesson.objects.filter(near_a_week, nearby)
        .exclude(status=Lesson.Status.CANCELLED)
        .values_list("pk", "teacher_id", "student_id", "room_id", "start_at", "end_at")
    )
    for start in starts:
        end = start + length
        for pk, teacher_id, student_id, room_id, other_start, other_end in others:
            overlaps = other_start < end and other_end > start
            if teacher_id == teacher.pk and other_start < end + buffer and other_end + buffer > start:
                raise _teacher_busy(teacher, other_start, other_end, pk, zone)
            if student_id == student.pk and overlaps:
                raise _student_busy(student, other_start, pk, zone)
            if room is not None and room_id == room.pk and overlaps:
                raise _room_busy(room, pk)


@transaction.atomic
def term_lessons_generate(
    *,
    student: Student,
    teacher: Teacher,
    term: Term,
    weekday: int,
    start_time: time,
    minutes: int,
    room: Room | None = None,
    from_date: date | None = None,
    weekly_lesson: WeeklyLesson | None = None,
) -> list[Lesson]:
    """The student's weekly lessons for the rest of the term, in local time; closures are skipped. With a
    `weekly_lesson`, the lessons are its weeks (`Lesson.weekly_lesson`), and a week it already had is never booked
    again, even cancelled (see `weekly_starts`).

    Running it again creates only what is missing. A week that clashes with another lesson fails the
    whole call with the clash named, so a weekly slot is booked whole or not at all.
    """
    booking_lock(teacher_ids=[teacher.pk], student_ids=[student.pk])
    starts = weekly_starts(
        student_id=student.pk,
        teacher_id=teacher.pk,
        term=term,
        weekday=weekday,
        start_time=start_time,
        zone=school_settings_get().zone,
        from_date=from_date,
        weekly_lesson_id=weekly_lesson.pk if weekly_lesson else None,
    )
    length = timedelta(minutes=minutes)
    if starts:
        _weekly_slot_validate(teacher=teacher, student=student, starts=starts, length=length, room=room)
    lessons = [
        Lesson(
            teacher=teacher,
            student=student,
            start_at=start_at,
            end_at=start_at + length,
            room=room,
            term=term,
            weekly_lesson=weekly_lesson,
        )
        for start_at in starts
    ]
    if lessons:
        _save_or_conflict(lessons)
    return lessons


@transaction.atomic
def lesson_update(*, lesson: Lesson, **fields) -> Lesson:
    """Change what is neither the time (`lesson_reschedule`) nor the outcome (`lesson_outcome_set`): kind,
    payment status, notes (the teacher's own, and `family_note`, which the family reads), term."""
    allowed = {"kind", "payment_status", "notes", "family_note", "term"}
    if unknown := set(fields) - allowed:
        raise InvalidInput(f"Use lesson_reschedule or lesson_status_change to change {', '.join(sorted(unknown))}.")
    before = calendar_state(lesson)
    for name, value in fields.items():
        setattr(lesson, name, value)
    _save_or_conflict([lesson], update_fields=tuple(fields), calendar_before=before)
    return lesson


# What an edit may change. The teacher and the student stay: a lesson for someone else is a new booking.
LESSON_CHANGEABLE = frozenset(
    {
        "start_at",
        "end_at",
        "room",
        "status",
        "outcome",
        "reason",
        "kind",
        "payment_status",
        "notes",
        "family_note",
        "term",
    }
)


@transaction.atomic
def lesson_change(*, lesson: Lesson, actor, check_availability: bool = True, **changes) -> Lesson:
    """The one edit of a lesson, from the API and the admin, whole or not at all: moved (`start_at`, `end_at`,
    `room`), then its outcome (or the older `status`, mapped onto one) recorded as `actor` may, then its other fields
    (LESSON_CHANGEABLE). A refusal in any part (the new time taken, an outcome the actor may not record) leaves the
    lesson as it was."""
    if unknown := set(changes) - LESSON_CHANGEABLE:
        raise InvalidInput(f"A lesson's {', '.join(sorted(unknown))} cannot be changed; book a new lesson instead.")
    if {"outcome", "status"} <= changes.keys():
        # Two answers to one question: the status follows the outcome.
        message = "Send `outcome` or the older `status`, not both."
        raise InvalidInput(message, fields={"status": [message]})
    booking_lock(teacher_ids=[lesson.teacher_id], student_ids=[lesson.student_id])
    # Read again under its lock: the rules below decide on the lesson as it is now, not as the caller read it.
    lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
    moves = {name: changes.pop(name) for name in ("start_at", "end_at", "room") if name in changes}
    if moves:
        lesson = lesson_reschedule(
            lesson=lesson,
            start_at=moves.get("start_at", lesson.start_at),
            end_at=moves.get("end_at", lesson.end_at if "start_at" not in moves else None),
            room=moves.get("room", lesson.room),
            check_availability=check_availability,
            actor=actor,
        )
    reason = changes.pop("reason", "")
    if changes.get("outcome") == Outcome.TEACHER_CANCELLED:
        # However it is recorded, a teacher's cancellation is reported: the owner decides, the family is told.
        changes.pop("outcome")
        reported = teacher_cancellation_create(lesson=lesson, actor=actor, reason=reason or "Recorded by the school")
        lesson = reported.lesson
    if "outcome" in changes:
        lesson = lesson_outcome_set(lesson=lesson, outcome=changes.pop("outcome"), actor=actor, reason=reason)
    if "status" in changes:
        lesson = lesson_status_change(lesson=lesson, status=changes.pop("status"), actor=actor, reason=reason)
    if changes:
        lesson = lesson_update(lesson=lesson, **changes)
    return lesson


def term_dates_validate(*, start_date: date, end_date: date, exclude_term_id: int | None = None) -> None:
    """Raise TermOverlap when [start_date, end_date] shares a day with another term; the one place this rule is
    checked (the admin's form and the API's serializer call it to answer before saving)."""
    if other := terms_overlapping(start_date=start_date, end_date=end_date, exclude_id=exclude_term_id).first():
        raise TermOverlap(f"These dates overlap {other}.")


def _term_save(term: Term) -> Term:
    try:
        with transaction.atomic():
            # Terms are few and seldom written: locking them all, in one order, makes two writers take turns, so the
            # second sees the first's term (two inserts racing on the exclusion constraint can deadlock instead).
            list(Term.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
            term_dates_validate(start_date=term.start_date, end_date=term.end_date, exclude_term_id=term.pk)
            term.save()
    except IntegrityError as error:
        # A term saved since the check above: the exclusion constraint has the last word, in the same words.
        if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != "term_no_overlap":
            raise
        raise TermOverlap("These dates overlap another term.") from error
    return term


def term_create(*, academic_year: AcademicYear, name: str, start_date: date, end_date: date) -> Term:
    return _term_save(Term(academic_year=academic_year, name=name, start_date=start_date, end_date=end_date))


def term_update(
    *,
    term: Term,
    academic_year: AcademicYear | None = None,
    name: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Term:
    """Change the fields given (None: unchanged)."""
    changes = {"academic_year": academic_year, "name": name, "start_date": start_date, "end_date": end_date}
    for field_name, value in changes.items():
        if value is not None:
            setattr(term, field_name, value)
    return _term_save(term)


def term_delete(*, term: Term) -> None:
    term.delete()


def instrument_create(**fields: Any) -> Instrument:
    return record_save(Instrument(), fields)


def instrument_update(*, instrument: Instrument, **fields: Any) -> Instrument:
    return record_save(instrument, fields)


def instrument_delete(*, instrument: Instrument) -> None:
    instrument.delete()


def teacher_create(**fields: Any) -> Teacher:
    return record_save(Teacher(), fields)


def teacher_update(*, teacher: Teacher, **fields: Any) -> Teacher:
    return record_save(teacher, fields)


def teacher_delete(*, teacher: Teacher) -> None:
    teacher.delete()


def availability_create(**fields: Any) -> WeeklyAvailability:
    return record_save(WeeklyAvailability(), fields)


def availability_update(*, availability: WeeklyAvailability, **fields: Any) -> WeeklyAvailability:
    return record_save(availability, fields)


def availability_delete(*, availability: WeeklyAvailability) -> None:
    availability.delete()


def room_create(**fields: Any) -> Room:
    return record_save(Room(), fields)


def academic_year_create(**fields: Any) -> AcademicYear:
    return record_save(AcademicYear(), fields)


def academic_year_update(*, academic_year: AcademicYear, **fields: Any) -> AcademicYear:
    return record_save(academic_year, fields)


def academic_year_delete(*, academic_year: AcademicYear) -> None:
    academic_year.delete()


@transaction.atomic
def closure_create(*, release_lessons: bool = True, **fields: Any) -> Closure:
    """A planned closure: its days have no lessons, so those already booked on them are taken off (see
    `_closed_lessons_release`); a weather closure (`school_day_close`) closes its lessons itself."""
    closure = record_save(Closure(), fields)
    if release_lessons:
        _closed_lessons_release(closure=closure)
    return closure


@transaction.atomic
def closure_update(*, closure: Closure, **fields: Any) -> Closure:
    closure = record_save(closure, fields)
    _closed_lessons_release(closure=closure)
    return closure


def _closed_lessons_release(*, closure: Closure) -> int:
    """Planned closures never have lessons: those still to come on its days are released (no charge, no credit), or,
    on a teacher's own closure, cancelled by the teacher (the family's credit follows, never capped)."""
    lessons = lessons_of_days(
        teacher_id=closure.teacher_id, first_day=closure.start_date, last_day=closure.end_date
    ).filter(end_at__gt=timezone.now())
    outcome = Outcome.TEACHER_CANCELLED if closure.teacher_id else Outcome.RELEASED
    return lessons_cancel(lessons=lessons, actor=None, outcome=outcome, reason=f"Closed: {closure.reason}"[:200])


def closure_delete(*, closure: Closure) -> None:
    closure.delete()


# A child's record: every change leaves an audit event.


def student_create(*, actor, **fields: Any) -> Student:
    return audited_create(actor=actor, model=Student, **fields)


def student_update(*, actor, student: Student, **fields: Any) -> Student:
    return audited_update(actor=actor, obj=student, family_id=student.family_id, student_id=student.pk, **fields)


@transaction.atomic
def student_names_correct(*, parent, names: dict[int, tuple[str, str]]) -> list[Student]:
    """A parent corrects their children's names (child id -> first and last name): each child changed leaves an
    audit event with the old and new names. Another family's child is refused, and nothing changes."""
    children = {s.pk: s for s in Student.objects.select_for_update().filter(family_id=parent.family_id, pk__in=names)}
    if missing := sorted(set(names) - set(children)):
        raise InvalidInput("Only your own children's names.", fields={str(pk): ["Not your child."] for pk in missing})
    for pk, (first_name, last_name) in names.items():
        student_update(actor=parent, student=children[pk], first_name=first_name, last_name=last_name)
    return list(children.values())


def student_photos_allowed_set(*, student: Student, allowed: bool) -> Student:
    """Enrollment's photo consent, given or withdrawn (in its transaction): what the teacher's pages show."""
    Student.objects.filter(pk=student.pk).update(photos_allowed=allowed)
    student.photos_allowed = allowed
    return student


def student_teacher_assign(*, actor, student: Student, teacher: Teacher) -> Student:
    """A teacher takes the student (enrollment booked their demo lesson): the student becomes active."""
    changes = {"teacher": [str(student.teacher or ""), str(teacher)], "status": [student.status, Student.Status.ACTIVE]}
    student.teacher, student.status = teacher, Student.Status.ACTIVE
    student.save(update_fields=["teacher", "status"])
    audit_record(actor=actor, action="update", obj=student, changes=changes)
    return student
