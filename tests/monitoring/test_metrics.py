"""`/metrics` (issue 19, part 4): who may read it, what it shows, and the school's figures read at scrape time.

Made to fail first: with the access check returning True, the outside address and the wrong token got a 200; with
the pipeline query grouped per run instead of per pipeline, the scrape's query count grew with the runs.
"""

from datetime import timedelta
from uuid import uuid4

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from billing.models import StripeEvent
from billing.services.dunning import payment_failure_open
from cedarheights.metrics import SCHOOL_REGISTRY, process_metrics
from cedarheights.models import EmailLog, TaskOutbox
from cedarheights.pipeline import run_pipeline
from cedarheights.services import worker_heartbeat_record
from tests.billing.stripe_events import deliver, event, sign
from tests.factories import PaymentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

OUTSIDE = "203.0.113.7"  # TEST-NET-3: never one of ours
TOKEN = "a-metrics-token-long-enough-for-production-0123"


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = (client or Client()).get("/metrics", headers=headers)
    assert response.status_code == 200, response.content[:300]
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels) -> float | None:
    return scraped.get((name, tuple(sorted(labels.items()))))


class TestWhoMayRead:
    def test_loopback_reads_it_and_an_outside_address_is_told_there_is_no_such_page(self):
        assert Client().get("/metrics").status_code == 200
        refused = Client(REMOTE_ADDR=OUTSIDE).get("/metrics")
        assert refused.status_code == 404 and b"django_http" not in refused.content

    def test_a_forwarded_for_header_lifts_nothing_without_a_trusted_proxy(self):
        assert Client(REMOTE_ADDR=OUTSIDE).get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404

    @override_settings(
        METRICS_ALLOWED_ADDRESSES=["10.20.0.0/16"],
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1},
    )
    def test_behind_one_trusted_proxy_the_address_it_saw_decides(self):
        proxy = Client(REMOTE_ADDR="172.16.0.2")
        assert proxy.get("/metrics", headers={"X-Forwarded-For": "10.20.3.4"}).status_code == 200
        assert proxy.get("/metrics", headers={"X-Forwarded-For": OUTSIDE}).status_code == 404
        assert proxy.get("/metrics", headers={"X-Forwarded-For": f"10.20.3.4, {OUTSIDE}"}).status_code == 404

    @override_settings(METRICS_TOKEN=TOKEN)
    def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(self):
        outside = Client(REMOTE_ADDR=OUTSIDE)
        assert outside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert outside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}"}).status_code == 404
        assert outside.get("/metrics", headers={"Authorization": f"Token {TOKEN}"}).status_code == 404

    @override_settings(METRICS_TOKEN="")
    def test_an_empty_token_opens_nothing(self):
        assert Client(REMOTE_ADDR=OUTSIDE).get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404

    def test_a_post_from_an_allowed_address_is_a_405_and_from_elsewhere_a_404(self):
        assert Client().post("/metrics").status_code == 405
        assert Client(REMOTE_ADDR=OUTSIDE).post("/metrics").status_code == 404


class TestDjangoFigures:
    def test_request_latency_by_view_and_database_timings_are_shown(self):
        before = scrape()
        for _ in range(3):
            Client().get("/health/live")
        after = scrape()
        latency = "django_http_requests_latency_seconds_by_view_method_count"
        assert (
            value(after, latency, view="health-live", method="GET")
            - (value(before, latency, view="health-live", method="GET") or 0)
            == 3
        )
        assert value(after, "django_db_query_duration_seconds_count", alias="default", vendor="postgresql") > 0

    def test_a_content_length_that_is_not_a_number_is_a_400_not_a_500(self):
        response = Client(raise_request_exception=False).generic("GET", "/health/live", CONTENT_LENGTH="abc")
        assert response.status_code == 400

    def test_the_redis_cache_counts_its_gets(self):
        """The REDIS_URL block's class, on this test's own Redis database (5), which it empties after."""
        location = "redis://127.0.0.1:6379/5"
        with override_settings(
            CACHES={
                "default": {
                    "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
                    "LOCATION": location,
                    "KEY_PREFIX": f"metrics-test-{uuid4().hex}",
                }
            }
        ):
            try:
                before = value(samples(process_metrics().decode()), "django_cache_get_total", backend="redis") or 0
                cache.set("kept", 0)
                assert cache.get("kept") == 0  # a cached falsy value is still a hit
                assert cache.get("never-set", "default") == "default"
                after = samples(process_metrics().decode())
            finally:
                redis.Redis.from_url(location).flushdb()
        assert value(after, "django_cache_get_total", backend="redis") == before + 2
        assert value(after, "django_cache_get_hits_total", backend="redis") >= 1


def a_step(ctx) -> None:
    pass


def a_failing_step(ctx) -> None:
    raise ValueError("refused")


def school_figures() -> dict:
    return samples(generate_latest(SCHOOL_REGISTRY).decode())


class TestSchoolFigures:
    def test_pipeline_runs_by_outcome_and_step_time(self):
        run_pipeline("metrics-test", (a_step,), None)
        run_pipeline("metrics-test", (a_step,), None)
        with pytest.raises(ValueError):
            run_pipeline("metrics-test", (a_step, a_failing_step), None)
        figures = school_figures()
        assert value(figures, "cedarheights_pipeline_runs_total", pipeline="metrics-test", outcome="succeeded") == 2
        assert value(figures, "cedarheights_pipeline_runs_total", pipeline="metrics-test", outcome="failed") == 1
        step = {"pipeline": "metrics-test", "step": "a_step"}
        assert value(figures, "cedarheights_pipeline_step_seconds_count", **step) == 3
        assert value(figures, "cedarheights_pipeline_step_seconds_sum", **step) >= 0
        failing = {"pipeline": "metrics-test", "step": "a_failing_step"}
        assert value(figures, "cedarheights_pipeline_step_seconds_count", **failing) == 1

    def test_tasks_waiting_on_the_orm_broker_and_in_the_outbox_with_the_oldest_age(self):
        broker = get_broker()
        for n in range(3):
            broker.enqueue(f"task {n}")
        ten_minutes_ago = timezone.now() - timedelta(minutes=10)
        OrmQ.objects.filter(pk=OrmQ.objects.order_by("pk").first().pk).update(lock=ten_minutes_ago)
        OrmQ.objects.create(key=broker.list_key, payload="claimed", lock=timezone.now() + timedelta(minutes=2))
        TaskOutbox.objects.create(func="cedarheights.tasks.worker_heartbeat")
        TaskOutbox.objects.update(created_at=timezone.now() - timedelta(minutes=7))
        figures = school_figures()
        assert value(figures, "cedarheights_tasks_waiting", where="broker") == 3  # the claimed one is not waiting
        assert 600 <= value(figures, "cedarheights_task_oldest_waiting_seconds", where="broker") < 900
        assert value(figures, "cedarheights_tasks_waiting", where="outbox") == 1
        assert 420 <= value(figures, "cedarheights_task_oldest_waiting_seconds", where="outbox") < 720

    def test_on_the_redis_broker_its_queue_length_is_shown_and_no_age(self, monkeypatch):
        """django-q2's Redis broker on this test's own Redis database (5), which it empties after."""
        location = "redis://127.0.0.1:6379/5"
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", location)
        try:
            broker = get_broker()
            for n in range(2):
                broker.enqueue(f"task {n}")
            figures = school_figures()
        finally:
            redis.Redis.from_url(location).flushdb()
        assert value(figures, "cedarheights_tasks_waiting", where="broker") == 2
        assert value(figures, "cedarheights_task_oldest_waiting_seconds", where="broker") is None
        assert value(figures, "cedarheights_tasks_waiting", where="outbox") == 0

    def test_an_empty_queue_is_zero_tasks_aged_zero(self):
        figures = school_figures()
        assert value(figures, "cedarheights_tasks_waiting", where="broker") == 0
        assert value(figures, "cedarheights_task_oldest_waiting_seconds", where="broker") == 0

    def test_failed_payments_in_retry_webhook_events_emails_failed_and_the_heartbeat(self, school):
        payment_failure_open(payment=PaymentFactory(stripe_invoice_id="in_metrics_1"), reason="Declined")
        payment_failure_open(payment=PaymentFactory(stripe_invoice_id="in_metrics_2"), reason="Declined")
        client = Client()
        for n in range(2):
            body = event("customer.created", {"id": f"cus_{n}", "object": "customer"}, event_id=f"evt_metrics_{n}")
            assert deliver(client, body, sign(body)).status_code == 200
        EmailLog.objects.create(recipient="a@example.com", template="t", subject="s", status=EmailLog.Status.FAILED)
        worker_heartbeat_record()
        figures = school_figures()
        assert value(figures, "cedarheights_payments_failed_in_retry") == 2
        ignored = {"type": "customer.created", "outcome": "ignored"}
        assert value(figures, "cedarheights_stripe_webhook_events_total", **ignored) == 2
        assert value(figures, "cedarheights_emails_failed", status="failed") >= 1
        assert 0 <= value(figures, "cedarheights_worker_heartbeat_age_seconds") < 60

    def test_a_worker_never_seen_has_no_heartbeat_age(self):
        assert value(school_figures(), "cedarheights_worker_heartbeat_age_seconds") is None

    def test_a_refused_webhook_signature_is_counted(self):
        before = value(scrape(), "cedarheights_stripe_webhook_signatures_refused_total")
        body = event("customer.created", {"id": "cus_x", "object": "customer"}, event_id="evt_metrics_bad")
        assert deliver(Client(), body, sign(body, secret="whsec_not_ours")).status_code == 400
        assert deliver(Client(), body, None).status_code == 400
        assert value(scrape(), "cedarheights_stripe_webhook_signatures_refused_total") == before + 2
        assert not StripeEvent.objects.exists()

    def test_a_scrape_takes_the_same_few_queries_however_much_there_is(self, django_assert_max_num_queries):
        for n in range(20):
            run_pipeline(f"pipeline-{n % 3}", (a_step, a_step), None)
            EmailLog.objects.create(recipient="a@example.com", template="t", subject="s", status="failed")
            TaskOutbox.objects.create(func="cedarheights.tasks.worker_heartbeat")
            get_broker().enqueue(f"task {n}")
        worker_heartbeat_record()
        with django_assert_max_num_queries(8):
            school_figures()
