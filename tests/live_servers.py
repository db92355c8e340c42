"""Processes of the system started for real by tests: production settings, gunicorn and the django-q2 worker,
each in its own process group (stopped with its children), its output in a file."""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.stripe_server import ROOT


def database_url(settings_dict: dict, **query: str) -> str:
    """The `DATABASE_URL` of a Django database's settings (trust auth, as on this machine), with query options."""
    url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def production_env(
    *,
    database_url: str,
    stripe_url: str,
    site_url: str = "http://127.0.0.1",
    smtp_port: int | None = None,
    **extra: str,
) -> dict:
    """What gunicorn and the worker run with: production settings, the (local) Stripe server, and the SMTP sink
    when one is given."""
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
        **(
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp_port),
            }
            if smtp_port is not None
            else {}
        ),
        "SITE_URL": site_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class ProcessGroup:
    """A command in its own process group (its children with it), its output in a file, not a pipe nobody reads."""

    url = ""  # where it answers, when it is a server

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
    server.url = url = f"http://127.0.0.1:{port}"
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


def qcluster_wait_running(worker: ProcessGroup, *, seconds: float = 60) -> ProcessGroup:
    """Until django-q2 says its cluster is up (" running." in its log); the worker, for chaining."""
    deadline = time.monotonic() + seconds
    while " running." not in worker.output():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"qcluster did not start:\n{worker.output()}")
        time.sleep(0.2)
    return worker
