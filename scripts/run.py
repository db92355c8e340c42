#!/usr/bin/env python
"""`make run`: the local Stripe server, the django-q2 worker and the web server, stopped together by Ctrl-C.

They run under scripts/supervisor.py: Ctrl-C stops each once, and the exit status is 0. If a child stops by
itself, the others are stopped too and the exit status is 1.
"""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from supervisor import ROOT, Supervisor, status_of


def database_described() -> str:
    """Which database the settings choose, and where: the SQLite file, or PostgreSQL's host and name."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cedarheights.settings.local")
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith(".sqlite3"):  # Django's backend, or django-prometheus's subclass of it
        return f"SQLite, file {database['NAME']}"
    return f"PostgreSQL, database {database['NAME']} on {database['HOST'] or 'localhost'}:{database['PORT'] or 5432}"


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

    def start() -> None:
        supervisor.start(
            "local Stripe server",
            "scripts/local_stripe.py",
            *("--port", str(args.stripe_port), "--state", str(args.state_dir / "localstripe.pickle")),
            *("--webhook", f"{site}/billing/stripe/webhook/"),
            stop_signal=signal.SIGINT,  # it exits quietly on SIGINT
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
            supervisor.start("worker", "manage.py", "qcluster", stop_signal=signal.SIGTERM)  # stops its workers
            supervisor.start(
                "web server",
                *("manage.py", "runserver", "--noreload", f"{args.host}:{args.port}"),
                stop_signal=signal.SIGINT,  # runserver exits quietly on SIGINT
            )
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

    return supervisor.supervise(start)


if __name__ == "__main__":
    sys.exit(main())
