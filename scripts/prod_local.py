#!/usr/bin/env python
"""`make prod-local`: what compose.yaml runs, as plain processes on this machine: production settings, gunicorn
(gunicorn.conf.py) and a django-q2 worker, on the PostgreSQL and Redis that DATABASE_URL and REDIS_URL name.

First what each release runs (migrate, billing_sync_catalog) and collectstatic; then the two servers, stopped
together by Ctrl-C or SIGTERM (scripts/supervisor.py). Every value comes from the environment or `.env`, as in
production: the README's "Deploy" section says which, and how to use the local Stripe server for Stripe's.
"""

import os
import signal
import subprocess
import sys

import environ
from healthcheck import local_url, proxy_headers
from supervisor import ROOT, Supervisor, status_of

REQUIRED = {
    "DATABASE_URL": "postgres://user:password@host:5432/name",
    "REDIS_URL": "redis://host:6379/0",
}
BEFORE_START = (("migrate", "--no-input"), ("billing_sync_catalog",), ("collectstatic", "--no-input"))


def main() -> int:
    environ.Env.read_env(ROOT / ".env")  # as the settings read it: a value set in the environment wins
    if missing := [name for name in REQUIRED if not os.environ.get(name)]:
        for name in missing:
            print(
                f"make prod-local needs {name} (e.g. {name}={REQUIRED[name]}), in the environment or .env.",
                file=sys.stderr,
            )
        return 2
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cedarheights.settings.production", "PYTHONUNBUFFERED": "1"}
    supervisor = Supervisor(env)
    for command in BEFORE_START:
        print(f"  manage.py {' '.join(command)}", flush=True)
        failed = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env).returncode
        if supervisor.stop_requested:  # Ctrl-C or SIGTERM meanwhile: nothing more is started
            return 0
        if failed:
            print(f"  manage.py {command[0]} failed: nothing was started.", flush=True)
            return 1
    site, headers = local_url(""), proxy_headers()

    def start() -> None:
        # gunicorn's arbiter and django-q2's cluster each stop their own workers on SIGTERM.
        supervisor.start("worker", "manage.py", "qcluster", stop_signal=signal.SIGTERM)
        supervisor.start(
            "web server",
            *("-m", "gunicorn", "cedarheights.wsgi", "--config", "gunicorn.conf.py"),
            stop_signal=signal.SIGTERM,
        )
        if supervisor.wait_until(lambda: status_of(f"{site}/health/live", headers) == 200):
            print(
                f"\n  Cedar Heights (production settings) listens on http://{env.get('GUNICORN_BIND', '0.0.0.0:8000')}/"
                f"  (from this machine: {site}/), gunicorn with gunicorn.conf.py, and a django-q2 worker.\n"
                "  It expects an HTTPS proxy in front (X-Forwarded-Proto: https); plain http is redirected.\n"
                "  Ctrl-C stops everything.\n",
                flush=True,
            )
        if supervisor.wait_until(lambda: status_of(f"{site}/health/ready", headers) == 200, every=1):
            print("  Ready: database, migrations, the background worker and email all answer.", flush=True)

    return supervisor.supervise(start)


if __name__ == "__main__":
    sys.exit(main())
