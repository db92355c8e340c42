"""Inputs a probe sent that reached a 500 (or an HTML page) before: each is now the API's JSON error body.

Each test failed before its fix: nested JSON raised RecursionError in the parser; a huge integer in a filter raised
OverflowError on SQLite (and was an empty 200 on PostgreSQL); a 10 MB body answered Django's HTML 400 page; the
pricing list sent `instrument: null` where its schema promised a string. They run on SQLite and PostgreSQL alike.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework.views import APIView

from cedarheights.parsers import MAX_DEPTH, JSONParser
from tests.factories import TuitionPlanFactory

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"
NESTED = {
    "[ x1000": "[" * 1000,
    '{"a": x1000': '{"a":' * 1000,
    f"{MAX_DEPTH + 1} levels, which the decoder survives": "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
}
JSON_ENDPOINTS = [
    ("anonymous", "post", "/api/v1/enrollments/"),
    ("anonymous", "post", "/api/v1/auth/token/"),
    ("admin", "post", "/api/v1/families/"),
    ("admin", "patch", "/api/v1/students/{student}/"),
    ("parent_a", "post", "/api/v1/lessons/{lesson}/cancel/"),
]


def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def api_views(patterns=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None)
            if isinstance(view, type) and issubclass(view, APIView):
                yield view


@pytest.mark.parametrize("body", NESTED.values(), ids=NESTED.keys())
@pytest.mark.parametrize(("role", "method", "path"), JSON_ENDPOINTS)
def test_deeply_nested_json_is_a_parse_error(world, as_role, role, method, path, body):
    url = path.format(student=world.student_a.pk, lesson=world.lesson_a.pk)
    response = getattr(as_role(role), method)(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert f"nests deeper than {MAX_DEPTH} levels" in response.json()["message"]


def test_every_api_view_parses_json_with_the_depth_limit():
    views = list(api_views())
    assert len(views) > 15
    assert all(issubclass(parser, JSONParser) for view in views for parser in view.parser_classes)


def test_json_as_deep_as_the_limit_still_parses(as_role, world):
    body = '{"name": "Deep family", "street": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    response = as_role("admin").post("/api/v1/families/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["fields"]["street"] == ["Not a valid string."]  # read, then refused for its type


def integer_query_parameters() -> list[tuple[str, str]]:
    found = []
    for path, operations in schema()["paths"].items():
        get = operations.get("get", {})
        for parameter in get.get("parameters", []):
            numeric = parameter["schema"].get("type") in {"integer", "number", "array"}
            if parameter["in"] == "query" and numeric and parameter["name"] not in {"page", "page_size"}:
                found.append((path, parameter["name"]))
    return found


def test_every_integer_filter_refuses_a_number_no_column_holds(world, world_credits, as_role):
    parameters = integer_query_parameters()
    assert ("/api/v1/lessons/", "teacher") in parameters and ("/api/v1/teachers/", "instruments") in parameters
    assert ("/api/v1/makeup-credits/{id}/offers/", "teacher") in parameters
    records = {"lessons": world.lesson_a.pk, "makeup-credits": world_credits["a"].pk}  # a record's own queries
    admin = as_role("admin")
    for path, name in parameters:
        url = path.replace("{id}", str(records.get(path.split("/")[3], "")))
        for value in (HUGE, f"-{HUGE}"):
            response = admin.get(url, {name: value})
            assert response.status_code == 400, (path, name, response.content[:200])
            assert name in response.json()["fields"], (path, name)


def test_the_largest_id_a_column_holds_is_an_ordinary_miss(world, as_role):
    response = as_role("admin").get("/api/v1/lessons/", {"teacher": str(2**63 - 1)})
    assert response.status_code == 200 and response.json()["count"] == 0


def test_every_path_id_beyond_any_column_is_not_found(world, as_role):
    paths = [path for path in schema()["paths"] if path.endswith("/{id}/")]
    assert "/api/v1/students/{id}/" in paths
    admin = as_role("admin")
    for path in paths:
        response = admin.get(path.replace("{id}", "99999999999999999999"))
        assert response.status_code in {400, 404}, (path, response.content[:200])
        assert response.json()["code"] in {"not_found", "invalid"}


@pytest.mark.parametrize(("role", "path"), [("anonymous", "/api/v1/enrollments/"), ("admin", "/api/v1/families/")])
def test_an_oversized_body_answers_the_json_error_body(world, as_role, role, path):
    body = b'{"name": "' + b"x" * 10_000_000 + b'"}'
    response = as_role(role).post(path, body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "too_large" and response.json()["request_id"]


def test_a_plan_for_every_instrument_matches_the_pricing_schema(school):
    TuitionPlanFactory(instrument=None, stripe_price_id="price_any_instrument")
    plans = APIClient().get("/api/v1/public/pricing/").json()["results"]
    assert [plan["instrument"] for plan in plans] == [None]
    documented = schema()["components"]["schemas"]["PublicPlan"]["properties"]["instrument"]
    assert documented["type"] == "string" and documented["nullable"] is True
