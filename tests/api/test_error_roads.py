"""Every road an error takes under /api/ answers the one error body (`code`, `message`, `fields`, `request_id`)
with a code from `ERROR_CODES` and the status its row names: DRF's own refusals, a CSRF failure, Django's handlers
(a request refused before any view, no route, a PermissionDenied outside DRF, an error no view caught), and a
domain error, a service out of reach being a 503 with `retry_after` and `Retry-After`, inside DRF or outside it.

Made to fail first: before handler403 and handler500 were set, a PermissionDenied outside DRF and an error no API
view caught answered Django's HTML pages (403 and 500).
"""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient
from rest_framework.views import APIView

from cedarheights import urls as project_urls
from cedarheights.error_body import domain_error_response
from cedarheights.errors import ERROR_CODES, ServiceUnavailable

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
STRIPE_DOWN = "Stripe could not be reached."


class BrokenApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("a bug no handler knows")


class StripeDownApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise ServiceUnavailable(STRIPE_DOWN)


def refused_outside_drf(request):
    raise PermissionDenied


def broken_page(request):
    raise RuntimeError("a bug on a page")


# This module is the URLconf of its tests: the project's routes and handlers, and four views that fail on purpose.
urlpatterns = [
    path("api/v1/test/broken/", BrokenApi.as_view()),
    path("api/v1/test/stripe-down/", StripeDownApi.as_view()),
    path("api/v1/test/refused/", refused_outside_drf),
    path("test/broken/", broken_page),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


def one_body(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)  # a view's answer, or one built outside a request
    assert {"code", "message", "fields", "request_id"} <= set(body) and body["message"]
    assert ERROR_CODES[body["code"]][0] == status, body["code"]
    return body


@pytest.mark.parametrize(
    ("method", "url", "extra", "status", "code"),
    [
        ("get", "/api/v1/nowhere/", {}, 404, "not_found"),
        ("delete", "/api/v1/auth/csrf/", {}, 405, "method_not_allowed"),
        ("get", "/api/v1/auth/me/", {}, 401, "not_authenticated"),
        ("get", "/api/v1/auth/me/", {"HTTP_AUTHORIZATION": "Token not-a-token"}, 401, "authentication_failed"),
        ("get", "/api/v1/public/pricing/", {"HTTP_ACCEPT": "text/html"}, 406, "not_acceptable"),
        ("post", "/api/v1/auth/token/", {"data": "a", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ("post", "/api/v1/auth/token/", {"data": "{", "content_type": "application/json"}, 400, "parse_error"),
        ("post", "/api/v1/auth/token/", {"data": {}, "format": "json"}, 400, "invalid"),
        ("get", "/api/v1/public/pricing/?" + "&".join(["a=1"] * 1001), {}, 400, "bad_request"),
        ("get", "/api/v1/test/refused/", {}, 403, "permission_denied"),
    ],
)
def test_a_refused_request_answers_the_one_body(school, method, url, extra, status, code):
    response = getattr(APIClient(), method)(url, **extra)
    assert one_body(response, status)["code"] == code


def test_a_refused_csrf_check_answers_the_one_body(school):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/auth/login/", {"email": "a@example.com", "password": "x"}, "application/json")
    assert one_body(response, 403)["code"] == "csrf_failed"


def test_an_error_no_api_view_caught_is_the_one_body_and_a_page_keeps_djangos_page(school):
    client = Client(raise_request_exception=False)

    assert one_body(client.get("/api/v1/test/broken/"), 500)["code"] == "server_error"
    page = client.get("/test/broken/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_a_service_out_of_reach_is_a_503_with_retry_after_inside_drf_and_outside_it(school):
    response = APIClient().get("/api/v1/test/stripe-down/")
    body = one_body(response, 503)
    assert body["code"] == "service_unavailable" and body["message"] == STRIPE_DOWN
    assert body["retry_after"] == ServiceUnavailable.retry_after and response["Retry-After"] == str(body["retry_after"])

    outside = domain_error_response(RequestFactory().get("/billing/stripe/webhook/"), ServiceUnavailable(STRIPE_DOWN))
    assert outside.status_code == 503 and outside["Retry-After"] == response["Retry-After"]
    assert {**body, "request_id": ""} == {**one_body(outside, 503), "request_id": ""}
