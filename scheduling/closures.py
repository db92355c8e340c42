"""An unplanned closure of the whole school for a day (weather, a power cut): nothing more is booked that day, every
lesson still to come that day ends `school_closed` (the families' make-up credits follow, never capped), and each
family with a lesson that day is emailed once. A planned closure (a holiday) is a `Closure` made ahead, which
generates no lesson at all.
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Family
from cedarheights.emails import email_parents
from cedarheights.errors import InvalidInput
from cedarheights.selectors import school_settings_get, school_today
from scheduling.models import Closure, Lesson, Teacher
from scheduling.outcomes import Outcome
from scheduling.selectors import lessons_of_days, term_on
from scheduling.services import booking_lock, closure_create, lessons_cancel
from scheduling.transitions import STILL_TO_COME

# How far from today a day may be closed: a past day's outage is recorded late, a storm is forecast; a date
# further away is a slip of the finger.
CLOSABLE_DAYS = 366


@dataclass(frozen=True)
class DayClosing:
    """What closing `day` touches: its lessons still to come (as they are now) and their families. After the
    closing, the lessons it closed and the families it emailed."""

    day: date
    closure: Closure | None
    lessons: list[Lesson]
    families: list[Family]


def _day_validate(day: date) -> None:
    today = school_today()
    if day < today:  # a past day's lessons are marked as they went, not closed after the fact
        raise InvalidInput("Close today or a day ahead.", fields={"day": ["Today or later."]})
    if (day - today).days > CLOSABLE_DAYS:
        raise InvalidInput("Close a day within a year of today.", fields={"day": ["Within a year of today."]})


def _lessons_on(day: date) -> QuerySet[Lesson]:
    """The lessons still to come on `day` in the school's zone (local midnight to midnight, whatever its length); on
    the day itself, only those not yet over (a lesson taught before the power went out is marked, not closed)."""
    return lessons_of_days(teacher_id=None, first_day=day, last_day=day).filter(
        end_at__gt=timezone.now(), outcome=STILL_TO_COME
    )


def _whole_school_closure(day: date) -> Closure | None:
    return Closure.objects.filter(teacher__isnull=True, start_date__lte=day, end_date__gte=day).first()


def _closing(day: date, closure: Closure | None, lessons: QuerySet[Lesson]) -> DayClosing:
    shown = list(lessons.select_related("student__family", "student__instrument", "teacher__user").order_by("start_at"))
    families = list({lesson.student.family_id: lesson.student.family for lesson in shown}.values())
    return DayClosing(day=day, closure=closure, lessons=shown, families=families)


def school_day_close_preview(*, day: date) -> DayClosing:
    """What `school_day_close` would do now, for the owner to confirm."""
    _day_validate(day)
    return _closing(day, _whole_school_closure(day), _lessons_on(day))


@transaction.atomic
def school_day_close(*, day: date, reason: str, actor) -> DayClosing:
    """Close the whole school on `day`: a closure (no more bookings), every lesson still to come that day
    `school_closed`, each family touched emailed once. Closing the day again changes nothing and emails nobody."""
    _day_validate(day)
    if not reason.strip():
        raise InvalidInput("Say why the school is closed.", fields={"reason": ["Give a reason."]})
    # Every teacher first (the booking order), held to the end: a lesson booked meanwhile waits, then meets the
    # closure; a second closing of the day waits, then finds this one.
    booking_lock(teacher_ids=list(Teacher.objects.values_list("pk", flat=True)), student_ids=[])
    closure = _whole_school_closure(day) or closure_create(
        release_lessons=False,  # they are closed here, with their credits, not released
        reason=reason.strip(),
        start_date=day,
        end_date=day,
        term=term_on(day=day),
    )
    closing = _closing(day, closure, _lessons_on(day))
    lessons_cancel(
        lessons=Lesson.objects.filter(pk__in=[lesson.pk for lesson in closing.lessons]),
        actor=actor,
        outcome=Outcome.SCHOOL_CLOSED,
        reason=reason.strip(),
        family_emailed=True,  # each family's email below lists its lessons of the day
    )
    for family in closing.families:
        email_parents(
            family=family,
            template="school_closed",
            dedupe_key=f"school-closed:{family.pk}:{day.isoformat()}",
            related=closure,
            context={
                "day": day,
                "reason": closure.reason,
                "lessons": [lesson for lesson in closing.lessons if lesson.student.family_id == family.pk],
                "zone": school_settings_get().zone,
            },
        )
    return closing
