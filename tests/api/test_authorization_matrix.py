"""Every operation of the API × every role, generated from the OpenAPI schema.

A new endpoint is covered without anyone remembering: its model must be classified below as owned
by a family or teacher, or as shared school data, or this test fails asking for it.
"""

import re

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIRequestFactory

from accounts.models import Family
from billing.models import TuitionPlan, TuitionSubscription
from enrollment.models import Student
from scheduling.models import AcademicYear, Closure, Instrument, Lesson, Teacher, Term, WeeklyAvailability

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "parent_a", "parent_b", "teacher_x", "teacher_y", "admin"]
OWNED = {Family, Student, Lesson, TuitionSubscription}  # one family's records (students and lessons: one teacher's)
SHARED = {Teacher, WeeklyAvailability, Instrument, AcademicYear, Term, Closure, TuitionPlan}
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


def b_side(model: type, world):
    """The object of family B / teacher Y that parent A and teacher X must not reach."""
    return {
        Family: world.student_b.family,
        Student: world.student_b,
        Lesson: world.lesson_b,
        TuitionSubscription: TuitionSubscription.objects.get(family=world.student_b.family),
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
    url = path
    if has_id:
        model = model_behind(path.replace("{id}", "1"), world)
        assert model in OWNED | SHARED, f"classify {model.__name__} as OWNED or SHARED in this test"
        target = b_side(model, world) if model in OWNED else any_shared(model, world)
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
        # Teachers have no access to families or their billing at all.
        owner = role in {"parent_b", "admin"} or (role == "teacher_y" and model not in {Family, TuitionSubscription})
        if model in OWNED and owner and method == "get":
            assert response.status_code == 200, where  # the owner does reach it: the test can fail
        if model in SHARED and role != "anonymous" and role != "admin" and method not in SAFE:
            assert response.status_code == 403, where
        if model in SHARED and role != "anonymous" and method == "get":
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
    }
    own = {
        "parent_a": {"/api/v1/students/": {world.student_a.pk}, "/api/v1/lessons/": {world.lesson_a.pk}},
        "teacher_x": {"/api/v1/students/": {world.student_a.pk}, "/api/v1/lessons/": {world.lesson_a.pk}},
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
    assert checked == 2


def test_filters_cannot_reach_around_the_scope(world, as_role):
    client = as_role("parent_a")
    for url in (
        f"/api/v1/students/?family={world.student_b.family_id}",
        f"/api/v1/lessons/?student={world.student_b.pk}",
        f"/api/v1/lessons/?teacher={world.lesson_b.teacher_id}",
    ):
        assert client.get(url).json()["count"] == 0, url
