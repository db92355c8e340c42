#!/usr/bin/env python
"""`make run`: the local Stripe server, the django-q2 worker and the web server, stopped together by Ctrl-C.

Each child runs in its own process group, so the terminal's Ctrl-C reaches this supervisor only. It passes
one signal to each child's main process (django-q2's cluster stops its own workers; a second signal to them
is what made its handler fail), waits for them, and exits 0. If a child stops by itself, the others are
stopped too and the exit status is 1.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STOP_WAIT_SECONDS = 30  # longer than a task's `timeout` would be unkind to Ctrl-C; long enough to finish an email
# What each child is asked to stop with: runserver and the Stripe server exit quietly on SIGINT; django-q2's
# cluster stops its workers on SIGTERM.
STOP_SIGNALS = {"web server": signal.SIGINT, "worker": signal.SIGTERM, "local Stripe server": signal.SIGINT}


def database_described() -> str:
    """Which database the settings choose, and where: the SQLite file, or PostgreSQL's host and name."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cedarheights.settings.local")
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith(".sqlite3"):  # Django's backend, or django-prometheus's subclass of it
        return f"SQLite, file {database['NAME']}"
    return f"PostgreSQL, database {database['NAME']} on {database['HOST'] or 'localhost'}:{database['PORT'] or 5432}"


class Supervisor:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_requested = False
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)

    def _request_stop(self, signum, frame) -> None:
        self.stop_requested = True

    def start(self, name: str, *args: str) -> None:
        self.children[name] = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, start_new_session=True)

    def running(self) -> bool:
        """Every child runs and no stop was asked for."""
        return not (self.stop_requested or self.exited())

    def exited(self) -> str | None:
        """The name of a child that has stopped by itself, if any."""
        return next((name for name, child in self.children.items() if child.poll() is not None), None)

    def wait_until(self, answers, every: float = 0.2) -> bool:
        """Poll `answers()` until it is true; False if a stop was asked for or a child stopped first."""
        while self.running():
            if answers():
                return True
            time.sleep(every)
        return False

    def stop(self) -> None:
        running = {name: child for name, child in self.children.items() if child.poll() is None}
        for name, child in running.items():
            os.kill(child.pid, STOP_SIGNALS[name])
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for name, child in running.items():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                print(f"  The {name} did not stop within {STOP_WAIT_SECONDS} s: killed.", flush=True)
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def status_of(url: str) -> int | None:
    """The HTTP status `url` answers with, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stripe-port", type=int, default=8420)
    parser.add_argument("--seed-demo", action="store_true", help="load the demo school first (manage.py seed_demo)")
    parser.add_argument("--state-dir", type=Path, default=ROOT / "run", help="the local Stripe server's state")
    args = parser.parse_args()
    site = f"http://{args.host}:{args.port}"
    stripe = f"http://127.0.0.1:{args.stripe_port}"
    database = database_described()
    args.state_dir.mkdir(exist_ok=True)
    # Links in emails (SITE_URL) point to this server unless the environment or `.env` (read by the settings
    # just loaded) names another address.
    supervisor = Supervisor({"SITE_URL": site, **os.environ, "STRIPE_API_HOST": stripe, "PYTHONUNBUFFERED": "1"})
    stopped_by_itself = None
    calendar_links = ""
    if args.seed_demo:  # with this environment, so the demo's emails and calendar links point to this server
        subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=supervisor.env, check=True)
        links = subprocess.run(
            [sys.executable, "manage.py", "show_demo_calendar_links"],
            cwd=ROOT,
            env=supervisor.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        calendar_links = f'  Their calendar links (add one to a calendar app; README, "Calendars"):\n{links}'
    try:
        supervisor.start(
            "local Stripe server",
            "scripts/local_stripe.py",
            *("--port", str(args.stripe_port), "--state", str(args.state_dir / "localstripe.pickle")),
            *("--webhook", f"{site}/billing/stripe/webhook/"),
        )
        if supervisor.wait_until(lambda: status_of(f"{stripe}/v1/account") is not None):
            catalog = subprocess.run(
                [sys.executable, "manage.py", "billing_sync_catalog"],
                cwd=ROOT,
                env=supervisor.env,
                capture_output=True,
                text=True,
            )
            (args.state_dir / "catalog.log").write_text(catalog.stdout + catalog.stderr)
            # Its summary, or what went wrong (the Stripe library logs each request on stderr).
            print((catalog.stdout if catalog.returncode == 0 else catalog.stderr).strip().splitlines()[-1], flush=True)
            supervisor.start("worker", "manage.py", "qcluster")
            supervisor.start("web server", "manage.py", "runserver", "--noreload", f"{args.host}:{args.port}")
        if supervisor.wait_until(lambda: status_of(f"{site}/health/live") == 200):
            print(
                f"\n  Cedar Heights is running at {site}/\n"
                f"  Back office (Django admin): {site}/admin/   admin@cedarheights.test / cedarheights-admin\n"
                f"  Parents and teachers: {site}/accounts/login/   e.g. linh.nguyen@example.com or "
                "amelia.hart@cedarheights.test / cedarheights-demo\n"
                f"{calendar_links}"
                f"  Database: {database}\n"
                f"  Background worker: django-q2 cluster. Local Stripe server: {stripe}/\n"
                "  Ctrl-C stops everything.\n",
                flush=True,
            )
        if supervisor.running() and status_of(f"{site}/health/ready") != 200:
            print("  Waiting for the background worker…", flush=True)
            if supervisor.wait_until(lambda: status_of(f"{site}/health/ready") == 200, every=1):
                print("  Ready: the background worker is running.", flush=True)
        supervisor.wait_until(lambda: False, every=0.5)
        stopped_by_itself = supervisor.exited()
    finally:
        if supervisor.stop_requested:
            print("\n  Stopping…", flush=True)
        supervisor.stop()
    if stopped_by_itself and not supervisor.stop_requested:
        print(f"  The {stopped_by_itself} stopped by itself; everything else was stopped.", flush=True)
        return 1
    print("  Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
