"""The embedded default holds under its own worker (issue 11, item 1).

SQLite, as `make run` starts it: a real `manage.py qcluster` beside a real web server (scripts/run.py) and the
local Stripe server. Ten families enroll over the public API while the worker sends their emails and mirrors
their Stripe objects. Not one task may fail, and each logged email goes out once.

Made to fail first: without WAL, IMMEDIATE transactions and a busy timeout, the worker's tasks failed with
"database is locked" and were retried; with claim, send and record in one transaction, a retried email was
sent twice.
"""

import json
import re
import sqlite3
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.utils import timezone

from tests.stripe_server import LocalStripe

FAMILIES = 10


def rows(site, sql: str) -> list[tuple]:
    with sqlite3.connect(site.path, timeout=20) as db:
        return db.execute(sql).fetchall()


def enroll(launcher, payload: dict) -> int:
    request = urllib.request.Request(
        f"{launcher.url}/api/v1/enrollments/",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def test_ten_families_enroll_while_the_worker_runs_and_every_email_goes_out_once(sqlite_site, launch):
    sqlite_site.manage("seed_demo")
    sqlite_site.env["ENROLL_API_RATE"] = "1000/minute"  # ten families from one address: not what is tested here
    launcher = launch(sqlite_site)
    launcher.wait_for_output("Ctrl-C stops everything.")
    stripe = LocalStripe(f"http://127.0.0.1:{launcher.stripe_port}")
    [(piano,)] = rows(sqlite_site, "SELECT id FROM scheduling_instrument WHERE name = 'Piano'")
    [(plan,)] = rows(
        sqlite_site,
        "SELECT id FROM enrollment_tuitionplan WHERE active AND stripe_price_id != ''"
        f" AND (instrument_id = {piano} OR instrument_id IS NULL) ORDER BY price_cents LIMIT 1",
    )
    born = (timezone.localdate() - timedelta(days=365 * 9)).isoformat()
    payloads = [
        {
            "parent_first_name": "Parent",
            "parent_last_name": f"Family{n}",
            "email": f"family{n}@example.com",
            "phone": "416-555-0100",
            "children": [
                {"first_name": "Child", "last_name": f"Family{n}", "date_of_birth": born, "instrument": piano}
            ],
            "windows": [{"weekday": day, "start_time": "09:00", "end_time": "21:00"} for day in range(7)],
            "tuition_plan": plan,
            "consent": True,
            "payment_method_id": stripe.card("4242424242424242"),
        }
        for n in range(FAMILIES)
    ]

    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = list(pool.map(lambda payload: enroll(launcher, payload), payloads))

    assert statuses == [202] * FAMILIES  # "check your email": the booking and the emails follow
    deadline = time.monotonic() + 60
    while rows(sqlite_site, "SELECT count(*) FROM django_q_ormq") != [(0,)] or rows(
        sqlite_site, "SELECT count(*) FROM cedarheights_emaillog WHERE status IN ('queued', 'sending')"
    ) != [(0,)]:
        assert time.monotonic() < deadline, launcher.output()
        time.sleep(0.5)
    assert launcher.interrupt() == 0
    output = launcher.output()
    assert "database is locked" not in output
    assert rows(sqlite_site, "SELECT count(*) FROM django_q_task WHERE NOT success") == [(0,)]
    # The demo's unconfirmed welcome email (a worker killed mid-send) is left for the owner to resend, not sent.
    demo = "dedupe_key LIKE 'demo:%'"
    assert rows(sqlite_site, f"SELECT status FROM cedarheights_emaillog WHERE {demo}") == [("unconfirmed",)]
    emails = rows(
        sqlite_site,
        f"SELECT status, count(*) FROM cedarheights_emaillog WHERE dedupe_key IS NULL OR NOT {demo} GROUP BY status",
    )
    assert emails == [("sent", emails[0][1])] and emails[0][1] >= FAMILIES
    # The demo's lost billing hand-off, started by the sweeper as the demo was seeded, was billed by the worker.
    restarted = (
        "SELECT status, stripe_subscription_id FROM billing_tuitionsubscription WHERE billing_restarted_at IS NOT NULL"
    )
    [(status, stripe_id)] = rows(sqlite_site, restarted)
    assert status == "trialing" and stripe_id.startswith("sub_")
    # The console backend prints each email once, with one Message-ID header.
    assert len(re.findall(r"^Message-ID: <", output, flags=re.MULTILINE)) == emails[0][1]
    # Their links lead to this server, on whatever port it was started (SITE_URL defaulted to port 8000).
    assert f"{launcher.url}/billing/" in output
