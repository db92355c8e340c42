"""The client's address: one rule (TRUSTED_PROXIES) for rate limits, sign-in lockouts and the request log.

The rotating-header tests failed before the rule existed: DRF's NUM_PROXIES was unset, so its throttles keyed on
the raw X-Forwarded-For header and a new value on each request was a new client.
"""

import json
import logging

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from tests.factories import ParentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("each_cache")]

# The limits .env.example and base.py ship with (the test settings lift them for the rest of the suite).
SHIPPED_RATES = {"public": "120/minute", "auth": "30/minute"}


def behind_one_proxy():
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})


@pytest.fixture
def shipped_rates(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", SHIPPED_RATES)


def forged(n: int) -> str:
    return f"203.0.113.{n % 250}, 198.51.100.{n % 250}"


def test_by_default_the_socket_address_is_the_client_and_the_setting_is_drf_s():
    assert settings.TRUSTED_PROXIES == 0
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXIES


def test_a_rotating_forwarded_for_does_not_lift_the_sign_in_limit(shipped_rates):
    api = APIClient()
    statuses = [
        api.post(
            "/api/v1/auth/token/",
            {"email": "someone@example.com", "password": "a-wrong-password"},
            format="json",
            HTTP_X_FORWARDED_FOR=forged(attempt),
        ).status_code
        for attempt in range(31)
    ]
    assert statuses == [400] * 30 + [429]


def test_a_rotating_forwarded_for_does_not_lift_the_public_limit(shipped_rates):
    api = APIClient()
    statuses = [
        api.get("/api/v1/public/pricing/", HTTP_X_FORWARDED_FOR=forged(attempt)).status_code for attempt in range(121)
    ]
    assert statuses == [200] * 120 + [429]


def test_behind_one_proxy_the_address_it_saw_is_the_client(monkeypatch):
    """A client behind our proxy cannot forge what the proxy appends; what comes before is theirs to invent."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"public": "2/minute"})
    api = APIClient()  # every request arrives from the proxy's own socket address
    with behind_one_proxy():
        first = [
            api.get("/api/v1/public/pricing/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 198.51.100.1").status_code
            for n in range(3)
        ]
        second = api.get("/api/v1/public/pricing/", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code
    assert first == [200, 200, 429]
    assert second == 200


def test_behind_one_proxy_sign_in_failures_and_the_request_log_name_the_same_address(caplog):
    parent = ParentFactory()
    with behind_one_proxy(), caplog.at_level(logging.INFO, logger="cedarheights.requests"):
        APIClient().post(
            "/api/v1/auth/token/",
            {"email": parent.email, "password": "a-wrong-password"},
            format="json",
            HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.7",
        )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]
    logged = [json.loads(record.getMessage()) for record in caplog.records if record.name == "cedarheights.requests"]
    assert [line["client"] for line in logged] == ["198.51.100.7"]
