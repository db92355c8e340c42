"""`/metrics` for Prometheus: django-prometheus's request, database and cache figures, and the school's own.

The school's figures are read from the database when Prometheus scrapes, so they are exact whichever web server
or worker did the work, in a fixed number of queries however big the school (README, "Monitoring"). Only the
addresses in METRICS_ALLOWED_ADDRESSES, read as every other part of the app reads a client's address, or a caller
with `Authorization: Bearer <METRICS_TOKEN>` get an answer; anyone else gets a 404, as if there were no page.
"""

import hmac
import ipaddress
import os
from collections.abc import Iterator
from contextlib import suppress

from django.conf import settings
from django.db.models import Count, Min, Q, Sum
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django_prometheus import middleware as prometheus_middleware
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError

from billing.models import PaymentFailure, StripeEvent
from cedarheights.client_address import client_address
from cedarheights.error_handlers import json_bad_request
from cedarheights.models import EmailLog, PipelineRun, StepRun, TaskOutbox, WorkerHeartbeat


class PrometheusAfterMiddleware(prometheus_middleware.PrometheusAfterMiddleware):
    """django-prometheus's, but a Content-Length that is not a number is the 400 gunicorn answers, not the 500 its
    int() would raise under another server (runserver, `make run`)."""

    def process_request(self, request):
        if not (request.META.get("CONTENT_LENGTH") or "0").isdigit():
            return json_bad_request(request)
        return super().process_request(request)


class SchoolCollector:
    """The school's own figures, from its tables, at scrape time."""

    def collect(self) -> Iterator[Metric]:
        yield from pipeline_metrics()
        yield from task_queue_metrics()
        yield from billing_metrics()
        yield from email_and_worker_metrics()


def pipeline_metrics() -> Iterator[Metric]:
    runs = CounterMetricFamily(
        "cedarheights_pipeline_runs", "Pipeline runs recorded, by pipeline and outcome.", labels=["pipeline", "outcome"]
    )
    for row in PipelineRun.objects.order_by().values("pipeline", "status").annotate(runs=Count("id")):
        runs.add_metric([row["pipeline"], row["status"]], row["runs"])
    yield runs
    steps = SummaryMetricFamily(
        "cedarheights_pipeline_step_seconds",
        "Time spent in each pipeline step, from the runs' records (sum and count).",
        labels=["pipeline", "step"],
    )
    step_rows = StepRun.objects.order_by().values("run__pipeline", "name")
    for row in step_rows.annotate(steps=Count("id"), milliseconds=Sum("duration_ms")):
        steps.add_metric(
            [row["run__pipeline"], row["name"]], count_value=row["steps"], sum_value=row["milliseconds"] / 1000
        )
    yield steps


def task_queue_metrics() -> Iterator[Metric]:
    """Tasks waiting, `where` they wait: on the broker, or in the outbox (on the Redis broker every task has its
    outbox row from its transaction until a worker has run it, so the outbox's oldest row is the queue's age there;
    Redis keeps no time)."""
    now = timezone.now()
    waiting = GaugeMetricFamily("cedarheights_tasks_waiting", "Tasks waiting for a worker.", labels=["where"])
    oldest = GaugeMetricFamily(
        "cedarheights_task_oldest_waiting_seconds", "Age of the oldest task waiting, in seconds.", labels=["where"]
    )
    if Conf.ORM:
        # What django-q2's ORM broker hands out next: rows whose lock is not in the future (ORM.queue_size).
        queued = OrmQ.objects.using(Conf.ORM).filter(key=Conf.CLUSTER_NAME, lock__lte=now)
        broker = queued.aggregate(tasks=Count("id"), since=Min("lock"))
        waiting.add_metric(["broker"], broker["tasks"])
        oldest.add_metric(["broker"], _seconds_since(broker["since"], now=now))
    else:
        with suppress(RedisError):  # Redis away: the other figures still answer, /health/ready says what is wrong
            waiting.add_metric(["broker"], get_broker().queue_size())
    outbox = TaskOutbox.objects.aggregate(tasks=Count("id"), since=Min("created_at"))
    waiting.add_metric(["outbox"], outbox["tasks"])
    oldest.add_metric(["outbox"], _seconds_since(outbox["since"], now=now))
    yield waiting
    yield oldest


def billing_metrics() -> Iterator[Metric]:
    in_retry = GaugeMetricFamily(
        "cedarheights_payments_failed_in_retry", "Failed payments still being retried (open payment failures)."
    )
    in_retry.add_metric([], PaymentFailure.objects.filter(status=PaymentFailure.Status.OPEN).count())
    yield in_retry
    events = CounterMetricFamily(
        "cedarheights_stripe_webhook_events",
        "Stripe webhook events stored, by type and outcome (received, processed, ignored, failed).",
        labels=["type", "outcome"],
    )
    for row in StripeEvent.objects.order_by().values("type", "status").annotate(events=Count("id")):
        events.add_metric([row["type"], row["status"]], row["events"])
    yield events


def email_and_worker_metrics() -> Iterator[Metric]:
    emails = GaugeMetricFamily(
        "cedarheights_emails_failed",
        "Emails that failed, and those whose sending was never confirmed (they may have gone out).",
        labels=["status"],
    )
    counts = EmailLog.objects.aggregate(
        failed=Count("id", filter=Q(status=EmailLog.Status.FAILED)),
        unconfirmed=Count("id", filter=Q(status=EmailLog.Status.UNCONFIRMED)),
    )
    for status, emails_in_status in counts.items():
        emails.add_metric([status], emails_in_status)
    yield emails
    heartbeat = GaugeMetricFamily(
        "cedarheights_worker_heartbeat_age_seconds",
        "Seconds since the background worker last beat (every minute); absent when it never has.",
    )
    if (seen_at := WorkerHeartbeat.objects.filter(id=1).values_list("seen_at", flat=True).first()) is not None:
        heartbeat.add_metric([], _seconds_since(seen_at, now=timezone.now()))
    yield heartbeat


def _seconds_since(moment, *, now) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0


SCHOOL_REGISTRY = CollectorRegistry(auto_describe=False)
SCHOOL_REGISTRY.register(SchoolCollector())


def metrics_allowed(request) -> bool:
    """An allowed address (CIDRs in METRICS_ALLOWED_ADDRESSES), or the token, compared in constant time."""
    token = settings.METRICS_TOKEN
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if token and scheme == "Bearer" and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:  # no address at all
        return False
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.5 is 10.0.0.5
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in settings.METRICS_ALLOWED_ADDRESSES)


def process_metrics() -> bytes:
    """django-prometheus's and prometheus_client's figures: this process's, or with PROMETHEUS_MULTIPROC_DIR set
    (several gunicorn workers), every worker's added up from the files they write there."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics(request):
    if not metrics_allowed(request):
        raise Http404("No such page.")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(process_metrics() + generate_latest(SCHOOL_REGISTRY), content_type=CONTENT_TYPE_LATEST)
