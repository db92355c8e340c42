"""The owner's lesson-week actions in the API (issue 15 §6): lesson fees and their waiver, the credit actions
(extend, void, give), and closing a day; the school's admins only (the authorization matrix covers every role)."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import LessonFee
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.credits import credits_with_balance
from enrollment.makeups import lesson_cancel_by_family
from enrollment.models import MakeupCredit, TuitionPlan
from scheduling.models import Closure
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set
from tests.factories import TuitionPlanFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(role="admin", is_staff=True, is_superuser=True)


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(owner) -> APIClient:
    return client_of(owner)


@pytest.fixture
def fee(week) -> LessonFee:
    week.enrollment.tuition_plan = TuitionPlanFactory(basis=TuitionPlan.Basis.PER_LESSON, price_cents=6_000)
    week.enrollment.save(update_fields=["tuition_plan"])
    school_settings_update(school_settings=school_settings_get(), lesson_fees_enabled=True)
    lesson = lesson_outcome_set(lesson=week.lesson_in(hours=-4), outcome=Outcome.NO_SHOW, actor=week.teacher.user)
    return LessonFee.objects.get(lesson=lesson)


@pytest.fixture
def credit(week) -> MakeupCredit:
    lesson = week.lesson_in(hours=96)
    lesson_cancel_by_family(lesson=lesson, actor=week.parent)
    return MakeupCredit.objects.get(missed_lesson=lesson)


def test_the_owner_lists_pending_fees(api, week, fee):
    body = api.get("/api/v1/lesson-fees/", {"status": "pending"}).json()

    assert [row["id"] for row in body["results"]] == [fee.pk]
    row = body["results"][0]
    assert (row["kind"], row["amount_cents"], row["status"], row["family"]) == (
        "no_show",
        6_000,
        "pending",
        week.parent.family_id,
    )
    assert row["student"] == str(week.student)
    assert api.get("/api/v1/lesson-fees/", {"status": "posted"}).json()["count"] == 0


@pytest.mark.parametrize("who", ["parent", "teacher"])
def test_a_family_or_teacher_cannot_see_or_waive_fees_not_even_their_own(week, fee, who):
    client = client_of(week.parent if who == "parent" else week.teacher.user)

    assert client.get("/api/v1/lesson-fees/").status_code == 403
    assert client.post(f"/api/v1/lesson-fees/{fee.pk}/waive/", {"note": "please"}, format="json").status_code == 403
    fee.refresh_from_db()
    assert fee.status == LessonFee.Status.PENDING


def test_the_owner_waives_a_fee_with_a_note(api, fee):
    response = api.post(f"/api/v1/lesson-fees/{fee.pk}/waive/", {"note": "First one"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["note"]) == ("waived", "First one")


def test_a_waiver_without_a_note_is_a_400_and_a_reversed_fee_a_409(api, owner, fee):
    missing = api.post(f"/api/v1/lesson-fees/{fee.pk}/waive/", {}, format="json")
    lesson_outcome_set(lesson=fee.lesson, outcome=Outcome.ATTENDED, actor=owner)
    reversed_ = api.post(f"/api/v1/lesson-fees/{fee.pk}/waive/", {"note": "Too late"}, format="json")

    assert missing.status_code == 400 and "note" in missing.json()["fields"]
    assert reversed_.status_code == 409 and reversed_.json()["code"] == "fee_settled"


def test_the_owner_extends_a_credit(api, credit):
    later = credit.expires_on + timedelta(days=14)

    response = api.post(
        "/api/v1/credit-actions/extend/",
        {"credit": credit.pk, "expires_on": later.isoformat(), "reason": "Away"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["expires_on"], response.json()["balance"]) == (later.isoformat(), 1)


def test_an_extension_to_an_earlier_date_is_a_400_on_expires_on(api, credit):
    response = api.post(
        "/api/v1/credit-actions/extend/",
        {"credit": credit.pk, "expires_on": (credit.expires_on - timedelta(days=1)).isoformat(), "reason": "Oops"},
        format="json",
    )

    assert response.status_code == 400 and "expires_on" in response.json()["fields"]


def test_the_owner_voids_a_credit_once(api, credit):
    first = api.post("/api/v1/credit-actions/void/", {"credit": credit.pk, "reason": "A mistake"}, format="json")
    again = api.post("/api/v1/credit-actions/void/", {"credit": credit.pk, "reason": "Again"}, format="json")

    assert first.status_code == 200 and first.json()["balance"] == 0
    assert again.status_code == 409 and again.json()["code"] == "credit_not_usable"


def test_the_owner_gives_a_credit_once_per_idempotency_key(api, week):
    body = {"enrollment": week.enrollment.pk, "goodwill": True, "reason": "Sorry", "lesson_minutes": 45}
    key = str(uuid4())

    first = api.post("/api/v1/credit-actions/grant/", body, format="json", headers={"Idempotency-Key": key})
    again = api.post("/api/v1/credit-actions/grant/", body, format="json", headers={"Idempotency-Key": key})

    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert (first.json()["origin"], first.json()["lesson_minutes"], first.json()["counts_toward_cap"]) == (
        "goodwill",
        45,
        False,
    )
    assert credits_with_balance().filter(enrollment=week.enrollment, balance=1).count() == 1


def test_a_parent_cannot_give_themselves_a_credit(week):
    body = {"enrollment": week.enrollment.pk, "reason": "Please"}

    response = client_of(week.parent).post("/api/v1/credit-actions/grant/", body, format="json")

    assert response.status_code == 403 and not MakeupCredit.objects.exists()


def test_the_owner_previews_then_closes_a_day(api, week):
    day = timezone.localdate(timezone=school_settings_get().zone) + timedelta(days=4)
    lesson = week.lesson_on(day, hour=15)

    preview = api.post("/api/v1/school-days/close/", {"day": day.isoformat(), "preview": True}, format="json")
    closed = api.post("/api/v1/school-days/close/", {"day": day.isoformat(), "reason": "Storm"}, format="json")
    again = api.post("/api/v1/school-days/close/", {"day": day.isoformat(), "reason": "Storm"}, format="json")

    assert preview.status_code == 200 and preview.json()["preview"] and preview.json()["closure"] is None
    assert [row["id"] for row in preview.json()["lessons"]] == [lesson.pk]
    assert [row["id"] for row in preview.json()["families"]] == [week.parent.family_id]
    assert closed.status_code == 200 and [row["id"] for row in closed.json()["lessons"]] == [lesson.pk]
    assert closed.json()["closure"] == Closure.objects.get().pk
    assert again.status_code == 200 and again.json()["lessons"] == [] and again.json()["families"] == []
    lesson.refresh_from_db()
    assert lesson.outcome == Outcome.SCHOOL_CLOSED


@pytest.mark.parametrize(
    ("body", "field"),
    [({"reason": "Storm", "days": 500}, "day"), ({"reason": "", "days": 2}, "reason")],
)
def test_closing_a_day_out_of_reach_or_without_a_reason_is_a_400_naming_it(api, body, field):
    day = timezone.localdate() + timedelta(days=body.pop("days"))

    response = api.post("/api/v1/school-days/close/", {"day": day.isoformat(), **body}, format="json")

    assert response.status_code == 400 and field in response.json()["fields"]
    assert not Closure.objects.exists()


def test_the_fee_list_runs_the_same_queries_whatever_its_length(api, week, fee):
    with CaptureQueriesContext(connection) as one:
        assert api.get("/api/v1/lesson-fees/").json()["count"] == 1
    for hours in (-30, -60):
        lesson_outcome_set(lesson=week.lesson_in(hours=hours), outcome=Outcome.NO_SHOW, actor=week.teacher.user)

    with CaptureQueriesContext(connection) as three:
        assert api.get("/api/v1/lesson-fees/").json()["count"] == 3

    assert len(three) == len(one)
