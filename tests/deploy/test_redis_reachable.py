"""Redis out of reach (REDIS_URL on a closed loopback port): `/health/ready` names it, and a request that needed it
answers the outage's 503 with Retry-After (the API's body, or the short page), never a 500.

Made to fail first: before the Redis check and the Redis errors in `cedarheights.outage`, `/health/ready`
answered 200 with Redis down, and the pricing API and the enrollment page answered 500 (ConnectionInterrupted).
"""

import logging

import pytest
from django.test import Client

from cedarheights.tasks import worker_heartbeat
from tests.reliability.test_database_outage_faults import assert_unavailable_json, assert_unavailable_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_ready_checks_redis_when_it_is_configured_and_it_answers(client, redis_cache):
    worker_heartbeat()
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["redis"] == "ok"


def test_ready_leaves_redis_out_without_redis_url(client):
    worker_heartbeat()
    assert "redis" not in client.get("/health/ready").json()["checks"]


def test_ready_names_redis_out_of_reach_with_the_reason(client, unreachable_redis):
    worker_heartbeat()
    response = client.get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"].startswith("unreachable: ") and "Connection" in checks["redis"], checks
    assert checks["database"] == "ok"


def test_ready_names_the_broker_out_of_reach_while_the_cache_answers(client, redis_cache, settings):
    worker_heartbeat()
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://127.0.0.1:1/0"}  # port 1: nothing listens
    checks = client.get("/health/ready").json()["checks"]
    assert checks["redis"].startswith("unreachable: "), checks


def test_the_api_answers_the_outage_body_when_redis_is_out_of_reach(client, school, unreachable_redis, caplog):
    # The public API's rate limit reads and writes the cache before the view runs
    with caplog.at_level(logging.WARNING):
        response = client.get("/api/v1/public/pricing/")
    assert_unavailable_json(response)
    assert [r.getMessage().split(":")[0] for r in caplog.records if r.levelno >= logging.WARNING] == [
        "Redis unavailable, answered 503"
    ]


def test_a_page_answers_the_short_outage_page_when_redis_is_out_of_reach(client, school, unreachable_redis):
    # Every page reads the school's settings (its time zone) from the cache first
    response = client.get("/enroll/", headers={"Accept": "text/html"})
    assert_unavailable_page(response)
