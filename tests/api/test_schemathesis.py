"""Schemathesis over the whole OpenAPI schema, as the school's admin and as a parent.

No 5xx, every response conforms to the schema (status code, content type, body), and invalid input
(NUL bytes, huge strings, wrong types) gets a documented 4xx.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.services import token_issue

pytestmark = pytest.mark.django_db

# Operations that would sign the rest of the run out; the sign-in tests cover them.
SIGNS_OUT = {
    ("DELETE", "/api/v1/auth/token/"),
    ("DELETE", "/api/v1/auth/tokens/"),
    ("POST", "/api/v1/auth/password/change/"),
}
FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


# The schema the API serves at /api/schema/, generated in-process; requests go to Django's WSGI app.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()
SIGNED_IN: dict[str, str | None] = {"token": None}


@schema.auth(refresh_interval=None)
class SignedInToken:
    """The test's user, as schemathesis's own auth: its checks then also try requests without it."""

    def get(self, case, ctx):
        return SIGNED_IN["token"]

    def set(self, case, token, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: a request must not close the connection holding the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call_as(case, user) -> None:
    if (case.method, case.path) in SIGNS_OUT:
        pytest.skip("would sign the rest of the run out")
    SIGNED_IN["token"] = token_issue(user=user)[1]
    # A request valid in shape can still be refused for what it means (wrong password, an id that does
    # not exist): that 400 is right, so schemathesis's "valid data must be accepted" check is left out.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


@schema.parametrize()
@FUZZ
def test_the_api_honours_its_schema_for_the_admin(case, world, world_credits):
    call_as(case, world.admin)


@schema.parametrize()
@FUZZ
def test_the_api_honours_its_schema_for_a_parent(case, world, world_credits):
    call_as(case, world.parent_a)


# A teacher's own endpoints, as a teacher (the runs above reach them as the school and as a parent).
teaching = schema.include(path_regex=r"^/api/v1/(teach/|makeup-blocks/)")


@teaching.parametrize()
@FUZZ
def test_the_teachers_api_honours_its_schema_for_a_teacher(case, world):
    call_as(case, world.teacher_x)
