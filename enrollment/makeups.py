"""A family's side of the lesson week: cancelling a lesson (with what it earns shown first), booking a make-up
with a credit from the times the school offers, and rescheduling (both at once, so no credit is lost between two
pages). The rules of outcomes are scheduling's; the credits' ledger is credits.py.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cedarheights.emails import email_parents
from cedarheights.errors import DomainError
from cedarheights.selectors import school_settings_get, school_today
from enrollment.credits import (
    credit_balance,
    credit_of_lesson,
    credit_rule_for,
    enrollment_for_lesson,
    lesson_credit_expiry,
    makeup_credit_redeem,
)
from enrollment.errors import CreditNotUsable, MakeupSlotNotOffered, NoCreditEarned
from enrollment.lesson_prices import FeeQuote, lesson_fee_quote
from enrollment.models import MakeupCredit
from scheduling.errors import NotYourLesson
from scheduling.models import Lesson, MakeupBlock, Teacher
from scheduling.outcomes import CANCELLING, FLAGS, Outcome
from scheduling.selectors import closed_dates, sick_passes_left, term_on
from scheduling.services import booking_lock, family_cancellation_outcome, lesson_create, lesson_outcome_set
from scheduling.slots import slots_free
from scheduling.transitions import Role, lesson_role

TEACHER_AWAY = frozenset({Outcome.TEACHER_CANCELLED, Outcome.SCHOOL_CLOSED})
FREE_TIME, MAKEUP_TIME, FREED_TIME = "the teacher's free time", "make-up time", "freed by a cancellation"
MAX_OFFERS = 200


@dataclass(frozen=True)
class CancellationPreview:
    """What a family's cancellation of a lesson would be now, said before they confirm."""

    outcome: str
    late: bool
    earns_credit: bool
    why_no_credit: str
    credit_expires_on: date | None
    sick_passes_left: int
    fee: FeeQuote | None

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label


def cancellation_credit(*, lesson: Lesson, outcome: str) -> tuple[bool, str]:
    """Whether cancelling `lesson` with `outcome` leaves the family a credit, and if not, why: a weekly lesson earns
    its own (`credit_rule_for`); a make-up paid with a credit gives it back when cancelled in time, else forfeits it."""
    if lesson.kind == Lesson.Kind.MAKEUP and credit_of_lesson(lesson=lesson) is not None:
        if outcome and FLAGS[outcome].issues_credit:
            return True, ""
        return False, "a make-up cancelled late is forfeited"
    return credit_rule_for(lesson=lesson, outcome=outcome)


def cancellation_preview(*, lesson: Lesson, use_sick_pass: bool = False) -> CancellationPreview:
    outcome = family_cancellation_outcome(lesson=lesson, use_sick_pass=use_sick_pass)
    passes = sick_passes_left(lesson=lesson)
    if outcome == Outcome.LATE_CANCEL_SICK and passes <= 0:
        outcome = Outcome.LATE_CANCEL
    earns, why = cancellation_credit(lesson=lesson, outcome=outcome)
    expires = None
    if earns and lesson.kind == Lesson.Kind.MAKEUP:
        expires = credit_of_lesson(lesson=lesson).expires_on  # the credit given back keeps its own expiry
    elif earns:
        expires = lesson_credit_expiry(lesson=lesson, outcome=outcome)
    enrollment = enrollment_for_lesson(lesson=lesson)
    return CancellationPreview(
        outcome=outcome,
        late=outcome in {Outcome.LATE_CANCEL, Outcome.LATE_CANCEL_SICK},
        earns_credit=earns,
        why_no_credit=why,
        credit_expires_on=expires,
        sick_passes_left=passes,
        fee=lesson_fee_quote(lesson=lesson, outcome=outcome, enrollment=enrollment),
    )


@transaction.atomic
def lesson_cancel_by_family(*, lesson: Lesson, actor, use_sick_pass: bool = False, reason: str = "") -> Lesson:
    """A parent (or the owner for them) cancels a lesson: with notice, or late (a sick pass if asked and one is
    left). The credit follows from the outcome; the family is emailed once what they got."""
    outcome = family_cancellation_outcome(lesson=lesson, use_sick_pass=use_sick_pass)
    lesson = lesson_outcome_set(lesson=lesson, outcome=outcome, actor=actor, reason=reason, family_emailed=True)
    credit = credit_of_lesson(lesson=lesson)
    earned = credit is not None and credit_balance(credit=credit) == 1
    _, why = cancellation_credit(lesson=lesson, outcome=outcome)
    email_parents(
        family=lesson.student.family,
        template="lesson_cancelled",
        dedupe_key=f"lesson-cancelled:{lesson.pk}:{lesson.outcome_set_at.isoformat()}",
        related=lesson,
        context={"lesson": lesson, "credit": credit if earned else None, "why_no_credit": why},
    )
    return lesson


@dataclass(frozen=True)
class MakeupOffer:
    start_at: datetime
    end_at: datetime
    teacher: Teacher
    source: str


def makeup_teachers(*, credit: MakeupCredit) -> list[Teacher]:
    """The child's own teacher; every active teacher of the instrument when the school allows it."""
    student = credit.enrollment.student
    if school_settings_get().makeup_any_teacher:
        return list(Teacher.objects.filter(active=True, instruments=credit.instrument_id).order_by("pk"))
    return [student.teacher] if student.teacher_id and student.teacher.active else []


def makeup_credit_usable_check(*, credit: MakeupCredit) -> None:
    if credit_balance(credit=credit) != 1:
        raise CreditNotUsable("This credit has been used or has expired.")
    if credit.held_until_paid:
        raise CreditNotUsable("This credit can be used once the missed lesson's tuition is paid.")
    if credit.expires_on < school_today():
        raise CreditNotUsable(f"This credit expired on {credit.expires_on:%-d %B %Y}.")


def makeup_slots_offer(
    *, credit: MakeupCredit, day: date | None = None, teacher_id: int | None = None
) -> list[MakeupOffer]:
    """The make-up times a credit may book, earliest first: each teacher's free time within their weekly hours,
    times freed by other families' cancellations, and make-up blocks teachers publish, at least the make-up notice
    ahead, at most the make-up horizon out and never after the credit's expiry; none that overlaps the child's own
    lessons. `day` and `teacher_id` narrow it (a booking checks its time is among them)."""
    school = school_settings_get()
    zone, now = school.zone, timezone.now()
    teachers = {t.pk: t for t in makeup_teachers(credit=credit) if teacher_id is None or t.pk == teacher_id}
    if not teachers:
        return []
    earliest = now + timedelta(hours=school.makeup_notice_hours)
    first_day = max(day or earliest.astimezone(zone).date(), earliest.astimezone(zone).date())
    last_day = min(
        day or date.max, credit.expires_on, (now.astimezone(zone) + timedelta(days=school.makeup_horizon_days)).date()
    )
    if last_day < first_day:
        return []
    length = timedelta(minutes=credit.lesson_minutes)
    found: dict[tuple[int, datetime], str] = {}
    for slot in slots_free(
        start_date=first_day,
        end_date=last_day,
        minutes=credit.lesson_minutes,
        teacher_ids=list(teachers),
        now=now,
        notice_hours=school.makeup_notice_hours,
        horizon_days=school.makeup_horizon_days,
    ):
        found[slot.teacher_id, slot.start_at] = FREE_TIME
    range_start = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    range_end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    lessons = list(
        Lesson.objects.filter(start_at__lt=range_end + length, end_at__gt=range_start - length)
        .filter(Q(teacher_id__in=teachers) | Q(student_id=credit.enrollment.student_id))
        .values_list("teacher_id", "student_id", "start_at", "end_at", "outcome")
    )
    # What stands in a time's way, by local day: the teachers' lessons (with the buffer), the child's own, and the
    # teachers' own absences (a time they cancelled, or the school closed, is not theirs to offer again). By day, so
    # each candidate looks at a handful of lessons, not at the weeks' hundreds.
    teacher_busy: dict[tuple[int, date], list[tuple[datetime, datetime]]] = defaultdict(list)
    child_busy: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
    for t, student_id, a, b, outcome in lessons:
        for day in {a.astimezone(zone).date(), b.astimezone(zone).date()}:
            if outcome not in CANCELLING or outcome in TEACHER_AWAY:
                teacher_busy[t, day].append((a, b))
            if outcome not in CANCELLING and student_id == credit.enrollment.student_id:
                child_busy[day].append((a, b))
    closed = closed_dates(teacher_ids=list(teachers), start_date=first_day, end_date=last_day)
    step = timedelta(minutes=school.slot_step_minutes)
    buffer = timedelta(minutes=school.buffer_minutes)

    def open_at(teacher_pk: int, start: datetime) -> bool:
        end, local_day = start + length, start.astimezone(zone).date()
        if start < earliest or not first_day <= local_day <= last_day:
            return False
        if local_day in closed[None] or local_day in closed.get(teacher_pk, set()):
            return False
        if any(a < end + buffer and b + buffer > start for a, b in teacher_busy[teacher_pk, local_day]):
            return False
        return not any(a < end and b > start for a, b in child_busy[local_day])

    for teacher_pk, _, start, end, outcome in lessons:
        if teacher_pk in teachers and outcome == Outcome.CANCELLED_WITH_NOTICE and end - start == length:
            found[teacher_pk, start] = FREED_TIME  # another family's notice cancellation, said as such
    for block in MakeupBlock.objects.filter(teacher_id__in=teachers, start_at__lt=range_end, end_at__gt=range_start):
        start = block.start_at
        while start + length <= block.end_at:
            if open_at(block.teacher_id, start):
                found.setdefault((block.teacher_id, start), MAKEUP_TIME)
            start += step
    offers = [
        MakeupOffer(start.astimezone(zone), start.astimezone(zone) + length, teachers[teacher_pk], source)
        for (teacher_pk, start), source in found.items()
        if open_at(teacher_pk, start)
    ]
    offers.sort(key=lambda offer: (offer.start_at, offer.teacher.pk))
    return offers[:MAX_OFFERS]


@transaction.atomic
def makeup_book(
    *, credit: MakeupCredit, teacher: Teacher, start_at: datetime, actor, replaces: Lesson | None = None
) -> Lesson:
    """Book a make-up lesson with a credit, at one of the offered times, never double-booked: the teacher and the
    child are locked (the order every booking takes), then the credit; the time is checked against the offer under
    those locks, and the database's exclusion constraints have the last word. The family is emailed once (naming
    the lesson it `replaces`, for a reschedule)."""
    student = credit.enrollment.student
    booking_lock(teacher_ids=[teacher.pk], student_ids=[student.pk])
    credit = MakeupCredit.objects.select_for_update().select_related("enrollment__student__family").get(pk=credit.pk)
    if actor is not None and lesson_role(actor=actor, lesson=Lesson(student=student, teacher=teacher)) not in {
        Role.OWNER,
        Role.PARENT,
    }:
        raise NotYourLesson("You may not book a make-up for this child.")
    makeup_credit_usable_check(credit=credit)
    local_day = start_at.astimezone(school_settings_get().zone).date()
    offered = {offer.start_at for offer in makeup_slots_offer(credit=credit, day=local_day, teacher_id=teacher.pk)}
    if start_at not in offered:
        raise MakeupSlotNotOffered(
            "That make-up time is no longer available; please choose another.",
            fields={"start_at": ["Not an offered time."]},
        )
    try:
        lesson = lesson_create(
            teacher=teacher,
            student=student,
            start_at=start_at,
            end_at=start_at + timedelta(minutes=credit.lesson_minutes),
            kind=Lesson.Kind.MAKEUP,
            term=term_on(day=local_day),
            actor=actor,
            check_availability=False,  # a make-up block or a freed time may lie outside the weekly hours
        )
    except DomainError as error:  # taken since the offer was read: the database said so
        raise MakeupSlotNotOffered("That make-up time was just taken; please choose another.") from error
    makeup_credit_redeem(credit=credit, lesson=lesson, actor=actor)
    email_parents(
        family=student.family,
        template="makeup_booked",
        dedupe_key=f"makeup-booked:{lesson.pk}",
        related=lesson,
        context={"lesson": lesson, "credit": credit, "replaces": replaces},
    )
    return lesson


@transaction.atomic
def lesson_reschedule_by_family(*, lesson: Lesson, actor, teacher: Teacher, start_at: datetime) -> Lesson:
    """Cancel a lesson and book its make-up in one step: both or neither, so the credit is never left between two
    pages. Only a cancellation that earns a credit can be rescheduled; the make-up lesson is returned."""
    booking_lock(teacher_ids={lesson.teacher_id, teacher.pk}, student_ids=[lesson.student_id])
    preview = cancellation_preview(lesson=lesson)
    if not preview.earns_credit:
        raise NoCreditEarned(f"This lesson cannot be rescheduled online: {preview.why_no_credit}.")
    # The new time in the reason: the teacher's notice of the cancellation (scheduling.change_notices) says where the
    # lesson went, beside the make-up's own notice.
    moved_to = start_at.astimezone(school_settings_get().zone)
    lesson = lesson_outcome_set(
        lesson=lesson,
        outcome=preview.outcome,
        actor=actor,
        reason=f"Rescheduled by the family to {moved_to:%a %-d %b, %-I:%M %p}",
        family_emailed=True,
    )
    credit = credit_of_lesson(lesson=lesson)
    return makeup_book(credit=credit, teacher=teacher, start_at=start_at, actor=actor, replaces=lesson)
