"""A database outage answers 503 with Retry-After on every road (the API, the Stripe webhook, the pages, the
health probe), never a 500 or a stack trace, and the next request after it is served again.

The database is made really unavailable: the app's backend ended with `pg_terminate_backend` from a second
connection, or the app's connection pointed at a closed port so every connect is refused. Made to fail first:
without OutageMiddleware and the signal's receiver, every page case answered 500 (with DEBUG, the technical page
with its traceback); without the API handler's branch, the API answered Django's 500.
"""

import logging
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from billing.models import StripeEvent
from cedarheights.errors import DatabaseUnavailable
from scheduling.models import Instrument
from tests.billing.stripe_events import event, sign
from tests.factories import ParentFactory
from tests.stripe_server import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

RETRY_AFTER = str(DatabaseUnavailable.retry_after)
KEY = {"Idempotency-Key": "outage-1"}
PAGE = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # a browser's


def admin_connection() -> psycopg.Connection:
    """A second connection to the test database, beside the app's."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"], autocommit=True
    )


def terminate_app_connection() -> None:
    """PostgreSQL ends the app's backend, as a restart does: the app's connection object stays, dead."""
    connection.ensure_connection()
    with admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])


@contextmanager
def database_refusing():
    """Every connect is refused (a closed port) until the block ends; the current connection is dropped first."""
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


def assert_unavailable_json(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == RETRY_AFTER
    body = response.json()
    assert body["code"] == "unavailable" and body["retry_after"] == int(RETRY_AFTER), body
    assert body["request_id"] == response["X-Request-ID"]


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503, response.content[:500]
    assert response["Retry-After"] == RETRY_AFTER
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "We could not reach our records" in page
    assert "Traceback" not in page and "OperationalError" not in page and "Server Error" not in page


@pytest.fixture(autouse=True)
def _dead_connection_dropped(transactional_db):
    """A test that fails while the app's connection is dead leaves a fresh one to the tests after it."""
    yield
    connection.close()


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_the_api_answers_503_with_retry_after_and_serves_the_next_request_once_the_database_is_back(client, school):
    # Given the public pricing endpoint, which reads the database
    assert client.get("/api/v1/public/pricing/").status_code == 200
    # When every connect is refused
    with database_refusing():
        response = client.get("/api/v1/public/pricing/")
    # Then the API's error body, with Retry-After; and once it is back, the same request is served
    assert_unavailable_json(response)
    assert client.get("/api/v1/public/pricing/").status_code == 200


def test_an_api_caller_whose_session_cannot_be_read_gets_the_json_body(client, school):
    # Given a signed-in parent (the session is read by the middleware, before any API view runs)
    client.force_login(ParentFactory())
    # When PostgreSQL ends the app's connection
    terminate_app_connection()
    response = client.get("/api/v1/auth/me/")
    # Then the API's body all the same, not a page
    assert_unavailable_json(response)
    connection.close()  # what Django does between requests on a server (close_old_connections)
    assert client.get("/api/v1/auth/me/").status_code == 200


def test_the_stripe_webhook_answers_503_so_stripe_sends_it_again(client, school):
    # Given a correctly signed delivery
    payload = event("customer.created", {"id": "cus_outage", "object": "customer"}, event_id="evt_outage")
    # When it arrives while the database refuses connections
    with database_refusing():
        response = client.post(
            "/billing/stripe/webhook/",
            payload,
            content_type="application/json",
            headers={"Stripe-Signature": sign(payload)},
        )
    # Then 503 (Stripe resends on any non-2xx) and nothing half-stored; Stripe's resend is taken
    assert_unavailable_json(response)
    again = client.post(
        "/billing/stripe/webhook/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": sign(payload)},
    )
    assert again.status_code == 200
    assert StripeEvent.objects.filter(stripe_id="evt_outage").count() == 1


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_a_page_answers_a_short_503_page_without_a_trace(client, school, admin_user, caplog, debug, signed_in):
    # Given the enrollment page (anonymous: the view reads the database) or the admin (signed in: the session
    # middleware reads it first, outside any view)
    path = "/admin/" if signed_in else "/enroll/"
    if signed_in:
        client.force_login(admin_user)
    assert client.get(path, headers=PAGE).status_code == 200
    # When every connect is refused
    with override_settings(DEBUG=debug), caplog.at_level(logging.INFO), database_refusing():
        response = client.get(path, headers=PAGE)
    # Then the short page, with Retry-After, never a 500 or a trace; Django logs one warning, no error
    assert_unavailable_page(response)
    assert "no-store" in response["Cache-Control"]
    assert "style-src 'nonce-" in response["Content-Security-Policy"]
    outage_lines = [r for r in caplog.records if r.name == "cedarheights.outage"]
    assert [r.levelno for r in outage_lines] == [logging.WARNING], caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert client.get(path, headers=PAGE).status_code == 200


def test_ready_answers_503_at_once_and_live_stays_200(client, school):
    # Given a persistent connection PostgreSQL has ended, then a database that refuses connections
    terminate_app_connection()
    dead = client.get("/health/ready")
    with database_refusing():
        started = time.monotonic()
        refused = client.get("/health/ready")
        waited = time.monotonic() - started
        live = client.get("/health/live")
    # Then the probe's own 503 body naming the database, before any connect timeout; liveness unaffected
    for response in (dead, refused):
        assert response.status_code == 503
        assert response.json()["checks"]["database"].startswith("unreachable"), response.json()
    assert waited < connection.settings_dict["OPTIONS"]["connect_timeout"]
    assert live.status_code == 200


def app_backend_waiting(wait_event: str) -> int:
    """The pid of the app's backend once it waits on `wait_event` (a lock, a sleep), from a second connection."""
    with admin_connection() as admin:
        for _ in range(200):
            row = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = %s "
                "AND pid <> pg_backend_pid()",
                [wait_event],
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
    raise AssertionError(f"the app's backend never waited on {wait_event}")


@pytest.mark.parametrize("moment", ["mid-transaction", "at commit"])
def test_a_transaction_whose_connection_dies_answers_503_and_keeps_nothing(client, admin_user, school, moment):
    """Mid-transaction, the rollback fails on the dead connection (Django drops it); at commit, the commit does."""
    client.force_login(admin_user)
    with admin_connection() as admin:
        # Given the create will wait: on a lock we hold, or in a deferred trigger that sleeps at commit
        if moment == "mid-transaction":
            admin.execute("BEGIN")
            admin.execute("LOCK TABLE scheduling_instrument IN EXCLUSIVE MODE")
            wait_event = "relation"
        else:
            admin.execute(
                "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$"
            )
            admin.execute(
                "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON scheduling_instrument "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()"
            )
            wait_event = "PgSleep"
        answers = []

        def send_create():  # on its own thread, so on its own connection
            try:
                answers.append(
                    client.post(
                        "/api/v1/instruments/", {"name": "Theremin"}, content_type="application/json", headers=KEY
                    )
                )
            finally:
                connection.close()

        create = threading.Thread(target=send_create)
        try:
            create.start()
            # When PostgreSQL ends the app's backend while it waits
            admin.execute("SELECT pg_terminate_backend(%s)", [app_backend_waiting(wait_event)])
            create.join(timeout=30)
        finally:
            if moment == "mid-transaction":
                admin.execute("ROLLBACK")
            else:
                admin.execute("DROP TRIGGER slow_commit ON scheduling_instrument")
                admin.execute("DROP FUNCTION slow_commit()")
    # Then 503 with the API's body, and nothing was kept: the same request with the same key is served once
    [response] = answers
    assert_unavailable_json(response)
    connection.close()
    retried = client.post("/api/v1/instruments/", {"name": "Theremin"}, content_type="application/json", headers=KEY)
    assert retried.status_code == 201, retried.json()
    assert Instrument.objects.filter(name="Theremin").count() == 1
