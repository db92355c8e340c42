"""The alert rules (deploy/prometheus/alerts.yml) watch figures /metrics really shows.

Made to fail first: a rule on `django_http_responses_total_by_status` (the name in django-prometheus's source,
without the `_total` prometheus_client adds to a counter) named a series /metrics never shows, and would never
have fired.
"""

import re
from pathlib import Path

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from cedarheights.services import worker_heartbeat_record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
# PromQL's own words: operators, modifiers and aggregations (the functions are found by the "(" after them).
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool"}
ALERTS = {
    "WorkerHeartbeatMissing",
    "TaskQueueStale",
    "ServerErrorRate",
    "FailedPaymentsRising",
    "WebhookSignatureFailures",
}


def metric_names(expr: str) -> set[str]:
    """The series an expression reads: its names, without label matchers, ranges, strings, numbers, functions."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    words = re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()", expr)
    return {word for word in words if word not in PROMQL_WORDS}


def test_metric_names_are_read_from_an_expression():
    expr = 'sum(rate(a_total{status=~"5.."}[5m])) by (view) / max(b) > 0.02 or absent(c_seconds)'
    assert metric_names(expr) == {"a_total", "b", "c_seconds"}


def test_each_alert_is_there_and_reads_only_series_that_metrics_shows():
    rules = [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    client = Client()
    worker_heartbeat_record()
    for path in ("/health/live", "/no-such-page", "/metrics"):
        client.get(path)
    shown = {
        sample.name
        for family in text_string_to_metric_families(client.get("/metrics").content.decode())
        for sample in family.samples
    }

    assert {rule["alert"] for rule in rules} == ALERTS
    for rule in rules:
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        used = metric_names(rule["expr"])
        assert used and used <= shown, (rule["alert"], used - shown)
