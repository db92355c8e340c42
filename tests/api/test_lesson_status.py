"""A lesson's status changes only along the transitions in scheduling/transitions.py, for each role, through
`lesson_status_change`, whatever road the change takes (the API, the admin, the school's own jobs); who
cancelled and why is kept (issue 12, item 8).

Seen failing on the code before the fix (a copy without the new modules' imports): the teacher's un-cancel
answered 200 and erased the reason; a future lesson was marked completed; a reopening left no audit event; a
lesson read before its cancellation wrote `scheduled` back; the admin saved a future lesson as completed; the
admin's cancel kept no `cancelled_by`. A parent's PATCH was already a 403. The table walk has no "before".
"""

from datetime import timedelta
from itertools import product

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cedarheights.errors import DomainError, InvalidInput
from cedarheights.models import AuditEvent
from scheduling.errors import LessonStatusRefused, NotYourLesson, TooLateToCancel
from scheduling.models import Lesson
from scheduling.services import lesson_status_change, lesson_update
from scheduling.transitions import ONCE_STARTED, TRANSITIONS, Role
from tests.api.lesson_forms import lesson_admin_form
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db

Status = Lesson.Status


def _started(lesson: Lesson) -> None:
    """The clock moves on, not a service: the lesson began ten minutes ago."""
    now = timezone.now()
    Lesson.objects.filter(pk=lesson.pk).update(start_at=now - timedelta(minutes=10), end_at=now + timedelta(minutes=20))


def _refused_naming_status(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "status_not_allowed" and list(body["fields"]) == ["status"]
    return body


def test_a_teacher_cannot_undo_a_parents_cancellation_and_the_reason_is_kept(world, as_role):
    """The issue's case: `PATCH /api/v1/lessons/{id}/ {"status": "scheduled"}` by the teacher answered 200."""
    lesson = world.lesson_a
    cancel = as_role("parent_a").post(f"/api/v1/lessons/{lesson.pk}/cancel/", {"reason": "flu"}, format="json")
    assert cancel.status_code == 200
    cancelled = Lesson.objects.get(pk=lesson.pk)

    response = as_role("teacher_x").patch(f"/api/v1/lessons/{lesson.pk}/", {"status": "scheduled"}, format="json")

    _refused_naming_status(response)
    after = Lesson.objects.get(pk=lesson.pk)
    assert (after.status, after.cancellation_reason, after.cancelled_by, after.cancelled_at) == (
        Status.CANCELLED,
        "flu",
        world.parent_a,
        cancelled.cancelled_at,
    )
    assert cancel.json()["cancelled_by"] == world.parent_a.pk


def test_a_teacher_marks_attendance_only_once_the_lesson_has_started(world, as_role):
    lesson, teacher = world.lesson_a, as_role("teacher_x")

    too_soon = teacher.patch(f"/api/v1/lessons/{lesson.pk}/", {"status": "completed", "notes": "G"}, format="json")

    _refused_naming_status(too_soon)
    assert Lesson.objects.get(pk=lesson.pk).notes == ""  # the edit is refused whole
    _started(lesson)
    marked = teacher.patch(f"/api/v1/lessons/{lesson.pk}/", {"status": "no_show"}, format="json")
    assert marked.status_code == 200 and Lesson.objects.get(pk=lesson.pk).status == Status.NO_SHOW


def test_the_owner_reopens_a_cancelled_lesson_and_the_audit_event_keeps_who_cancelled_and_why(world, as_role):
    lesson = world.lesson_a
    as_role("parent_a").post(f"/api/v1/lessons/{lesson.pk}/cancel/", {"reason": "flu"}, format="json")
    cancelled_at = Lesson.objects.get(pk=lesson.pk).cancelled_at

    response = as_role("admin").patch(f"/api/v1/lessons/{lesson.pk}/", {"status": "scheduled"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "scheduled"
    event = AuditEvent.objects.get(object_type__model="lesson", object_id=str(lesson.pk))
    assert event.actor == world.admin and event.action == AuditEvent.Action.UPDATE
    assert event.changes == {
        "status": ["cancelled", "scheduled"],
        "cancelled_at": [cancelled_at.isoformat(), None],
        "cancelled_by": [str(world.parent_a), None],
        "cancellation_reason": ["flu", ""],
    }


def test_a_reopened_lesson_whose_time_was_taken_meanwhile_stays_cancelled(world, as_role):
    lesson = world.lesson_a
    lesson_status_change(lesson=lesson, status=Status.CANCELLED, actor=world.parent_a, reason="flu")
    Lesson.objects.create(
        teacher=lesson.teacher, student=StudentFactory(), start_at=lesson.start_at, end_at=lesson.end_at
    )

    response = as_role("admin").patch(f"/api/v1/lessons/{lesson.pk}/", {"status": "scheduled"}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "lesson_conflict"
    assert Lesson.objects.get(pk=lesson.pk).cancellation_reason == "flu"
    assert not AuditEvent.objects.filter(object_type__model="lesson").exists()


def test_a_parent_cannot_set_completed(world, as_role):
    lesson = world.lesson_a
    _started(lesson)

    response = as_role("parent_a").patch(f"/api/v1/lessons/{lesson.pk}/", {"status": "completed"}, format="json")

    assert response.status_code == 403  # a parent has no write on a lesson but its cancellation
    with pytest.raises(LessonStatusRefused) as refused:
        lesson_status_change(lesson=lesson, status=Status.COMPLETED, actor=world.parent_a)
    assert "status" in refused.value.fields
    assert Lesson.objects.get(pk=lesson.pk).status == Status.SCHEDULED


def test_someone_with_no_part_in_the_lesson_is_refused_even_a_status_it_already_has(world):
    with pytest.raises(NotYourLesson):
        lesson_status_change(lesson=world.lesson_b, status=Status.SCHEDULED, actor=world.teacher_x)


def test_a_status_changes_through_lesson_status_change_alone(world):
    with pytest.raises(InvalidInput):
        lesson_update(lesson=world.lesson_a, status=Status.CANCELLED)


def test_a_lesson_read_before_a_cancellation_does_not_write_it_back_when_saved_later(world):
    """Billing marks a lesson paid from the row it read earlier: a full save wrote back `scheduled`."""
    stale = Lesson.objects.get(pk=world.lesson_a.pk)
    lesson_status_change(lesson=world.lesson_a, status=Status.CANCELLED, actor=world.parent_a, reason="flu")

    lesson_update(lesson=stale, payment_status=Lesson.PaymentStatus.PAID)

    fresh = Lesson.objects.get(pk=world.lesson_a.pk)
    assert (fresh.status, fresh.cancellation_reason, fresh.payment_status) == (Status.CANCELLED, "flu", "paid")


ACTORS = ["school", "admin", "teacher_x", "parent_a", "teacher_y", "parent_b"]
ROLE_OF = {"school": Role.OWNER, "admin": Role.OWNER, "teacher_x": Role.TEACHER, "parent_a": Role.PARENT}


def _expected(actor: str, start: str, end: str, started: bool) -> type[DomainError] | None:
    """What the rules say, read from the table: None for allowed, else the error."""
    role = ROLE_OF.get(actor)
    if role is None:
        return NotYourLesson
    if start == end:
        return None
    if role not in TRANSITIONS.get((start, end), ()) or (end in ONCE_STARTED and not started):
        return LessonStatusRefused
    if role == Role.PARENT and end == Status.CANCELLED and started:
        return TooLateToCancel
    return None


def test_every_role_from_every_status_to_every_status_before_and_after_the_start(world):
    """All 6 × 4 × 4 × 2 cases (a finite table, so walked whole rather than sampled) against the service."""
    lesson, now = world.lesson_a, timezone.now()
    checked = 0
    for actor, start, end, started in product(ACTORS, Status.values, Status.values, [False, True]):
        begins = now - timedelta(minutes=10) if started else now + timedelta(days=3)  # past the notice window
        Lesson.objects.filter(pk=lesson.pk).update(
            status=start,
            start_at=begins,
            end_at=begins + timedelta(minutes=30),
            cancelled_at=now if start == Status.CANCELLED else None,
            cancelled_by=None,
            cancellation_reason="",
        )
        expected = _expected(actor, start, end, started)
        case = f"{actor}: {start} → {end}, {'started' if started else 'not started'}"
        try:
            changed = lesson_status_change(
                lesson=lesson, status=end, actor=None if actor == "school" else world.user(actor)
            )
        except DomainError as error:
            assert type(error) is expected, f"{case}: {error!r}, expected {expected}"
            assert Lesson.objects.get(pk=lesson.pk).status == start, case
        else:
            assert expected is None, f"{case}: allowed, expected {expected.__name__}"
            assert changed.status == end == Lesson.objects.get(pk=lesson.pk).status, case
        checked += 1
    assert checked == 192


def test_the_admin_form_refuses_a_future_lesson_marked_completed_on_its_status_field(world):
    client = Client()
    client.force_login(world.admin)
    url = reverse("admin:scheduling_lesson_change", args=[world.lesson_a.pk])

    response = client.post(url, lesson_admin_form(world.lesson_a, status="completed", notes="kept as typed"))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "once it has started" in str(form.errors["status"]) and b"kept as typed" in response.content
    assert Lesson.objects.get(pk=world.lesson_a.pk).status == Status.SCHEDULED


def test_the_admins_cancel_action_keeps_who_cancelled(world):
    client = Client()
    client.force_login(world.admin)

    client.post(
        reverse("admin:scheduling_lesson_changelist") + "?status=scheduled",
        {"action": "cancel_lessons", "_selected_action": [world.lesson_a.pk]},
    )

    lesson = Lesson.objects.get(pk=world.lesson_a.pk)
    assert (lesson.status, lesson.cancelled_by) == (Status.CANCELLED, world.admin)


def test_a_change_nobody_may_make_says_so_plainly(world):
    """It read "A cancelled lesson cannot be made no-show by teacher: only nobody may."."""
    lesson_status_change(lesson=world.lesson_a, status=Lesson.Status.CANCELLED, actor=world.admin)
    with pytest.raises(LessonStatusRefused) as refused:
        lesson_status_change(lesson=Lesson.objects.get(pk=world.lesson_a.pk), status="no_show", actor=world.teacher_x)
    assert refused.value.message == "A cancelled lesson cannot be made no-show."
