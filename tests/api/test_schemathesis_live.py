"""Schemathesis against a live server as an attacker meets it: production settings under gunicorn, signed in as
a parent (issue 12). No 5xx, every answer as the schema documents it, bad input a documented 4xx.

The in-process run (test_schemathesis.py) calls Django's WSGI app with the test settings; this one goes over
HTTP to gunicorn with DEBUG off, the production middleware, throttles, CSP and error pages.
"""

import json
import subprocess
import sys

import pytest
from django.db import connection

from accounts.services import token_issue
from tests.live_servers import database_url, gunicorn_start, production_env
from tests.stripe_server import ROOT, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

# Operations that would sign the rest of the run out; the sign-in tests cover them.
SIGNS_OUT = r"^/api/v1/auth/(token|tokens|logout|password/change)/$"
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "5xx"]


@pytest.fixture
def production_server(local_stripe, tmp_path):
    """gunicorn with production settings on a loopback port, on the test's own database."""
    env = production_env(database_url=database_url(connection.settings_dict), stripe_url=local_stripe.url)
    server = gunicorn_start(env, tmp_path / "gunicorn.log", port=free_port(), workers=2)
    yield server.url, server.log
    server.stop()


def test_a_parent_meets_no_5xx_and_no_schema_violation_on_a_live_production_server(
    local_stripe, world, production_server, tmp_path
):
    url, server_log = production_server
    _, key = token_issue(user=world.parent_a)
    report_file = tmp_path / "schemathesis.txt"
    config = tmp_path / "schemathesis.toml"
    # gunicorn refuses a request line over its limit with 414 before the app sees it: for schemathesis' own list of
    # "rejected" statuses that is an acceptance, so it is added to the list.
    config.write_text(f"[checks.negative_data_rejection]\nexpected-statuses = {json.dumps(REJECTED)}\n")
    with report_file.open("w") as report_out:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(config),
                "run",
                f"{url}/api/schema/",
                "--header",
                f"Authorization: Token {key}",
                "--checks",
                "all",
                # A request valid in shape can still be refused for what it means (a wrong password, an id that
                # does not exist): that 4xx is right.
                "--exclude-checks",
                "positive_data_acceptance",
                "--exclude-path-regex",
                SIGNS_OUT,
                # Each operation's documented examples, then generated requests; the in-process run walks the rest.
                "--phases",
                "examples,fuzzing",
                "--max-examples",
                "10",
                "--seed",
                "12",
                "--workers",
                "2",
                "--max-time",
                "180",
            ],
            cwd=ROOT,
            stdout=report_out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    report = report_file.read_text()
    assert run.returncode == 0, report
    assert "No issues found" in report or "passed" in report, report
    # The server's side of it: every request logged, none answered 5xx, no traceback.
    logged = server_log.read_text()
    assert logged.count('"path": "/api/') > 100
    assert '"status": 5' not in logged and "Traceback" not in logged, logged
