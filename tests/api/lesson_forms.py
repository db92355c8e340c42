"""What the admin's lesson form posts, built from a lesson (for the tests of the admin's lesson pages)."""

from zoneinfo import ZoneInfo

from scheduling.models import Lesson


def lesson_admin_form(lesson: Lesson, **overrides) -> dict:
    """The change form of `lesson` as the page shows it, with `overrides` typed over it."""
    zone = ZoneInfo("America/Toronto")
    start, end = lesson.start_at.astimezone(zone), lesson.end_at.astimezone(zone)
    return {
        "kind": lesson.kind,
        "start_at_0": f"{start:%Y-%m-%d}",
        "start_at_1": f"{start:%H:%M:%S}",
        "end_at_0": f"{end:%Y-%m-%d}",
        "end_at_1": f"{end:%H:%M:%S}",
        "room": "",
        "term": "",
        "outcome": lesson.outcome,
        "payment_status": lesson.payment_status,
        "notes": lesson.notes,
        "family_note": lesson.family_note,
    } | overrides
