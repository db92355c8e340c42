"""gunicorn's settings for every real run (the image's CMD, `make prod-local`); read from ./gunicorn.conf.py.

Each value can be changed from the environment (`.env.example`, "Web server"), so the image needs no rebuild.
"""

import multiprocessing
import os
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gunicorn's own rule of thumb: two workers a core plus one, so one is always free while others wait on the database.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# Longer than the slowest page (an export, the owner's numbers) takes; a worker stuck longer is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM a worker finishes the requests it holds for this long before it is killed.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5  # behind Caddy, which keeps its connections to the app open
# Workers are restarted after this many requests (plus up to the jitter, so they do not restart together):
# whatever a long-lived process slowly accumulates is given back.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The app is loaded once, in the master, and each worker is a fork of it: a restarted worker (above) starts in
# milliseconds instead of importing Django and the project again for a second or more of CPU, which the other
# workers' requests would wait behind; and what loading made (frozen by cedarheights/wsgi.py) is shared between the
# workers' memory. Nothing opens a connection at import (Django's, Redis's and Sentry's are made on first use).
preload_app = True
# The workers' heartbeat files: in memory when the system has it (Docker's overlay disk can stall them).
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"
# No control socket (gunicornc): its one path per user ($HOME/.gunicorn/gunicorn.ctl) would be shared by every
# gunicorn of that user on the machine (two app servers, `make bench`), and the image's home is not writable.
control_socket_disable = True
# The app writes one JSON line per request (cedarheights/request_log.py): no second access line.
accesslog = None
errorlog = "-"
# Which proxies gunicorn believes about X-Forwarded-Proto (gunicorn's default: 127.0.0.1 only). Compose puts Caddy
# on another address of its network: `*` there, since only Caddy reaches the app's port.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server) -> None:
    """Prometheus's multiprocess mode: each worker writes its metrics in files here; the files of an earlier run are
    stale figures, so the directory starts empty."""
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    """A worker that stopped (restarted after max_requests, or killed) no longer counts in live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
