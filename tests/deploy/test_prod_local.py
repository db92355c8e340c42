"""`make prod-local` (scripts/prod_local.py) run for real: production settings, gunicorn with gunicorn.conf.py and a
django-q2 worker on PostgreSQL (a scratch database) and Redis (DB 3), stopped by one SIGTERM.

Made to fail first: with the supervisor's SIGTERM handler removed (scripts/supervisor.py), the script died of the
signal at once (status -15) instead of stopping gunicorn and the worker first.
"""

import http.client
import os
import signal
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
import redis
from django.db import connection, connections

from tests.live_servers import ProcessGroup, production_env
from tests.reliability.sqlite_site import processes_naming
from tests.stripe_server import ROOT, free_port

REDIS_URL = "redis://127.0.0.1:6379/3"  # this test's own Redis database, emptied afterwards


def prod_local(env: dict, *, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/prod_local.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_without_database_or_redis_it_says_what_is_missing_and_exits_2():
    env = {**os.environ, "DATABASE_URL": "", "REDIS_URL": ""}  # empty, so a developer's .env cannot fill them in

    result = prod_local(env)

    assert result.returncode == 2
    assert "needs DATABASE_URL" in result.stderr and "needs REDIS_URL" in result.stderr
    assert "migrate" not in result.stdout  # nothing was run


@pytest.fixture
def scratch_database(transactional_db, django_db_blocker):
    """A copy of the migrated test database (so `migrate` has nothing left to do), dropped afterwards. The test
    database is a template only while no session uses it: `transactional_db` holds no transaction open."""
    name = f"cedarheights_prodlocal_{uuid.uuid4().hex[:12]}"
    settings = connection.settings_dict
    server = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}"
    with django_db_blocker.unblock():
        connections.close_all()  # a template database must have no other session
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{settings["NAME"]}"')
    try:
        yield f"{server}/{name}"
    finally:
        for pid in processes_naming(name):  # a test that failed midway leaves nothing running
            os.kill(pid, signal.SIGKILL)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis.Redis.from_url(REDIS_URL).flushdb()


def fetch(port: int, path: str, headers: dict) -> http.client.HTTPResponse:
    """One request, its redirects not followed."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    client.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    response = client.getresponse()
    response.read()
    client.close()
    return response


@pytest.mark.postgres
def test_prod_local_serves_with_production_settings_until_one_sigterm_stops_every_process(
    scratch_database, local_stripe_server, tmp_path
):
    port = free_port()
    env = production_env(
        database_url=scratch_database,
        stripe_url=local_stripe_server.url,
        REDIS_URL=REDIS_URL,
        DJANGO_SECURE_SSL_REDIRECT="true",  # as in production: plain http is redirected
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        Q_WORKERS="1",
    )
    run = ProcessGroup([sys.executable, "scripts/prod_local.py"], env, tmp_path / "prod_local.log")
    try:
        # Given it is up, its worker's heartbeat seen (the worker beats as soon as it starts)
        healthcheck = [sys.executable, "scripts/healthcheck.py", "/health/ready"]
        deadline = time.monotonic() + 600  # migrate, billing_sync_catalog and collectstatic come first
        while subprocess.run(healthcheck, cwd=ROOT, env=env).returncode != 0:
            assert run.process.poll() is None and time.monotonic() < deadline, run.output()
            time.sleep(0.5)
        assert f"listens on http://127.0.0.1:{port}/" in run.output()
        assert "manage.py migrate" in run.output() and "manage.py billing_sync_catalog" in run.output()

        # Then a page through the HTTPS proxy carries production's headers and secure cookies
        page = fetch(port, "/accounts/login/", {"X-Forwarded-Proto": "https"})
        assert page.status == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        csrf_cookie = next(c for c in page.headers.get_all("Set-Cookie") if c.startswith("csrftoken="))
        assert "Secure" in csrf_cookie and "SameSite=Lax" in csrf_cookie
        # and plain http is sent to https
        plain = fetch(port, "/accounts/login/", {})
        assert plain.status == 301 and plain.headers["Location"] == "https://127.0.0.1/accounts/login/"
        assert processes_naming(scratch_database) != []

        # When one SIGTERM reaches the script (as a service manager sends it)
        os.kill(run.process.pid, signal.SIGTERM)
        status = run.process.wait(timeout=90)

        # Then it stopped gunicorn, its workers and the worker's cluster, and says so
        assert status == 0, run.output()
        assert "Stopped." in run.output() and "Traceback" not in run.output()
        assert processes_naming(scratch_database) == []
    finally:
        run.stop()
