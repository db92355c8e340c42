"""Every operation of the API × every role, generated from the OpenAPI schema.

A new endpoint is covered without anyone remembering: its model must be classified below as owned
by a family or teacher, or as shared school data, or this test fails asking for it.
"""

import re
from datetime import time, timedelta

import pytest
from django.apps import apps
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIRequestFactory

from accounts.models import Family
from accounts.services import FAMILY_FIELDS
from billing.models import FamilyDiscount, FamilyFee, LessonFee, PayPeriod, PayRate, PromotionCode, TuitionSubscription
from cedarheights.models import AuditEvent
from enrollment.models import Enrollment, MakeupCredit, TuitionPlan
from scheduling.calendar_feeds import calendar_feed_issue
from scheduling.models import (
    AcademicYear,
    CalendarFeed,
    Closure,
    Instrument,
    Lesson,
    MakeupBlock,
    Student,
    Teacher,
    TeacherCancellation,
    Term,
    WeeklyAvailability,
)
from scheduling.services import lesson_create, teacher_cancellation_create
from scheduling.weekly_lessons import weekly_lesson_book
from tests.factories import TermFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "parent_a", "parent_b", "teacher_x", "teacher_y", "admin"]
# One family's records (students and lessons: one teacher's too); a teacher's own (cancellations, make-up time).
OWNED = {
    Family,
    Student,
    Lesson,
    TuitionSubscription,
    TeacherCancellation,
    MakeupCredit,
    MakeupBlock,
    FamilyFee,
    Enrollment,
}
# One person's own (calendar links): their holder (parent B) reaches them, nobody else, not even the school's admin.
PERSONAL = {CalendarFeed}
FAMILIES_ONLY = {Family, TuitionSubscription, MakeupCredit, FamilyFee, Enrollment}  # no teacher reaches them
TEACHERS_ONLY = {TeacherCancellation, MakeupBlock}  # no family reaches them
# What cancelling a lesson means for the family, and where it may move: the family's side, not their teacher's.
FAMILY_SIDE = {"/api/v1/lessons/{id}/cancellation/", "/api/v1/lessons/{id}/reschedule/"}
SHARED = {Teacher, WeeklyAvailability, Instrument, AcademicYear, Term, Closure, TuitionPlan}
SCHOOL_ONLY = {LessonFee}  # families' records only the school reaches (fees the owner reviews)
SCHOOL_ONLY |= {PayRate, PayPeriod}  # payroll (issue 17): a teacher reaches only their own lines, at teach/pay/
SCHOOL_ONLY |= {FamilyDiscount, PromotionCode}  # tuition (issue 17): a family's own discount, promotion codes
PUBLIC_PREFIXES = ("/api/v1/public/",)
ANONYMOUS_ALLOWED = {
    ("/api/v1/auth/csrf/", "get"),
    ("/api/v1/auth/login/", "post"),
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/auth/password/reset/", "post"),
    ("/api/v1/auth/password/reset/confirm/", "post"),
    ("/api/v1/enrollments/", "post"),
}
SAFE = {"get", "head", "options"}
# Path parameters that are not a record's id: a person's own settings by name (each role reaches only its own; a
# name not theirs is a 404, as tests/reminders/test_preferences.py checks).
NAMED = {"{kind}": "lessons_tomorrow"}


def with_names(path: str) -> str:
    for parameter, value in NAMED.items():
        path = path.replace(parameter, value)
    return path


@pytest.fixture(autouse=True)
def _credits(world_credits):
    """Every family's record kind exists on both sides, make-up credits too."""


@pytest.fixture(autouse=True)
def _tuition_discounts(world):
    """Family B's own discount and a promotion code (the school's admins' alone)."""
    FamilyDiscount.objects.create(family=world.student_b.family, kind="staff", percent=20)
    PromotionCode.objects.create(code="SPRING-10", percent_off=10)


def operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted((path, method) for path, item in schema["paths"].items() for method in item)


OPERATIONS = operations()


def model_behind(url: str, world) -> type:
    view = resolve(url).func
    cls = view.cls
    instance = cls()
    request = APIRequestFactory().get(url)
    request.user = world.admin
    instance.request, instance.action, instance.format_kwarg, instance.kwargs = request, "list", None, {}
    return instance.get_queryset().model


def teacher_y_cancellation(world) -> TeacherCancellation:
    """Teacher Y cancelled student B's lesson an hour after lesson B (lesson B itself stays still to come)."""
    if done := TeacherCancellation.objects.filter(teacher__user=world.teacher_y).first():
        return done
    start = world.lesson_b.start_at + timedelta(hours=1)
    lesson = lesson_create(
        teacher=world.lesson_b.teacher, student=world.student_b, start_at=start, end_at=start + timedelta(minutes=30)
    )
    return teacher_cancellation_create(lesson=lesson, actor=world.teacher_y, reason="Jury duty")


def payroll_record(model: type, world):
    """Teacher Y's pay rate, or the first pay period (made from the world's lessons)."""
    from billing.payroll.services import pay_periods_generate, pay_rate_create

    if model is PayRate:
        teacher = world.lesson_b.teacher
        return PayRate.objects.filter(teacher=teacher).first() or pay_rate_create(
            actor=None, teacher=teacher, kind="hourly", amount_cents=4500, effective_from=world.lesson_b.start_at.date()
        )
    pay_periods_generate(through=world.lesson_b.start_at.date() + timedelta(days=1))  # the world's lessons may be ahead
    return PayPeriod.objects.order_by("start").first()


def b_side(model: type, world):
    """The object of family B / teacher Y that parent A and teacher X must not reach."""
    if model in {PayRate, PayPeriod}:
        return payroll_record(model, world)
    if model is TeacherCancellation:
        return teacher_y_cancellation(world)
    if model is CalendarFeed:
        return calendar_feed_issue(holder=world.parent_b, scope=CalendarFeed.Scope.FAMILY, actor=world.parent_b)[0]
    return {
        Family: world.student_b.family,
        Student: world.student_b,
        Lesson: world.lesson_b,
        TuitionSubscription: TuitionSubscription.objects.get(family=world.student_b.family),
        MakeupCredit: MakeupCredit.objects.get(enrollment__student=world.student_b),
        LessonFee: LessonFee.objects.get(family=world.student_b.family),
        FamilyFee: FamilyFee.objects.get(family=world.student_b.family),
        FamilyDiscount: FamilyDiscount.objects.get(family=world.student_b.family),
        PromotionCode: PromotionCode.objects.get(),
        MakeupBlock: world.block_y,
        Enrollment: Enrollment.objects.get(student=world.student_b),
    }[model]


def any_shared(model: type, world):
    return model.objects.order_by("pk").first()


def request(client, method: str, url: str):
    body = {} if method not in SAFE else None
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_every_operation_by_every_role(world, as_role, path, method):
    has_id = "{id}" in path
    model = None
    url = with_names(path)
    if has_id:
        model = model_behind(path.replace("{id}", "1"), world)
        assert model in OWNED | SHARED | SCHOOL_ONLY | PERSONAL, (
            f"classify {model.__name__} as OWNED, SHARED, SCHOOL_ONLY or PERSONAL"
        )
        target = any_shared(model, world) if model in SHARED else b_side(model, world)
        url = path.replace("{id}", str(target.pk))
    assert not re.search(r"{\w+}", url), f"unfilled path parameter in {path}"

    for role in ROLES:
        response = request(as_role(role), method, url)
        where = f"{role} {method.upper()} {url} → {response.status_code}"
        assert response.status_code < 500, where
        public = url.startswith(PUBLIC_PREFIXES) or (path, method) in ANONYMOUS_ALLOWED
        if role == "anonymous" and not public:
            assert response.status_code in {401, 403}, where
        if not has_id:
            continue
        if model in OWNED and role in {"parent_a", "teacher_x"}:
            # Family B's records, taught by teacher Y: as if they did not exist.
            assert response.status_code in {403, 404}, where
        # Teachers have no access to families, their billing or their credits at all, families none to teachers'
        # cancellations or make-up time.
        owner = (
            role == "admin"
            or (role == "parent_b" and model not in TEACHERS_ONLY)
            or (role == "teacher_y" and model not in FAMILIES_ONLY and path not in FAMILY_SIDE)
        )
        if model in OWNED and owner and method == "get":
            assert response.status_code == 200, where  # the owner does reach it: the test can fail
        if model in TEACHERS_ONLY and role in {"parent_a", "parent_b"}:
            assert response.status_code == 403, where
        if model in SHARED and role != "anonymous" and role != "admin" and method not in SAFE:
            assert response.status_code == 403, where
        if model in SHARED and role != "anonymous" and method == "get":
            assert response.status_code == 200, where
        if model in SCHOOL_ONLY and role not in {"admin", "anonymous"}:
            assert response.status_code == 403, where  # no family, not even its own, and no teacher
        if model in SCHOOL_ONLY and role == "admin" and method == "get":
            assert response.status_code == 200, where
        if model in PERSONAL and role not in {"parent_b", "anonymous"}:
            assert response.status_code in {403, 404}, where
        if model in PERSONAL and role == "parent_b" and method == "get":
            assert response.status_code == 200, where


LISTS = [path for path, method in OPERATIONS if method == "get" and "{" not in path and path.endswith("s/")]


def all_ids(client, url: str) -> set[int]:
    ids, page = set(), url + "?page_size=100"
    while page:
        body = client.get(page).json()
        ids |= {row["id"] for row in body["results"] if "id" in row}
        page = body["next"]
    return ids


@pytest.mark.parametrize("role", ["parent_a", "teacher_x"])
def test_no_list_leaks_family_b_or_teacher_y(world, as_role, role):
    client = as_role(role)
    forbidden = {
        "/api/v1/billing/subscriptions/": set(
            TuitionSubscription.objects.filter(family=world.student_b.family).values_list("id", flat=True)
        ),
        "/api/v1/families/": {world.student_b.family_id},
        "/api/v1/students/": {world.student_b.pk},
        "/api/v1/lessons/": {world.lesson_b.pk},
        "/api/v1/makeup-credits/": {MakeupCredit.objects.get(enrollment__student=world.student_b).pk},
        "/api/v1/teacher-cancellations/": {teacher_y_cancellation(world).pk},
        "/api/v1/makeup-blocks/": {world.block_y.pk},
        "/api/v1/billing/fees/": set(
            FamilyFee.objects.filter(family=world.student_b.family).values_list("id", flat=True)
        ),
    }
    own = {
        "parent_a": {
            "/api/v1/billing/fees/": set(
                FamilyFee.objects.filter(family=world.parent_a.family).values_list("id", flat=True)
            ),
            "/api/v1/students/": {world.student_a.pk},
            "/api/v1/lessons/": {world.lesson_a.pk},
            "/api/v1/makeup-credits/": {MakeupCredit.objects.get(enrollment__student=world.student_a).pk},
        },
        "teacher_x": {
            "/api/v1/students/": {world.student_a.pk},
            "/api/v1/lessons/": {world.lesson_a.pk},
            "/api/v1/makeup-blocks/": {world.block_x.pk},
        },
    }[role]
    checked = 0
    for url in LISTS:
        response = client.get(url + "?page_size=100")
        if response.status_code != 200:
            continue
        ids = all_ids(client, url)
        assert not ids & forbidden.get(url, set()), f"{role} sees another family's records at {url}"
        if url in own:
            assert ids == own[url], f"{role} should see exactly their own at {url}"
            checked += 1
    assert checked == len(own)


def test_filters_cannot_reach_around_the_scope(world, as_role):
    client = as_role("parent_a")
    for url in (
        f"/api/v1/students/?family={world.student_b.family_id}",
        f"/api/v1/lessons/?student={world.student_b.pk}",
        f"/api/v1/lessons/?teacher={world.lesson_b.teacher_id}",
    ):
        assert client.get(url).json()["count"] == 0, url


# What each role may write of each record it reaches. Every other field of the record, and any field the API
# does not have, is refused by name: never ignored behind a 200.
WRITABLE = {
    Student: {
        "admin": {
            "family",
            "first_name",
            "last_name",
            "date_of_birth",
            "instrument",
            "level",
            "teacher",
            "status",
            "notes",
        },
        "parent_b": {"first_name", "last_name", "date_of_birth"},
    },
    Family: {"admin": set(FAMILY_FIELDS), "parent_b": set(FAMILY_FIELDS) - {"notes"}},
    Lesson: {
        "admin": {
            "kind",
            "status",
            "outcome",
            "start_at",
            "end_at",
            "room",
            "term",
            "notes",
            "family_note",
            "payment_status",
        },
        "teacher_y": {"status", "outcome", "notes", "family_note"},
    },
    Teacher: {"admin": {"instruments", "bio", "capacity", "active"}},
    PayRate: {"admin": {"teacher", "kind", "lesson_minutes", "amount_cents", "effective_from"}},
    WeeklyAvailability: {"admin": {"teacher", "weekday", "start_time", "end_time"}},
    Instrument: {"admin": {"name", "active"}},
    AcademicYear: {"admin": {"name", "start_date", "end_date"}},
    Term: {"admin": {"academic_year", "name", "start_date", "end_date"}},
    Closure: {"admin": {"reason", "start_date", "end_date", "teacher", "term"}},
    TuitionPlan: {
        "admin": {"name", "instrument", "lesson_minutes", "interval", "price_cents", "currency", "description"}
        | {"active"}
    },
    FamilyDiscount: {"admin": {"kind", "percent", "note"}},
    PromotionCode: {"admin": {"active", "valid_until", "max_redemptions"}},
}
UNKNOWN = "nickname"  # a field no endpoint has
BODILESS = {("/api/v1/auth/logout/", "post")}
WRITES = [(p, m) for p, m in OPERATIONS if m in {"post", "put", "patch"} and (p, m) not in BODILESS]
REFUSED = {401, 403, 404}


def record_url(url: str) -> str:
    """The record an action acts on (`/lessons/5/cancel/` → `/lessons/5/`): what a refused write must leave as it
    was."""
    return re.sub(r"(/\d+/)[a-z-]+/$", r"\1", url)


def a_side(model: type, world):
    """Family A's record of the same kind: its values are what a forbidden write would try to set."""
    return {Family: world.student_a.family, Student: world.student_a, Lesson: world.lesson_a}.get(model)


def row_counts() -> dict[str, int]:
    counts = {m._meta.label: m.objects.count() for m in apps.get_models()}
    # The admin's reads that check the record is unchanged are audited (issue 18): they are not a change.
    counts["cedarheights.AuditEvent"] = AuditEvent.objects.exclude(action=AuditEvent.Action.VIEW).count()
    return counts


@pytest.mark.parametrize(("path", "method"), WRITES, ids=[f"{m.upper()} {p}" for p, m in WRITES])
def test_a_field_the_caller_may_not_write_is_a_400_naming_it_and_nothing_changes(world, as_role, path, method):
    """Before the fix, DRF dropped read-only and unknown keys: a parent's PATCH of `teacher` answered 200."""
    admin = as_role("admin")
    url, model, current, other = with_names(path), None, None, {}
    if "{id}" in path:
        model = model_behind(path.replace("{id}", "1"), world)
        target = any_shared(model, world) if model in SHARED else b_side(model, world)
        url = path.replace("{id}", str(target.pk))
        current = admin.get(record_url(url)).json()
        if (source := a_side(model, world)) is not None:
            other = admin.get(record_url(path.replace("{id}", str(source.pk)))).json()
    counts = row_counts()

    checked = 0
    for role in ROLES:
        probe = {UNKNOWN: "x"}
        if current is not None and method in {"put", "patch"}:
            may_write = WRITABLE[model].get(role, set())
            probe |= {name: other.get(name, value) for name, value in current.items() if name not in may_write}
        elif current is None:
            probe["id"] = 999_999
        response = getattr(as_role(role), method)(url, probe, format="json")
        where = f"{role} {method.upper()} {url} → {response.status_code}"
        if response.status_code in REFUSED:
            continue  # refused outright: test_every_operation_by_every_role says who may
        assert response.status_code == 400, f"{where}: {response.content[:300]}"
        named = response.json()["fields"]
        assert set(probe) <= set(named), f"{where}: not named {sorted(set(probe) - set(named))}"
        checked += 1
        if current is not None:
            assert admin.get(record_url(url)).json() == current, f"{where} changed the record"
    assert checked, f"no role may {method.upper()} {path}: nothing was checked"
    assert row_counts() == counts


def test_only_the_school_rolls_weekly_lessons_into_a_term_or_previews_it(world, as_role):
    # Given a child's weekly Monday lesson whose weeks no term covers yet, and the term made since
    fall = world.shared["term"]
    weekly_lesson_book(
        student=world.student_a,
        teacher=world.lesson_a.teacher,
        weekday=0,
        start_time=time(17),
        minutes=30,
        starts_on=fall.end_date + timedelta(days=1),
    )
    # six whole weeks: six Mondays, whatever day of the week the fall term ends on
    winter = TermFactory(
        start_date=fall.end_date + timedelta(days=7), end_date=fall.end_date + timedelta(weeks=7, days=-1)
    )
    url = f"/api/v1/terms/{winter.pk}/rollover/"
    lessons = Lesson.objects.count()

    # When parents and teachers ask for the preview or the rollover, then they are refused and nothing is booked
    for role in ("parent_a", "parent_b", "teacher_x", "teacher_y"):
        for query, body in (("?preview=1", {}), ("", {"preview": True}), ("", {})):
            response = as_role(role).post(url + query, body, format="json")
            assert response.status_code == 403, f"{role} POST {url}{query} {body} → {response.status_code}"
    assert Lesson.objects.count() == lessons
    # And the school's admin is answered: the preview writes nothing, the rollover books the weeks
    preview = as_role("admin").post(url + "?preview=1", format="json")
    assert preview.status_code == 200 and preview.json()["lessons"] == 6 and Lesson.objects.count() == lessons
    assert as_role("admin").post(url, {}, format="json").json()["lessons"] == 6
    assert Lesson.objects.count() == lessons + 6


def test_a_parent_setting_their_childs_teacher_is_refused_and_the_rename_with_it(world, as_role):
    response = as_role("parent_b").patch(
        f"/api/v1/students/{world.student_b.pk}/",
        {"first_name": "Renamed", "teacher": world.student_a.teacher_id},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and list(body["fields"]) == ["teacher"] and body["request_id"] is not None
    world.student_b.refresh_from_db()
    assert world.student_b.first_name != "Renamed" and world.student_b.teacher_id != world.student_a.teacher_id


def test_an_unknown_field_inside_a_child_of_an_enrollment_is_named_where_it_is(world, as_role):
    body = {"children": [{"first_name": "Ana", "favourite_colour": "blue"}], "windows": []}

    response = as_role("anonymous").post("/api/v1/enrollments/", body, format="json")

    assert response.status_code == 400
    assert "children-0-favourite_colour" in response.json()["fields"]


# Issue 17 (dashboard): the owner's numbers, the school's admins only; no family and no teacher, not even in part.
SCHOOL_NUMBERS = ["/api/v1/dashboard/"]


@pytest.mark.parametrize("path", SCHOOL_NUMBERS)
def test_only_the_school_reads_its_numbers(world, as_role, path):
    assert (path, "get") in OPERATIONS  # in the schema, so the matrix above covers it too
    for role in ROLES:
        response = as_role(role).get(path)
        expected = {200} if role == "admin" else {401, 403} if role == "anonymous" else {403}
        assert response.status_code in expected, f"{role} GET {path} → {response.status_code}"
