"""Make-up blocks: time a teacher publishes for make-up lessons, which enrollment's make-up offer hands to families
(enrollment/makeups.py). A block lies ahead (at most a year), lasts at most twelve hours, falls on no closed day,
never overlaps another block of the teacher (the exclusion constraint `makeup_block_no_overlap` has the last word)
and is deleted only while no make-up lesson is booked inside it.

Both writes lock the teacher's row, as every booking does first (`booking_lock`): a make-up booked into a block and
the block's deletion take turns, so a booked make-up never loses its block.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from cedarheights.errors import InvalidInput
from cedarheights.selectors import school_settings_get
from scheduling.errors import ClosureConflict, MakeupBlockInUse, MakeupBlockOverlap
from scheduling.models import MakeupBlock, Teacher
from scheduling.selectors import closed_dates, makeups_inside
from scheduling.services import booking_lock

LONGEST_BLOCK = timedelta(hours=12)
FURTHEST_AHEAD = timedelta(days=366)


def _span(start_at: datetime, end_at: datetime, zone) -> str:
    return f"{start_at.astimezone(zone):%a %-d %b %H:%M}–{end_at.astimezone(zone):%H:%M}"


def _times_validate(*, teacher: Teacher, start_at: datetime, end_at: datetime) -> None:
    if timezone.is_naive(start_at) or timezone.is_naive(end_at):
        raise InvalidInput("Block times need a time zone.", fields={"start_at": ["Give a time with its offset."]})
    if end_at <= start_at:
        raise InvalidInput("The block must end after it starts.", fields={"end_at": ["Must be after the start."]})
    if end_at - start_at > LONGEST_BLOCK:
        raise InvalidInput(
            "A make-up block lasts at most twelve hours.", fields={"end_at": ["At most twelve hours after the start."]}
        )
    now = timezone.now()
    if start_at <= now:
        raise InvalidInput("A make-up block starts in the future.", fields={"start_at": ["Choose a time ahead."]})
    if start_at > now + FURTHEST_AHEAD:
        raise InvalidInput("A make-up block is at most a year ahead.", fields={"start_at": ["Within a year."]})
    zone = school_settings_get().zone
    first, last = start_at.astimezone(zone).date(), end_at.astimezone(zone).date()
    closed = closed_dates(teacher_ids=[teacher.pk], start_date=first, end_date=last)
    if closed[None] or closed[teacher.pk]:
        day = min(closed[None] | closed[teacher.pk])
        raise ClosureConflict(f"No lessons on {day:%A %-d %B %Y}: the day is closed.")


def _overlap(teacher: Teacher, other: MakeupBlock | None) -> MakeupBlockOverlap:
    zone = school_settings_get().zone
    where = f" ({_span(other.start_at, other.end_at, zone)})" if other else ""
    message = f"This overlaps another make-up block of {teacher}{where}."
    return MakeupBlockOverlap(message, fields={"start_at": [message]})


@transaction.atomic
def makeup_block_create(*, teacher: Teacher, start_at: datetime, end_at: datetime) -> MakeupBlock:
    """Publish make-up time for `teacher` (the interface decides whose: a teacher's own, any for the owner)."""
    _times_validate(teacher=teacher, start_at=start_at, end_at=end_at)
    booking_lock(teacher_ids=[teacher.pk], student_ids=[])
    other = MakeupBlock.objects.filter(teacher=teacher, start_at__lt=end_at, end_at__gt=start_at).first()
    if other is not None:
        raise _overlap(teacher, other)
    try:
        with transaction.atomic():
            return MakeupBlock.objects.create(teacher=teacher, start_at=start_at, end_at=end_at)
    except IntegrityError as error:  # a writer that skipped the lock: the constraint says no in the same words
        if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != "makeup_block_no_overlap":
            raise
        raise _overlap(teacher, None) from error


@transaction.atomic
def makeup_block_delete(*, block: MakeupBlock) -> None:
    """Withdraw a make-up block; refused while a make-up lesson booked since it was published lies inside it."""
    booking_lock(teacher_ids=[block.teacher_id], student_ids=[])
    inside = makeups_inside(
        teacher_id=block.teacher_id, start_at=block.start_at, end_at=block.end_at, booked_since=block.created_at
    )
    if booked := inside.select_related("student").first():
        when = _span(booked.start_at, booked.end_at, school_settings_get().zone)
        raise MakeupBlockInUse(
            f"A make-up lesson is booked in this block ({booked.student}, {when}): it stays while that lesson does."
        )
    MakeupBlock.objects.filter(pk=block.pk).delete()
