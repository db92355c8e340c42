"""Backups that are proven: `backup_create` writes a PostgreSQL custom-format dump and a manifest of exactly what
it holds; `restore_drill` restores a dump into a scratch database, migrates it, and compares it with its manifest.

Wiring: the manifest counts every app's rows and reads billing's ledger, so it sits above the apps. The manifest
and the dump come from one snapshot: a REPEATABLE READ transaction exports it, pg_dump reads through it while the
transaction stays open, and the manifest's figures are read in that transaction; payments written meanwhile are
in neither.
"""

import hashlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from accounts.models import Family
from billing.models import StripeEvent
from billing.selectors import balance_subquery

MANIFEST_FORMAT = 1
DUMP_SUFFIX = ".dump"
MANIFEST_SUFFIX = ".manifest.json"
SCRATCH_PREFIX = "cedarheights_drill_"


class BackupRefused(Exception):
    """A backup or a drill that cannot be done, with the reason the command prints (never an API answer)."""


@dataclass
class Backup:
    dump: Path
    manifest_path: Path
    manifest: dict


@dataclass
class Check:
    name: str
    differences: list[str] = field(default_factory=list)
    note: str = ""  # what an ok check found worth saying (migrations applied, Stripe's own mismatches)

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass
class DrillReport:
    dump: Path
    database: str  # the scratch database
    kept: bool
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.ok for check in self.checks)


def _postgres_settings() -> dict:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        raise BackupRefused(
            f"Backups need PostgreSQL; this database is {connection.vendor} (copy its file while nothing runs)."
        )
    return connection.settings_dict


def _pg_env(settings_dict: dict) -> dict[str, str]:
    """pg_dump's and pg_restore's connection, from Django's: in the environment, so the password is never in argv."""
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", settings_dict["HOST"]),
        ("PGPORT", str(settings_dict["PORT"] or "")),
        ("PGUSER", settings_dict["USER"]),
        ("PGPASSWORD", settings_dict["PASSWORD"]),
        ("PGDATABASE", settings_dict["NAME"]),
        ("PGSSLMODE", settings_dict.get("OPTIONS", {}).get("sslmode", "")),
    ):
        if value:
            env[variable] = value
        else:
            env.pop(variable, None)
    return env


def _run(args: list[str], *, env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
    if result.returncode != 0:
        raise BackupRefused(f"{what} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result


def database_figures(*, using: str = DEFAULT_DB_ALIAS) -> dict:
    """What the manifest says of a database: rows per table, each family's balance (billing's, as the owner sees
    it), the latest Stripe event received, the migrations applied. Read in the caller's transaction."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [name for (name,) in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connections[using].ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT app || '.' || name FROM django_migrations ORDER BY id")
        migrations = [name for (name,) in cursor.fetchall()]
    balances = Family.objects.using(using).annotate(balance=balance_subquery()).order_by("pk")
    latest_event = StripeEvent.objects.using(using).order_by("-received_at", "-pk").first()
    return {
        "table_row_counts": counts,
        "family_balances_cents": {str(pk): balance for pk, balance in balances.values_list("pk", "balance")},
        "latest_stripe_event_id": latest_event.stripe_id if latest_event else None,
        "applied_migrations": migrations,
    }


def _file_digest(path: Path) -> str:
    with path.open("rb") as dump:
        return hashlib.file_digest(dump, "sha256").hexdigest()


def _manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name.removesuffix(DUMP_SUFFIX) + MANIFEST_SUFFIX)


def backup_create(*, directory: Path) -> Backup:
    """A custom-format dump of the database and its manifest, both from one snapshot, in `directory`. The dump and
    the manifest appear under their names only when complete: the newest manifest always has its whole dump."""
    settings_dict = _postgres_settings()
    directory.mkdir(parents=True, exist_ok=True)
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        # First in the transaction, or PostgreSQL refuses it: the snapshot is then the transaction's for its life.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), now()")
        snapshot, started_at = cursor.fetchone()
        dump = directory / f"cedarheights-{started_at.astimezone(UTC):%Y%m%dT%H%M%SZ}{DUMP_SUFFIX}"
        if dump.exists():
            raise BackupRefused(f"{dump} exists already: one backup a second at most.")
        partial = dump.with_name(dump.name + ".partial")
        try:
            _run(
                ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", "--no-password"],
                env=_pg_env(settings_dict),
                what="pg_dump",
            )
        except BackupRefused:
            partial.unlink(missing_ok=True)
            raise
        figures = database_figures()  # while the transaction (and so the snapshot pg_dump read) is still open
    partial.rename(dump)
    manifest = {
        "format": MANIFEST_FORMAT,
        "started_at": started_at.astimezone(UTC).isoformat(),
        "database": settings_dict["NAME"],
        "dump": {"file": dump.name, "size_bytes": dump.stat().st_size, "sha256": _file_digest(dump)},
        **figures,
    }
    manifest_path = _manifest_path(dump)
    partial_manifest = manifest_path.with_name(manifest_path.name + ".partial")
    partial_manifest.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    partial_manifest.rename(manifest_path)
    return Backup(dump=dump, manifest_path=manifest_path, manifest=manifest)


def backup_newest(*, directory: Path) -> Path:
    """The newest dump in `directory` that has its manifest (names sort by their UTC time)."""
    dumps = sorted(p for p in directory.glob(f"cedarheights-*{DUMP_SUFFIX}") if _manifest_path(p).exists())
    if not dumps:
        raise BackupRefused(f"No backup with its manifest in {directory}: run `manage.py backup`.")
    return dumps[-1]


def _database_url(settings_dict: dict, name: str) -> str:
    credentials = quote(settings_dict["USER"], safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    sslmode = settings_dict.get("OPTIONS", {}).get("sslmode")
    return f"postgres://{credentials}@{settings_dict['HOST']}{port}/{quote(name, safe='')}" + (
        f"?sslmode={sslmode}" if sslmode else ""
    )


def _manage_py(args: list[str], *, settings_dict: dict, database: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` against the scratch database. Without REDIS_URL: a scratch process must not read or fill
    the live servers' cache (school settings, free time), nor queue tasks on their broker."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATABASE_URL"] = _database_url(settings_dict, database)
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )


@contextmanager
def _database_alias(settings_dict: dict, name: str) -> Iterator[str]:
    """A Django connection to the scratch database for the time of a `with`, so the same selectors read it."""
    connections.settings[name] = {**settings_dict, "NAME": name}
    try:
        yield name
    finally:
        connections[name].close()
        del connections[name]
        del connections.settings[name]


def _differences(what: str, expected: dict, found: dict) -> list[str]:
    differences = []
    for key in sorted(expected.keys() | found.keys()):
        if key not in found:
            differences.append(f"{what} {key}: {expected[key]} in the manifest, missing from the restore")
        elif key not in expected:
            differences.append(f"{what} {key}: not in the manifest, {found[key]} in the restore")
        elif expected[key] != found[key]:
            differences.append(f"{what} {key}: {expected[key]} in the manifest, {found[key]} in the restore")
    return differences


def _compare(manifest: dict, restored: dict) -> list[Check]:
    migrated_since = [m for m in restored["applied_migrations"] if m not in set(manifest["applied_migrations"])]
    # Tables the migrations of newer code created are not in the backup; the backup's own tables must all match.
    new_tables = set(restored["table_row_counts"]) - set(manifest["table_row_counts"])
    counts = {t: n for t, n in restored["table_row_counts"].items() if t not in new_tables}
    expected_event, found_event = manifest["latest_stripe_event_id"], restored["latest_stripe_event_id"]
    return [
        Check(
            "migrations",
            note=f"{len(migrated_since)} applied on the restore: {', '.join(migrated_since)}"
            if migrated_since
            else "none to apply",
        ),
        Check(
            f"row counts ({len(manifest['table_row_counts'])} tables)",
            _differences("table", manifest["table_row_counts"], counts),
            note=f"new tables from migrations: {', '.join(sorted(new_tables))}" if new_tables else "",
        ),
        Check(
            f"family balances ({len(manifest['family_balances_cents'])} families, cents)",
            _differences("family", manifest["family_balances_cents"], restored["family_balances_cents"]),
        ),
        Check(
            "latest Stripe event",
            []
            if expected_event == found_event
            else [f"{expected_event} in the manifest, {found_event} in the restore"],
            note=expected_event or "none received",
        ),
    ]


def _reconcile_check(*, settings_dict: dict, database: str) -> Check:
    """billing_reconcile against the restore, read only (never --commit on a scratch copy). Its mismatches are what
    Stripe holds that the backup does not (what happened at Stripe since, or records Stripe never had): listed
    for a real restore to repair, not a fault of the backup. It failing to run is one."""
    result = _manage_py(["billing_reconcile"], settings_dict=settings_dict, database=database)
    if result.returncode != 0:
        # Its own error, without the Stripe client's log lines before it.
        error = result.stderr[result.stderr.rfind("CommandError:") :].strip()[-2000:]
        return Check("billing_reconcile", [f"exited {result.returncode}: {error}"])
    return Check("billing_reconcile", note=result.stdout.strip())


def restore_drill(*, directory: Path, dump: Path | None = None, keep: bool = False) -> DrillReport:
    """Restore `dump` (the newest in `directory` by default) into a new scratch database, migrate it, and compare it
    with its manifest, then run billing_reconcile on it. The scratch database is dropped unless `keep`."""
    settings_dict = _postgres_settings()
    dump = dump or backup_newest(directory=directory)
    if not dump.is_file():
        raise BackupRefused(f"No dump at {dump}.")
    manifest_path = _manifest_path(dump)
    if not manifest_path.exists():
        raise BackupRefused(f"{dump} has no manifest ({manifest_path.name}).")
    manifest = json.loads(manifest_path.read_text())
    report = DrillReport(dump=dump, database=f"{SCRATCH_PREFIX}{secrets.token_hex(6)}", kept=keep)
    file_found = {"size_bytes": dump.stat().st_size, "sha256": _file_digest(dump)}
    file_expected = {k: manifest["dump"][k] for k in file_found}
    report.checks.append(Check("dump file", _differences("dump", file_expected, file_found)))

    _run(["createdb", "--template=template0", report.database], env=_pg_env(settings_dict), what="createdb")
    try:
        restore = subprocess.run(
            ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={report.database}", dump],
            env=_pg_env(settings_dict),
            capture_output=True,
            text=True,
        )
        if restore.returncode != 0:
            report.checks.append(Check("pg_restore", [restore.stderr.strip()[-2000:]]))
            return report
        migrate = _manage_py(["migrate", "--no-input"], settings_dict=settings_dict, database=report.database)
        if migrate.returncode != 0:
            report.checks.append(Check("migrate", [migrate.stderr.strip()[-2000:]]))
            return report
        with _database_alias(settings_dict, report.database) as alias:
            restored = database_figures(using=alias)
        report.checks.extend(_compare(manifest, restored))
        report.checks.append(_reconcile_check(settings_dict=settings_dict, database=report.database))
        return report
    finally:
        if not keep:
            scratch_drop(name=report.database)


def scratch_drop(*, name: str) -> None:
    """Drop a drill's scratch database (and end whatever is still connected to it)."""
    if not name.startswith(SCRATCH_PREFIX):
        raise BackupRefused(f"{name} is not a drill's scratch database.")
    _run(["dropdb", "--if-exists", "--force", name], env=_pg_env(_postgres_settings()), what="dropdb")
