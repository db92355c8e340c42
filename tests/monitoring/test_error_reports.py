"""Error reports to Sentry carry no one's data (issue 19, part 4).

Over real HTTP: a local server stands in for Sentry's ingest endpoint; a view fails while a child's name, email
and birth date are in the request (body, query string, cookie, header) and in its local variables; the envelope
the SDK sends holds the error's type and the path, and none of the child's data.

Made to fail first: with `before_send` returning the event as it came, the envelope held the child's name in the
exception's message and the breadcrumb, and the email in the query string.
"""

import gzip
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.test import override_settings

from cedarheights.error_reports import breadcrumb_scrub, error_report_scrub, sentry_init

CHILD_NAME = "Zephyrine Quillfeather"
CHILD_EMAIL = "zephyrine.q@example.com"
CHILD_BORN = "2016-04-23"
CHILD_DATA = (CHILD_NAME, "Zephyrine", "Quillfeather", CHILD_EMAIL, CHILD_BORN)


class SentryIngest(BaseHTTPRequestHandler):
    """Sentry's envelope endpoint: keeps each envelope's body, decompressed."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_ingest():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SentryIngest)
    server.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sentry_init(dsn=f"http://key@127.0.0.1:{server.server_port}/1", environment="test", release="test-release")
    try:
        yield server
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: reports off again for the rest of the suite
        server.shutdown()
        server.server_close()


def events_in(envelopes: list[bytes]) -> list[dict]:
    """The event items of Sentry envelopes (newline-separated JSON: envelope header, then item header and item)."""
    events = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, item in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(item))
    return events


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF="tests.monitoring.sentry_view")
def test_a_view_error_reaches_sentry_with_its_type_and_path_and_none_of_the_childs_data(sentry_ingest, live_server):
    request = urllib.request.Request(
        f"{live_server.url}/enroll/failing/?email={CHILD_EMAIL}",
        data=urllib.parse.urlencode({"child_name": CHILD_NAME}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"child={urllib.parse.quote(CHILD_NAME)}",
            "X-Child-Born": CHILD_BORN,
            "Referer": f"{live_server.url}/enroll/?email={CHILD_EMAIL}",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=30)
    sentry_sdk.flush(timeout=10)

    assert failed.value.code == 500
    [event] = events_in(sentry_ingest.envelopes)
    [exception] = event["exception"]["values"]
    assert exception["type"] == "ValueError"
    assert any(frame["function"] == "failing_enrollment" for frame in exception["stacktrace"]["frames"])
    assert event["request"]["method"] == "POST" and event["request"]["url"].endswith("/enroll/failing/")
    sent = b"\n".join(sentry_ingest.envelopes).decode().lower()
    for data in (*CHILD_DATA, urllib.parse.quote(CHILD_NAME), urllib.parse.quote(CHILD_EMAIL)):
        assert data.lower() not in sent, data


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF="tests.monitoring.sentry_view")
def test_a_secret_in_the_path_stays_home_and_the_route_is_reported(sentry_ingest, live_server):
    """Made to fail first: the report's URL was the path itself, a calendar link's secret token in it."""
    token = "k3xQ9secretCalendarToken"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{live_server.url}/cal/{token}.ics", timeout=30)
    sentry_sdk.flush(timeout=10)

    [event] = events_in(sentry_ingest.envelopes)
    assert event["request"]["url"].endswith("/cal/{token}.ics"), event["request"]
    assert token not in b"\n".join(sentry_ingest.envelopes).decode()


FULL_EVENT = {
    "transaction": "/enroll/",
    "message": f"About {CHILD_NAME}",
    "logentry": {"message": f"placing {CHILD_NAME}", "params": [CHILD_EMAIL], "formatted": f"placing {CHILD_NAME}"},
    "extra": {"child": CHILD_NAME},
    "user": {"id": 42, "email": CHILD_EMAIL, "username": CHILD_NAME, "ip_address": "198.51.100.4"},
    "request": {
        "method": "POST",
        "url": f"http://school.example/enroll/?email={CHILD_EMAIL}",
        "query_string": f"email={CHILD_EMAIL}",
        "data": {"child_name": CHILD_NAME},
        "cookies": {"sessionid": "abc"},
        "headers": {"Content-Type": "text/html", "Cookie": "sessionid=abc", "X-Child": CHILD_NAME, "Host": "h"},
        "env": {"REMOTE_ADDR": "198.51.100.4"},
    },
    "exception": {
        "values": [
            {
                "type": "ValueError",
                "value": f"No slot for {CHILD_NAME}",
                "stacktrace": {
                    "frames": [
                        {
                            "function": "failing_enrollment",
                            "lineno": 12,
                            "context_line": "    raise ValueError(...)",
                            "vars": {"child_name": CHILD_NAME, "child_born": CHILD_BORN},
                        }
                    ]
                },
            }
        ]
    },
    "threads": {"values": [{"stacktrace": {"frames": [{"function": "run", "vars": {"who": CHILD_NAME}}]}}]},
    "breadcrumbs": {
        "values": [
            {"category": "query", "message": "SELECT … WHERE email = %s", "data": {"params": [CHILD_EMAIL]}},
            {"category": "cedarheights.tests", "level": "warning", "message": f"placing {CHILD_NAME}"},
        ]
    },
}


def test_the_scrubber_keeps_type_place_path_method_and_user_id_and_drops_everything_else():
    scrubbed = error_report_scrub(json.loads(json.dumps(FULL_EVENT)), {})

    for data in CHILD_DATA:
        assert data not in json.dumps(scrubbed), data
    assert "198.51.100.4" not in json.dumps(scrubbed)
    assert scrubbed["exception"]["values"][0]["type"] == "ValueError"
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"] == [
        {"function": "failing_enrollment", "lineno": 12, "context_line": "    raise ValueError(...)"}
    ]
    assert scrubbed["request"] == {
        "method": "POST",
        "url": "http://school.example/enroll/",
        "headers": {"Content-Type": "text/html", "Host": "h"},
    }
    assert scrubbed["user"] == {"id": 42}
    assert scrubbed["breadcrumbs"]["values"] == [
        {"category": "query"},
        {"category": "cedarheights.tests", "level": "warning"},
    ]


def test_a_breadcrumb_keeps_its_kind_and_time_only():
    crumb = {"type": "http", "category": "httplib", "timestamp": 1.0, "data": {"url": "/?email=x"}, "message": "m"}
    assert breadcrumb_scrub(crumb, {}) == {"type": "http", "category": "httplib", "timestamp": 1.0}
