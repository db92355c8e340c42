"""`/metrics` of a production gunicorn with two workers (issue 19, part 4): whichever worker answers the scrape, it
counts every worker's requests (PROMETHEUS_MULTIPROC_DIR); from an address not on the list only the token opens it.

Made to fail first: without the MultiProcessCollector, each scrape showed only the answering worker's requests,
fewer than were sent.
"""

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from tests.live_servers import database_url, gunicorn_start, production_env
from tests.stripe_server import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

TOKEN = "live-metrics-token-" + "0123456789abcdef" * 2
REQUESTS = 24
LATENCY = "django_http_requests_latency_seconds_by_view_method_count"
VIEW = {"view": "health-ready", "method": "GET"}  # not /health/live, which gunicorn_start polls while it starts


@pytest.fixture
def two_worker_server(tmp_path):
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    env = production_env(
        database_url=database_url(connection.settings_dict),
        stripe_url=f"http://127.0.0.1:{free_port()}",
        PROMETHEUS_MULTIPROC_DIR=str(multiproc_dir),
        METRICS_ALLOWED_ADDRESSES="192.0.2.0/24",  # not loopback: the test reaches it with the token only
        METRICS_TOKEN=TOKEN,
    )
    server = gunicorn_start(env, tmp_path / "gunicorn.log", port=free_port(), workers=2)
    try:
        yield server
    finally:
        server.stop()


def get(url: str, **headers) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def requests_counted(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == LATENCY and sample.labels == VIEW
    )


def test_every_scrape_counts_every_workers_requests_and_only_the_token_opens_it(two_worker_server):
    url = two_worker_server.url
    with ThreadPoolExecutor(max_workers=8) as clients:  # at once, so both workers take some
        statuses = list(clients.map(lambda _: get(f"{url}/health/ready")[0], range(REQUESTS)))
    assert set(statuses) <= {200, 503}  # 503 until a worker has beaten: still a request of that view

    assert get(f"{url}/metrics")[0] == 404
    assert get(f"{url}/metrics", Authorization="Bearer not-the-token")[0] == 404
    for _ in range(6):  # several scrapes: each worker answers some of them
        status, text = get(f"{url}/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200
        assert requests_counted(text) == REQUESTS
        assert "cedarheights_tasks_waiting" in text
