"""What a family sends to enroll (from the page, the API, or the owner on the phone), as the pipeline receives it."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from enrollment.models import Enrollment
from scheduling.models import Student
from scheduling.slots import Window


@dataclass(frozen=True)
class ChildInput:
    first_name: str
    last_name: str
    date_of_birth: date
    instrument_id: int
    level: str = Student.Level.BEGINNER
    lesson_minutes: int = 30
    photos: bool = False  # the guardian's opt-in to photos and recordings of this child's lessons

    @classmethod
    def from_cleaned(cls, data: Mapping[str, Any]) -> "ChildInput":
        """A child as the page's form or the API's serializer cleaned it (the instrument a model instance)."""
        return cls(
            data["first_name"],
            data["last_name"],
            data["date_of_birth"],
            data["instrument"].pk,
            data["level"],
            data["lesson_minutes"],
            data.get("photos", False),
        )


@dataclass(frozen=True)
class EnrollmentInput:
    children: list[ChildInput]
    windows: list[Window]
    tuition_plan_id: int
    consent: bool
    payment_method_id: str
    parent_first_name: str = ""
    parent_last_name: str = ""
    email: str = ""
    phone: str = ""
    # The privacy notice version the family was shown (the page's); None: the current one (an API client).
    notice_version: int | None = None
    marketing: bool = False  # the parent's opt-in to the school's news
    source: str = Enrollment.Source.WEB


def windows_from_cleaned(rows: Iterable[Mapping[str, Any]]) -> list[Window]:
    """The weekly windows as the page's form or the API's serializer cleaned them."""
    return [Window(row["weekday"], row["start_time"], row["end_time"]) for row in rows]


def child_key(key: uuid.UUID, index: int) -> uuid.UUID:
    """Each child's enrollment has its own unique key, derived from the submission's."""
    return uuid.uuid5(key, f"child:{index}")
