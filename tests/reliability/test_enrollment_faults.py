"""A fault injected after any step of the enrollment pipeline: the whole run rolls back, nothing is sent, and
the failed run is still recorded; only a run PostgreSQL ended for a concurrent transaction runs again
(PostgreSQL, real commits; the deadlock itself is in test_crossing_enrollments.py)."""

import functools
import uuid

import pytest
from django.apps import apps
from django.core import mail
from django.db import IntegrityError, OperationalError

from cedarheights.models import PipelineRun, StepRun
from enrollment import pipelines
from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from tests.factories import EnrollmentInputFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RECORDS_OF_A_RUN = {PipelineRun, StepRun}


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m not in RECORDS_OF_A_RUN}


class InjectedFault(Exception):
    pass


def failing_after(step, error: Exception | None = None):
    @functools.wraps(step)  # the run records the real step's name
    def run_then_fail(ctx):
        step(ctx)
        raise error or InjectedFault(f"injected after {step.__name__}")

    return run_then_fail


@pytest.mark.parametrize("failing", [step.__name__ for step in pipelines.STEPS])
def test_a_fault_at_any_step_leaves_no_rows_and_sends_nothing(school_ready, monkeypatch, failing):
    form = EnrollmentInputFactory(siblings=True)
    steps = tuple(failing_after(s) if s.__name__ == failing else s for s in pipelines.STEPS)
    monkeypatch.setattr(pipelines, "STEPS", steps)
    before, sent = row_counts(), len(mail.outbox)

    with pytest.raises(InjectedFault):
        enrollment_submit(form=form, idempotency_key=uuid.uuid4())

    assert row_counts() == before
    assert len(mail.outbox) == sent
    run = PipelineRun.objects.get(pipeline="enrollment")
    assert (run.status, run.failed_step) == ("failed", failing)
    assert run.steps.get(name=failing).status == "failed"


@pytest.mark.parametrize(
    "error",
    [OperationalError("could not extend file: No space left on device"), IntegrityError("a rule of its own")],
    ids=["operational", "integrity"],
)
def test_a_database_error_other_than_a_concurrent_transaction_is_raised_after_one_run(school_ready, monkeypatch, error):
    """Only a deadlock or a serialization failure (PostgreSQL ending a run for another's sake) runs the submission
    again, and an IntegrityError only answers a replay that committed first: anything else is raised at once.
    Made to fail first: with every OperationalError run again, the disk-full run ran thrice and ended in TryAgain."""
    steps = tuple(failing_after(s, error) if s.__name__ == "book_demo_lesson" else s for s in pipelines.STEPS)
    monkeypatch.setattr(pipelines, "STEPS", steps)

    with pytest.raises(type(error)):
        enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())

    assert list(PipelineRun.objects.filter(pipeline="enrollment").values_list("status", flat=True)) == ["failed"]
    assert not Enrollment.objects.exists()
