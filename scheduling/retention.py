"""Scheduling's part of the retention schedule (cedarheights/privacy_retention.py runs it): what a family's lessons
say about when it was last taught, and its children's names and the lessons' notes wiped once past their period.
Lessons keep their times, teachers and outcomes: the school's statistics stay whole."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from scheduling.models import CalendarFeed, Lesson, Student

LESSON_FREE_TEXT = ("notes", "family_note", "cancellation_reason")
ANONYMISED_FIRST_NAME = "Former student"


@dataclass(frozen=True)
class LessonHistory:
    last_lesson_at: datetime | None
    had_regular_lesson: bool


def family_lesson_histories(*, family_ids: Collection[int]) -> dict[int, LessonHistory]:
    """Each family's last lesson (any kind, past or booked) and whether it ever had a regular one: one query."""
    rows = (
        Lesson.objects.filter(student__family_id__in=list(family_ids))
        .values("student__family_id")
        .annotate(last=Max("start_at"), regular=Count("pk", filter=Q(kind=Lesson.Kind.REGULAR)))
    )
    return {row["student__family_id"]: LessonHistory(row["last"], row["regular"] > 0) for row in rows}


def _lessons_with_free_text(family_id: int):
    has_text = Q()
    for field in LESSON_FREE_TEXT:
        has_text |= ~Q(**{field: ""})
    return Lesson.objects.filter(has_text, student__family_id=family_id)


def family_students_pending_anonymisation(*, family_id: int) -> tuple[int, int]:
    """(children still named, lessons still holding notes) of the family: what `family_students_anonymise` would
    change."""
    named = Student.objects.filter(family_id=family_id).exclude(first_name=ANONYMISED_FIRST_NAME).count()
    return named, _lessons_with_free_text(family_id).count()


def birth_date_kept(born: date) -> date:
    """A child's birth date as kept after retention: the year, so age statistics stay."""
    return date(born.year, 1, 1)


@transaction.atomic(savepoint=False)
def family_students_anonymise(*, family_id: int) -> tuple[int, int]:
    """Name the family's children by their id, keep only their year of birth, wipe their notes and their lessons'
    notes, and revoke the family's calendar links. Returns (children, lessons) changed; a second call changes none."""
    children = 0
    for student in Student.objects.filter(family_id=family_id).select_for_update().order_by("pk"):
        kept_birth = birth_date_kept(student.date_of_birth)
        already = student.first_name == ANONYMISED_FIRST_NAME and student.date_of_birth == kept_birth
        if already and not student.notes and not student.external_id:
            continue
        student.first_name = ANONYMISED_FIRST_NAME
        student.last_name = f"#{student.pk}"
        student.date_of_birth = kept_birth
        student.notes = ""
        student.external_id = ""  # an imported child's id may be their name and birthday
        student.save(update_fields=["first_name", "last_name", "date_of_birth", "notes", "external_id"])
        children += 1
    lessons = _lessons_with_free_text(family_id).update(**dict.fromkeys(LESSON_FREE_TEXT, ""))
    CalendarFeed.objects.filter(family_id=family_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return children, lessons
