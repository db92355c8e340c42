"""One edit of a lesson, `lesson_change`, for the API and the admin: whole or not at all (issue 14, item 3).

The rollbacks were seen failing with `@transaction.atomic` taken off `lesson_change`: the lesson had moved although
the edit was refused.
"""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cedarheights.errors import InvalidInput
from scheduling import admin as scheduling_admin
from scheduling.api import views as scheduling_api
from scheduling.errors import LessonStatusRefused
from scheduling.models import Lesson
from scheduling.services import lesson_change, lesson_create, lessons_cancel
from tests.api.lesson_forms import lesson_admin_form

pytestmark = pytest.mark.django_db

Status = Lesson.Status
TORONTO = ZoneInfo("America/Toronto")


def _owner_client(world) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


@pytest.mark.parametrize("taught", [{"status": "completed"}, {"outcome": "attended"}])
def test_a_move_then_an_outcome_refused_leaves_the_lesson_where_it_was(world, taught):
    lesson = world.lesson_a
    later = lesson.start_at + timedelta(hours=1)

    with pytest.raises(LessonStatusRefused):  # marked taught before it started: refused after the move was written
        lesson_change(lesson=lesson, actor=world.admin, start_at=later, end_at=later + timedelta(minutes=30), **taught)

    after = Lesson.objects.get(pk=lesson.pk)
    assert (after.start_at, after.outcome, after.status) == (lesson.start_at, "", Status.SCHEDULED)


def test_a_field_an_edit_may_not_change_is_refused_before_anything_is_written(world):
    with pytest.raises(InvalidInput, match="teacher cannot be changed"):
        lesson_change(lesson=world.lesson_a, actor=world.admin, notes="moved", teacher=world.lesson_b.teacher)

    assert Lesson.objects.get(pk=world.lesson_a.pk).notes == ""


def test_the_apis_edit_is_lesson_change_and_a_refusal_in_its_second_half_undoes_the_first(world, as_role):
    lesson = world.lesson_a
    later = lesson.start_at + timedelta(hours=1)
    body = {"start_at": later.isoformat(), "end_at": (later + timedelta(minutes=30)).isoformat(), "notes": "later"}

    with mock.patch.object(scheduling_api, "lesson_change", wraps=lesson_change) as spy:
        refused = as_role("admin").patch(f"/api/v1/lessons/{lesson.pk}/", body | {"status": "completed"}, format="json")
        assert refused.status_code == 400 and refused.json()["code"] == "status_not_allowed"
        assert Lesson.objects.get(pk=lesson.pk).start_at == lesson.start_at
        moved = as_role("admin").patch(f"/api/v1/lessons/{lesson.pk}/", body, format="json")

    assert moved.status_code == 200 and spy.call_count == 2
    after = Lesson.objects.get(pk=lesson.pk)
    assert (after.start_at, after.notes) == (later, "later")


def test_the_admins_edit_is_one_lesson_change(world):
    lesson = world.lesson_a
    later = lesson.start_at.astimezone(TORONTO) + timedelta(hours=1)
    form = lesson_admin_form(lesson, start_at_1=f"{later:%H:%M:%S}", end_at_1=f"{later + timedelta(minutes=30):%T}")

    with mock.patch.object(scheduling_admin, "lesson_change", wraps=lesson_change) as spy:
        response = _owner_client(world).post(
            reverse("admin:scheduling_lesson_change", args=[lesson.pk]), form | {"notes": "later"}
        )

    assert response.status_code == 302
    spy.assert_called_once()
    assert set(spy.call_args.kwargs) == {"lesson", "actor", "check_availability", "start_at", "end_at", "notes"}
    after = Lesson.objects.get(pk=lesson.pk)
    assert (after.start_at, after.notes) == (later, "later")


def test_the_admin_books_a_lesson_already_taught_in_one_lesson_create(world):
    today = timezone.localdate(timezone=TORONTO)
    last_monday = today - timedelta(days=today.weekday() or 7)
    start = datetime.combine(last_monday, datetime.min.time(), tzinfo=TORONTO).replace(hour=17)
    taught = Lesson(
        teacher=world.lesson_a.teacher,
        student=world.student_a,
        start_at=start,
        end_at=start + timedelta(minutes=30),
        kind=Lesson.Kind.MAKEUP,
        outcome=Lesson.Outcome.ATTENDED,
        payment_status=Lesson.PaymentStatus.DUE,
        notes="scales",
    )
    form = lesson_admin_form(taught, teacher=taught.teacher.pk, student=taught.student.pk)

    with mock.patch.object(scheduling_admin, "lesson_create", wraps=lesson_create) as spy:
        response = _owner_client(world).post(reverse("admin:scheduling_lesson_add"), form)

    assert response.status_code == 302
    spy.assert_called_once()
    booked = Lesson.objects.get(student=world.student_a, start_at=start)
    assert (booked.outcome, booked.status, booked.notes, booked.kind) == (
        Lesson.Outcome.ATTENDED,
        Status.COMPLETED,
        "scales",
        Lesson.Kind.MAKEUP,
    )
    assert booked.outcome_set_by == world.admin


def test_lessons_cancel_gives_the_lessons_still_to_come_the_outcome_and_counts_them(world):
    lesson_change(lesson=world.lesson_b, actor=world.admin, status=Status.CANCELLED)

    cancelled = lessons_cancel(
        lessons=Lesson.objects.all(), actor=world.admin, outcome=Lesson.Outcome.SCHOOL_CLOSED, reason="snow"
    )

    assert cancelled == 1
    lesson = Lesson.objects.get(pk=world.lesson_a.pk)
    assert (lesson.outcome, lesson.status, lesson.cancelled_by, lesson.cancellation_reason) == (
        Lesson.Outcome.SCHOOL_CLOSED,
        Status.CANCELLED,
        world.admin,
        "snow",
    )
    other = Lesson.objects.get(pk=world.lesson_b.pk)  # cancelled before, left as it was
    assert (other.outcome, other.cancellation_reason) == (Lesson.Outcome.CANCELLED_WITH_NOTICE, "")
