"""The whole system started for real on PostgreSQL, for fault injection: a database cloned from the test database,
gunicorn with production settings, the django-q2 worker in its own process group, each stopped by process group."""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
from psycopg import sql

from tests.stripe_server import ROOT


class ClonedDatabase:
    """A PostgreSQL database made from the test database as a template (its schema and rows, in a second), queried
    and disrupted over the test's own connection, which is never among those it terminates."""

    def __init__(self, source: dict, suffix: str):
        self.source = source
        self.name = f"{source['NAME']}{suffix}"
        self.url = f"postgres://{source['USER']}@{source['HOST']}:{source['PORT']}/{self.name}"
        self._own: psycopg.Connection | None = None

    def _server(self, statement: sql.Composable, params: tuple = ()) -> None:
        with psycopg.connect(
            host=self.source["HOST"],
            port=self.source["PORT"],
            user=self.source["USER"],
            password=self.source.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        ) as server:
            server.execute(statement, params)

    def create(self) -> None:
        """A template may have no other session: the test's closed its own, this ends any left by earlier tests."""
        self._server(
            sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"),
            (self.source["NAME"],),
        )
        self.drop()
        self._server(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(self.name), sql.Identifier(self.source["NAME"])
            )
        )

    def drop(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None
        self._server(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def rows(self, query: str, params: tuple = ()) -> list[tuple]:
        if self._own is None:
            self._own = psycopg.connect(
                host=self.source["HOST"],
                port=self.source["PORT"],
                user=self.source["USER"],
                password=self.source.get("PASSWORD") or None,
                dbname=self.name,
                autocommit=True,
            )
        return self._own.execute(query, params).fetchall()

    def terminate_others(self) -> int:
        """`pg_terminate_backend` on every other connection to this database: the web server's and the worker's."""
        [(ended,)] = self.rows(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return ended


def production_env(*, database_url: str, stripe_url: str, site_url: str, smtp_port: int, **extra: str) -> dict:
    """What gunicorn and the worker run with: production settings, the local Stripe server, the SMTP sink."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRIPE_", "EMAIL_", "Q_"))}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "cedarheights.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "STRIPE_API_HOST": stripe_url,
        "STRIPE_TEST_SECRET_KEY": f"sk_test_{secrets.token_hex(16)}",
        "STRIPE_TEST_PUBLIC_KEY": f"pk_test_{secrets.token_hex(16)}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(16)}",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "SITE_URL": site_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class ProcessGroup:
    """A command in its own process group (its children with it), its output in a file, not a pipe nobody reads."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL to whatever is left of it."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
        with contextlib.suppress(ProcessLookupError):  # the group's children, even when the leader is gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def gunicorn_start(env: dict, log: Path, *, port: int, workers: int) -> ProcessGroup:
    server = ProcessGroup(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "cedarheights.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        env,
        log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/health/live", timeout=2).close()
            return server
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"gunicorn did not start:\n{server.output()}") from None
            time.sleep(0.3)


def qcluster_start(env: dict, log: Path) -> ProcessGroup:
    return ProcessGroup([sys.executable, "manage.py", "qcluster"], env, log)
