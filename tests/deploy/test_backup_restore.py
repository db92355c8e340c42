"""`manage.py backup` and `manage.py restore_drill` for real: pg_dump and pg_restore on this machine's PostgreSQL,
a scratch database per drill (dropped whatever the test's outcome), payments written by threads during the dump."""

import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import Family
from billing.models import BillingProfile, Payment
from billing.services.ledger import payment_record_failed, payment_record_succeeded
from billing.webhooks import stripe_event_receive
from cedarheights.backups import SCRATCH_PREFIX, backup_create, scratch_drop
from tests.billing.stripe_events import event, sign
from tests.factories import FamilyFactory, LedgerEntryFactory, PaymentFactory
from tests.live_servers import database_url
from tests.stripe_server import ROOT, free_port

WRITERS = 3
DRILL_CHECKS = ("dump file", "migrations", "row counts", "family balances", "latest Stripe event", "billing_reconcile")


def drill_databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [SCRATCH_PREFIX])
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def scratch_databases(transactional_db):
    """Drops every drill database a test leaves (kept to look at, or left by a drill stopped half-way)."""
    before = drill_databases()
    yield before
    for name in drill_databases() - before:
        scratch_drop(name=name)


@pytest.fixture
def backup_dir(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    return tmp_path


def manage_py(*args: str, backup_dir, **env: str) -> subprocess.CompletedProcess:
    """A command in its own process, as an operator runs it (the drill reads a scratch database: no test guards)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "BACKUP_DIR": str(backup_dir),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )


def restored_payment_ids(database: str) -> set[int]:
    params = connection.settings_dict
    with psycopg.connect(
        dbname=database, host=params["HOST"], port=params["PORT"], user=params["USER"], password=params["PASSWORD"]
    ) as scratch:
        return {pk for (pk,) in scratch.execute("SELECT id FROM billing_payment")}


def pay_until(stop: threading.Event, family: Family, committed: list[int], paying: threading.Semaphore) -> None:
    """One family's card payments on this thread's connection, each committed with its ledger lines: every other
    one declined, so its charge stays owed and the family's balance moves."""
    try:
        n = 0
        while not stop.is_set():
            with transaction.atomic():
                payment = PaymentFactory(family=family, amount_cents=1_000 + n, description="Paid during the backup")
                if n % 2:
                    payment_record_failed(payment=payment, reason="Your card was declined.")
                else:
                    payment_record_succeeded(payment=payment)
            committed.append(payment.pk)
            paying.release()
            n += 1
    finally:
        connection.close()


@pytest.mark.postgres
def test_backup_taken_while_payments_are_written_restores_everything_committed_before_it(
    backup_dir, scratch_databases, local_stripe
):
    """The demo school, and payments committed by three threads from before the dump starts until after it ends.
    Made to fail: with the manifest's figures read after the snapshot's transaction (in one of their own), the
    payments committed during the dump were in the manifest and not in the dump: the drill named the counts of
    billing_payment, billing_ledgerentry, billing_receipt and the writers' three families' balances."""
    call_command("seed_demo", stdout=StringIO())
    families = list(Family.objects.order_by("pk")[:WRITERS])
    stop, paying, committed = threading.Event(), threading.Semaphore(0), [[] for _ in families]

    with ThreadPoolExecutor(WRITERS) as pool:
        writers = [pool.submit(pay_until, stop, f, ids, paying) for f, ids in zip(families, committed, strict=True)]
        try:
            for _ in range(2 * WRITERS):  # the burst is under way before the backup starts
                assert paying.acquire(timeout=120), "a writer stopped before paying"
            committed_before = {pk for ids in committed for pk in list(ids)}
            backup = backup_create(directory=backup_dir)
        finally:
            stop.set()
        for writer in writers:
            writer.result()

    manifest = backup.manifest
    assert Payment.objects.count() > manifest["table_row_counts"]["billing_payment"]  # some came after the dump
    drill = manage_py("restore_drill", "--keep", backup_dir=backup_dir, STRIPE_API_HOST=local_stripe.url)

    assert drill.returncode == 0, drill.stdout + drill.stderr
    report = drill.stdout
    assert f"dump: {backup.dump}" in report
    for check in DRILL_CHECKS:
        assert re.search(rf"^{check}( \(.*\))?: ok$", report, re.MULTILINE), f"{check} not ok:\n{report}"
    (database,) = re.findall(rf"^scratch database: ({SCRATCH_PREFIX}\w+) \(kept\)$", report, re.MULTILINE)
    restored = restored_payment_ids(database)
    assert committed_before <= restored
    assert len(restored) == manifest["table_row_counts"]["billing_payment"]
    assert len(manifest["family_balances_cents"]) == Family.objects.count()


@pytest.mark.postgres
def test_a_manifest_that_disagrees_with_its_dump_fails_the_drill_naming_each_difference(backup_dir, scratch_databases):
    """Made to fail: with the row counts left out of the comparison, the drill said nothing of the payment the
    manifest counts and its dump does not hold (it failed on the family's balance alone)."""
    owing, paid = FamilyFactory(), FamilyFactory()
    LedgerEntryFactory(family=owing, amount_cents=14_000)
    with transaction.atomic():
        payment_record_succeeded(payment=PaymentFactory(family=paid, amount_cents=9_000))
    payload = event("balance.available", {"object": "balance"}, event_id="evt_before_the_backup")
    stripe_event_receive(payload=payload, signature=sign(payload))
    call_command("backup", stdout=StringIO())
    (manifest_path,) = backup_dir.glob("*.manifest.json")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["family_balances_cents"] == {str(owing.pk): 14_000, str(paid.pk): 0}
    assert manifest["latest_stripe_event_id"] == "evt_before_the_backup"
    manifest["table_row_counts"]["billing_payment"] += 1
    manifest["family_balances_cents"][str(owing.pk)] = 13_500
    manifest["latest_stripe_event_id"] = "evt_an_older_one"
    manifest_path.write_text(json.dumps(manifest))

    drill = manage_py("restore_drill", backup_dir=backup_dir)

    assert drill.returncode == 1
    failed = r"Restore drill failed on: row counts \(\d+ tables\); family balances \(2 families, cents\); latest Stripe"
    assert re.search(failed, drill.stderr)
    report = drill.stdout
    assert "table billing_payment: 2 in the manifest, 1 in the restore" in report
    assert f"family {owing.pk}: 13500 in the manifest, 14000 in the restore" in report
    assert "evt_an_older_one in the manifest, evt_before_the_backup in the restore" in report
    assert "dump file: ok" in report and "billing_reconcile: ok" in report
    assert drill_databases() == scratch_databases  # dropped, the drill having failed


@pytest.mark.postgres
def test_a_restore_that_billing_reconcile_cannot_check_fails_the_drill(backup_dir, scratch_databases):
    """Stripe out of reach: the restore's billing cannot be checked, and the drill says so. Made to fail: with
    billing_reconcile's exit status ignored, the drill passed."""
    BillingProfile.objects.create(family=FamilyFactory(), stripe_customer_id="cus_restored")
    call_command("backup", stdout=StringIO())

    drill = manage_py("restore_drill", backup_dir=backup_dir, STRIPE_API_HOST=f"http://127.0.0.1:{free_port()}")

    assert drill.returncode == 1
    assert "Restore drill failed on: billing_reconcile." in drill.stderr
    assert re.search(r"^billing_reconcile: DIFFERS\n  exited 1: CommandError: .*Stripe", drill.stdout, re.MULTILINE)
    assert "row counts (" in drill.stdout and drill_databases() == scratch_databases


def test_backup_of_a_sqlite_database_is_refused_clearly(tmp_path):
    """Made to fail: without the vendor check, the command died on SQLite with a traceback (`near "SET": syntax
    error`, exit 1)."""
    result = manage_py("backup", backup_dir=tmp_path / "backups", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert result.returncode == 2
    assert "Backups need PostgreSQL; this database is sqlite" in result.stderr
    assert not (tmp_path / "backups").exists()
