"""Health endpoints for load balancers and operators: JSON, 200 when healthy, 503 naming what is not."""

import secrets
from datetime import timedelta

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import get_connection
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cedarheights.middleware import database_free
from cedarheights.models import WorkerHeartbeat
from cedarheights.outage import REDIS_OUTAGE_ERRORS

# The heartbeat is scheduled every minute; three missed beats mean the cluster is gone.
WORKER_SILENCE_LIMIT = timedelta(minutes=3)


@database_free
@require_GET
def live(request):
    """The process answers. No database: a slow database must not get the process restarted."""
    return JsonResponse({"status": "ok"})


def _database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return f"unreachable: {error.__class__.__name__}"
    return None


# Once every migration this code knows is applied, that stays true for the life of the process (new
# migrations come with new code): the probe then skips rebuilding the migration graph each time.
_migrations_seen_applied = False


def _migrations() -> str | None:
    global _migrations_seen_applied
    if _migrations_seen_applied:
        return None
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return f"{len(pending)} migration(s) not applied"
    _migrations_seen_applied = True
    return None


def _worker() -> str | None:
    beat = WorkerHeartbeat.objects.filter(id=1).values_list("seen_at", flat=True).first()
    if beat is None:
        return "never seen: start `manage.py qcluster`"
    silent = timezone.now() - beat
    return f"last seen {int(silent.total_seconds())} s ago" if silent > WORKER_SILENCE_LIMIT else None


def _email() -> str | None:
    if not settings.DEFAULT_FROM_EMAIL:
        return "DEFAULT_FROM_EMAIL is empty"
    try:
        get_connection()
    except (ImproperlyConfigured, ImportError) as error:
        return f"backend not configured: {error}"
    return None


def _redis() -> str | None:
    """With REDIS_URL: the cache answers a round trip (rate limits, free time, settings live there) and the task
    broker's connection pings. A short timeout each (the settings' socket timeouts), so a probe never hangs."""
    probe = f"health:{secrets.token_hex(8)}"
    try:
        cache.set(probe, "ok", timeout=10)
        answered = cache.get(probe)
        cache.delete(probe)
        if answered != "ok":
            return "the cache did not give back what it was given"
        broker_url = settings.Q_CLUSTER.get("redis")
        if isinstance(broker_url, str):
            with redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2) as broker:
                broker.ping()
    except REDIS_OUTAGE_ERRORS as error:
        return f"unreachable: {error}"
    return None


@database_free
@require_GET
def ready(request):
    """Ready for traffic: database reachable, migrations applied, worker seen recently, email configured, and
    Redis answering when REDIS_URL is set."""
    checks = {"database": _database()}
    if checks["database"] is None:
        checks |= {"migrations": _migrations(), "worker": _worker()}
    checks["email"] = _email()
    if settings.REDIS_URL:
        checks["redis"] = _redis()
    failing = {name: problem for name, problem in checks.items() if problem}
    body = {
        "status": "fail" if failing else "ok",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
    response = JsonResponse(body, status=503 if failing else 200)
    # "Not ready" is this probe's answer, not a server error: the request's JSON line says it, once
    # (Django's own request logger would add an error line to every poll while the worker starts).
    response._has_been_logged = True
    return response


@database_free
@require_GET
def floor(request):
    """The benchmark's floor: a constant body through the whole middleware stack, no database work."""
    return JsonResponse({"floor": True})
