"""A failed run when the database itself failed (issue 13): the caller still gets the step's own error (the API
answers 503 from it), one JSON line names the run, and the record is written, marked late, with the next run.

Made to fail first: with the runner as it was, the caller got "connection refused" (Django reconnecting as the
transaction ended, then the record's own write) in place of the step's error, nothing was logged, and the failed
run was never written. The second test passed before and after: with the database up, nothing changes.
"""

import json
from dataclasses import dataclass

import psycopg
import pytest
from django.db import OperationalError, connection

from accounts.models import Family
from cedarheights import pipeline
from cedarheights.models import PipelineRun
from cedarheights.pipeline import run_pipeline
from tests.database_relay import DatabaseRelay

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@dataclass
class Ctx:
    relay: DatabaseRelay
    reference: str = ""


def create_family(ctx: Ctx) -> None:
    family = Family.objects.create(name="Okafor family")
    ctx.reference = f"family:{family.pk}"


def lose_the_database(ctx: Ctx) -> None:
    """PostgreSQL goes away mid-step: the open connection is cut and new ones are refused until it is back."""
    ctx.relay.down()
    Family.objects.count()


def lose_the_connection(ctx: Ctx) -> None:
    """The step's backend is terminated from another connection; the database itself stays up."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    params = connection.get_connection_params()
    with psycopg.connect(
        host=params["host"], port=params["port"], user=params["user"], dbname=params["dbname"], autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    Family.objects.count()


@pytest.fixture
def relay(database_relay):
    yield database_relay
    pipeline._kept_runs.clear()  # a test that failed half-way leaves nothing for the next


def not_recorded_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "cedarheights.pipeline"]


def test_a_run_failed_by_the_database_keeps_its_error_logs_one_line_and_is_recorded_late_with_the_next_run(
    relay, caplog
):
    ctx = Ctx(relay=relay)

    with pytest.raises(OperationalError) as raised:
        run_pipeline("demo", (create_family, lose_the_database), ctx)

    # The step's own error, raised where the step raised it, not the failed recording's "connection refused".
    assert any(entry.name == "lose_the_database" for entry in raised.traceback)
    [line] = not_recorded_lines(caplog)
    assert line["event"] == "pipeline_run_not_recorded"
    assert (line["pipeline"], line["reference"], line["failed_step"]) == ("demo", ctx.reference, "lose_the_database")
    assert line["error"].startswith("OperationalError: ") and line["kept_for_later"] is True
    assert line["started_at"] <= line["failed_at"]

    relay.up()
    assert not PipelineRun.objects.exists()  # kept in memory until this process records a run
    nxt = run_pipeline("demo", (create_family,), Ctx(relay=relay))

    late = PipelineRun.objects.get(status="failed")
    assert (late.pipeline, late.reference, late.failed_step) == ("demo", ctx.reference, "lose_the_database")
    assert late.error == line["error"]
    assert late.note.startswith("Recorded late: the database was unavailable at ")
    assert list(late.steps.values_list("name", "status")) == [
        ("create_family", "succeeded"),
        ("lose_the_database", "failed"),
    ]
    assert late.pk < nxt.pk
    assert f"#{late.pk} demo {ctx.reference} failed at lose_the_database" in PipelineRun.objects.get(pk=nxt.pk).note
    assert Family.objects.count() == 1  # only the second run's family: the first rolled back

    run_pipeline("demo", (create_family,), Ctx(relay=relay))
    assert PipelineRun.objects.filter(status="failed").count() == 1  # written once, not again


def test_a_run_whose_connection_was_terminated_while_the_database_stays_up_is_recorded_at_once(relay, caplog):
    with pytest.raises(OperationalError) as raised:
        run_pipeline("demo", (create_family, lose_the_connection), Ctx(relay=relay), reference="attempt-1")

    assert any(entry.name == "lose_the_connection" for entry in raised.traceback)
    run = PipelineRun.objects.get()
    assert (run.status, run.failed_step, run.reference, run.note) == ("failed", "lose_the_connection", "attempt-1", "")
    assert run.error.startswith("OperationalError: ")
    assert not not_recorded_lines(caplog)
    assert not Family.objects.exists()


def test_a_long_outage_keeps_a_bounded_number_of_runs_and_logs_every_one(relay, caplog, monkeypatch):
    monkeypatch.setattr(pipeline, "KEPT_RUNS_LIMIT", 2)
    relay.down()

    for attempt in range(3):  # runs that start while the database is down: none can even begin its transaction
        with pytest.raises(OperationalError):
            run_pipeline("demo", (create_family,), Ctx(relay=relay), reference=f"attempt-{attempt}")

    lines = not_recorded_lines(caplog)
    assert [(line["reference"], line["kept_for_later"]) for line in lines] == [
        ("attempt-0", True),
        ("attempt-1", True),
        ("attempt-2", False),
    ]
    relay.up()
    run_pipeline("demo", (create_family,), Ctx(relay=relay))
    late = PipelineRun.objects.filter(status="failed", note__startswith="Recorded late")
    assert sorted(late.values_list("reference", flat=True)) == ["attempt-0", "attempt-1"]
