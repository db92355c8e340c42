"""A teacher cancels a lesson with a reason through the API; the owner lists what awaits a decision and answers it
(issue 15, §2): `POST lessons/{id}/teacher-cancel/`, `GET/POST teacher-cancellations/`, `POST …/{id}/decide/`."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import F

from cedarheights.selectors import school_settings_get
from scheduling.models import Lesson, TeacherCancellation
from scheduling.outcomes import Outcome
from scheduling.services import teacher_cancellation_create, teacher_cancellation_decide

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def _cancel(as_role, role: str, lesson: Lesson, body: dict):
    return as_role(role).post(f"/api/v1/lessons/{lesson.pk}/teacher-cancel/", body, format="json")


def test_the_lessons_teacher_cancels_with_a_reason_and_the_owner_is_emailed_once(
    world, as_role, django_capture_on_commit_callbacks
):
    lesson = world.lesson_a

    with django_capture_on_commit_callbacks(execute=True):
        first = _cancel(as_role, "teacher_x", lesson, {"reason": "Flu"})
        again = _cancel(as_role, "teacher_x", lesson, {"reason": "Flu, still"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["outcome"], first.json()["cancellation_reason"]) == ("teacher_cancelled", "Flu")
    assert first.json()["outcome_flags"]["credit"] == "uncapped"
    [reported] = TeacherCancellation.objects.filter(lesson=lesson)
    assert (reported.teacher, reported.reason, reported.decision) == (lesson.teacher, "Flu", "pending")
    [email] = [m for m in mail.outbox if m.to == [school_settings_get().contact_email]]
    assert "Flu" in email.body and str(lesson.student) in email.subject


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_a_teacher_cancel_without_a_reason_is_a_400_and_changes_nothing(world, as_role, body):
    response = _cancel(as_role, "teacher_x", world.lesson_a, body)

    assert response.status_code == 400 and list(response.json()["fields"]) == ["reason"]
    assert Lesson.objects.get(pk=world.lesson_a.pk).outcome == ""
    assert not TeacherCancellation.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("teacher_y", 404), ("parent_a", 403), ("admin", 200)])
def test_only_the_lessons_teacher_or_the_owner_cancel_it_as_the_teacher(world, as_role, role, status):
    response = _cancel(as_role, role, world.lesson_a, {"reason": "Snowed in"})

    assert response.status_code == status
    assert TeacherCancellation.objects.filter(lesson=world.lesson_a).exists() is (status == 200)


def test_a_teacher_reports_a_cancellation_by_the_list_too_and_sees_only_their_own(world, as_role):
    created = as_role("teacher_x").post(
        "/api/v1/teacher-cancellations/", {"lesson": world.lesson_a.pk, "reason": "Recital"}, format="json"
    )
    other = as_role("teacher_x").post(
        "/api/v1/teacher-cancellations/", {"lesson": world.lesson_b.pk, "reason": "Recital"}, format="json"
    )
    teacher_cancellation_create(lesson=world.lesson_b, actor=world.teacher_y, reason="Jury duty")

    assert created.status_code == 201 and created.json()["decision"] == "pending"
    assert other.status_code == 400 and list(other.json()["fields"]) == ["lesson"]  # another's lesson: unknown
    listed = as_role("teacher_x").get("/api/v1/teacher-cancellations/").json()["results"]
    assert [row["id"] for row in listed] == [created.json()["id"]]
    assert listed[0]["reason"] == "Recital" and listed[0]["student_name"] == str(world.student_a)
    assert as_role("parent_a").get("/api/v1/teacher-cancellations/").status_code == 403


def test_the_owner_lists_every_cancellation_those_awaiting_a_decision_first(world, as_role):
    decided = teacher_cancellation_create(lesson=world.lesson_a, actor=world.teacher_x, reason="Older")
    teacher_cancellation_decide(cancellation=decided, actor=world.admin, substitute=None)
    pending = teacher_cancellation_create(lesson=world.lesson_b, actor=world.teacher_y, reason="Newer")
    TeacherCancellation.objects.filter(pk=decided.pk).update(reported_at=pending.reported_at + timedelta(hours=1))

    listed = as_role("admin").get("/api/v1/teacher-cancellations/").json()["results"]

    assert [(row["id"], row["decision"]) for row in listed] == [(pending.pk, "pending"), (decided.pk, "credit")]


def test_the_owner_sends_a_substitute_and_the_lesson_is_kept_with_them(world, as_role):
    cancellation = teacher_cancellation_create(lesson=world.lesson_a, actor=world.teacher_x, reason="Flu")
    substitute = world.teacher_y.teacher  # free then once their lesson B moves an hour later
    Lesson.objects.filter(pk=world.lesson_b.pk).update(start_at=F("start_at") + HOUR, end_at=F("end_at") + HOUR)

    response = as_role("admin").post(
        f"/api/v1/teacher-cancellations/{cancellation.pk}/decide/", {"substitute": substitute.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["decision"], response.json()["substitute"]) == ("substitute", substitute.pk)
    lesson = Lesson.objects.get(pk=world.lesson_a.pk)
    assert (lesson.outcome, lesson.status, lesson.teacher) == ("", "scheduled", substitute)


def test_the_owner_lets_the_credit_stand_then_a_different_answer_is_a_409(world, as_role):
    cancellation = teacher_cancellation_create(lesson=world.lesson_a, actor=world.teacher_x, reason="Flu")
    url = f"/api/v1/teacher-cancellations/{cancellation.pk}/decide/"

    stands = as_role("admin").post(url, {"substitute": None}, format="json")
    same = as_role("admin").post(url, {"substitute": None}, format="json")
    other = as_role("admin").post(url, {"substitute": world.teacher_y.teacher.pk}, format="json")

    assert (stands.status_code, stands.json()["decision"], same.status_code) == (200, "credit", 200)
    assert other.status_code == 409 and other.json()["code"] == "cancellation_decided"
    assert Lesson.objects.get(pk=world.lesson_a.pk).outcome == Outcome.TEACHER_CANCELLED


@pytest.mark.parametrize("role", ["teacher_x", "teacher_y", "parent_a"])
def test_only_the_owner_decides(world, as_role, role):
    cancellation = teacher_cancellation_create(lesson=world.lesson_a, actor=world.teacher_x, reason="Flu")

    response = as_role(role).post(
        f"/api/v1/teacher-cancellations/{cancellation.pk}/decide/", {"substitute": None}, format="json"
    )

    assert response.status_code == 403
    assert TeacherCancellation.objects.get(pk=cancellation.pk).decision == "pending"


def test_a_busy_substitute_is_a_409_naming_their_lesson_and_the_cancellation_stays_pending(world, as_role):
    cancellation = teacher_cancellation_create(lesson=world.lesson_a, actor=world.teacher_x, reason="Flu")
    busy = world.teacher_y.teacher  # teaching lesson B at the same time

    response = as_role("admin").post(
        f"/api/v1/teacher-cancellations/{cancellation.pk}/decide/", {"substitute": busy.pk}, format="json"
    )

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["conflicting_lesson"]) == ("lesson_conflict", world.lesson_b.pk)
    assert TeacherCancellation.objects.get(pk=cancellation.pk).decision == "pending"
    assert Lesson.objects.get(pk=world.lesson_a.pk).teacher_id == world.lesson_a.teacher_id
