"""A live production server (gunicorn, DEBUG off) whose database connections PostgreSQL keeps ending while
requests run: every answer is a 200 or a 503 with Retry-After, never a 500, and its log holds no traceback.

Made to fail first: without OutageMiddleware and the API handler's branch, requests caught mid-query answered
`Server Error (500)` and the log filled with tracebacks.
"""

import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from django.db import connection

from cedarheights.tasks import worker_heartbeat
from tests.live_servers import database_url, gunicorn_start, production_env
from tests.stripe_server import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

APPLICATION_NAME = "cedarheights-outage-live"  # how the terminator finds the server's connections, and only them
PATHS = {
    "/api/v1/public/pricing/": {},
    "/enroll/": {"Accept": "text/html"},
    "/health/ready": {},
}


@pytest.fixture
def production_server(tmp_path):
    """gunicorn with production settings on a loopback port, on the test's database, its connections named."""
    env = production_env(
        database_url=database_url(connection.settings_dict, application_name=APPLICATION_NAME),
        stripe_url=f"http://127.0.0.1:{free_port()}",
    )
    server = gunicorn_start(env, tmp_path / "gunicorn.log", port=free_port(), workers=2)
    yield server.url, server.log
    server.stop()


def fetch(url: str, headers: dict) -> tuple[int, str | None]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


def test_terminated_connections_mid_burst_answer_503_never_500(school, production_server):
    url, log = production_server
    worker_heartbeat()  # so a healthy /health/ready is a 200
    for path, headers in PATHS.items():
        assert fetch(url + path, headers)[0] == 200, path
    answers: list[tuple[str, int, str | None]] = []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            for path, headers in PATHS.items():
                answers.append((path, *fetch(url + path, headers)))

    clients = [threading.Thread(target=client) for _ in range(4)]
    for thread in clients:
        thread.start()
    # When PostgreSQL ends the server's connections again and again (never the test's own) while requests run
    terminated = 0
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        user=connection.settings_dict["USER"],
        host=connection.settings_dict["HOST"],
        port=connection.settings_dict["PORT"],
        autocommit=True,
    ) as admin:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (terminated > 40 and sum(a[1] == 503 for a in answers) >= 3):
            terminated += admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()",
                [APPLICATION_NAME],
            ).fetchone()[0]
            time.sleep(0.02)
    stop.set()
    for thread in clients:
        thread.join(timeout=60)
    # Then every answer a 200 or a 503; some requests met the outage; no traceback was logged
    statuses = {status for _, status, _ in answers}
    assert statuses <= {200, 503}, sorted((a for a in answers if a[1] not in (200, 503)), key=str)[:5]
    # (the readiness probe's 503 is its own body, naming the database, without Retry-After)
    assert all(retry == "5" for path, status, retry in answers if status == 503 and path != "/health/ready")
    assert terminated and any(status == 503 for _, status, _ in answers), (terminated, len(answers))
    assert "Traceback" not in log.read_text()
    # And once the database is left alone, every path is served again
    for path, headers in PATHS.items():
        assert fetch(url + path, headers)[0] == 200, path
