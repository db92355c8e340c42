import json
import logging
import time
from datetime import timedelta

import pytest
from django.test.utils import override_settings
from django.utils import timezone
from django_q.signals import post_spawn

from cedarheights.models import WorkerHeartbeat
from cedarheights.services import worker_heartbeat_record
from cedarheights.tasks import worker_heartbeat


def test_live_answers_without_touching_the_database(client):
    # No django_db mark: any query here would fail the test.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_is_ok_when_every_part_is(client):
    worker_heartbeat()  # what the scheduled task does every minute
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "worker": "ok", "email": "ok"},
    }


@pytest.mark.django_db
def test_ready_names_a_worker_that_was_never_seen_or_went_quiet(client):
    body = client.get("/health/ready")
    assert body.status_code == 503
    assert body.json()["checks"]["worker"].startswith("never seen")

    worker_heartbeat_record()
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=4))
    body = client.get("/health/ready")
    assert body.status_code == 503
    assert body.json()["status"] == "fail" and body.json()["checks"]["worker"].startswith("last seen 24")


@pytest.mark.django_db
@override_settings(EMAIL_BACKEND="anymail.backends.postmark.EmailBackend", ANYMAIL={})
def test_ready_names_an_email_backend_without_its_credentials(client):
    worker_heartbeat()
    body = client.get("/health/ready")
    assert body.status_code == 503
    assert body.json()["checks"]["email"].startswith("backend not configured")
    assert body.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_each_request_logs_one_json_line_and_echoes_its_request_id(client, admin_user, caplog):
    client.force_login(admin_user)
    with caplog.at_level(logging.INFO, logger="cedarheights.requests"):
        started = time.perf_counter()
        response = client.get("/admin/", headers={"X-Request-ID": "lb-7f3a.1"})
        wall_ms = (time.perf_counter() - started) * 1000
    assert response["X-Request-ID"] == "lb-7f3a.1"
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "cedarheights.requests"]
    assert line["request_id"] == "lb-7f3a.1"
    assert (line["method"], line["path"], line["status"], line["user_id"]) == ("GET", "/admin/", 200, admin_user.pk)
    assert 0 < line["duration_ms"] <= wall_ms  # the request's own time, in milliseconds


@pytest.mark.parametrize("incoming", ["", "x" * 65, 'bad"id\ninjected', "ümlaut"])
def test_an_unusable_request_id_is_replaced_by_a_fresh_one(client, incoming):
    response = client.get("/health/live", headers={"X-Request-ID": incoming} if incoming else {})
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_a_not_ready_answer_logs_one_line_not_an_error(client, caplog):
    """Made to fail first: Django's request logger added "Service Unavailable: /health/ready" to each poll."""
    with caplog.at_level(logging.INFO):
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert [record.name for record in caplog.records] == ["cedarheights.requests"]


@pytest.mark.django_db
def test_a_worker_process_that_starts_is_seen_at_once(client, settings):
    """django-q2's scheduler runs first half a minute after the cluster starts; a spawned worker beats now."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    assert client.get("/health/ready").status_code == 503

    post_spawn.send(sender="django_q", proc_name="Process-1")  # what each new worker process sends

    assert client.get("/health/ready").json()["checks"]["worker"] == "ok"
