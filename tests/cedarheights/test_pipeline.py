"""The shared pipeline runner: every run recorded, a failed one even after its transaction rolled back."""

from dataclasses import dataclass, field

import pytest
from django.db import transaction

from accounts.models import Family
from cedarheights.models import PipelineRun, StepRun
from cedarheights.pipeline import run_pipeline


@dataclass
class Ctx:
    names: list[str] = field(default_factory=list)
    reference: str = ""


def create_family(ctx: Ctx) -> None:
    family = Family.objects.create(name="Rivera family")
    ctx.reference = f"family:{family.pk}"


def add_note(ctx: Ctx) -> None:
    Family.objects.filter(name="Rivera family").update(notes="prefers Saturdays")


def explode(ctx: Ctx) -> None:
    raise ValueError("card declined")


@pytest.mark.django_db
def test_a_successful_run_is_recorded_with_each_step_in_order():
    run = run_pipeline("demo", (create_family, add_note), Ctx())

    assert run.status == PipelineRun.Status.SUCCEEDED
    assert run.reference.startswith("family:")
    assert list(run.steps.values_list("position", "name", "status")) == [
        (1, "create_family", "succeeded"),
        (2, "add_note", "succeeded"),
    ]
    assert all(step.duration_ms >= 0 for step in run.steps.all())
    assert Family.objects.get().notes == "prefers Saturdays"


@pytest.mark.django_db
def test_a_failing_step_rolls_back_every_step_but_the_run_is_still_recorded():
    with pytest.raises(ValueError, match="card declined"):
        run_pipeline("demo", (create_family, add_note, explode), Ctx(), reference="attempt-1")

    assert not Family.objects.exists()
    run = PipelineRun.objects.get()
    assert (run.status, run.failed_step, run.reference) == ("failed", "explode", "attempt-1")
    assert run.error == "ValueError: card declined"
    assert list(run.steps.values_list("name", "status")) == [
        ("create_family", "succeeded"),
        ("add_note", "succeeded"),
        ("explode", "failed"),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_failed_run_survives_on_a_real_connection_after_rollback():
    with pytest.raises(ValueError):
        run_pipeline("demo", (create_family, explode), Ctx())
    assert not Family.objects.exists()
    assert PipelineRun.objects.filter(status="failed", failed_step="explode").count() == 1
    assert StepRun.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_atomic_pipeline_refuses_to_run_inside_another_transaction():
    # A caller's outer transaction could roll back the failure record: the runner will not allow it.
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        run_pipeline("demo", (create_family,), Ctx())
    assert not PipelineRun.objects.exists()


@pytest.mark.django_db
def test_a_non_atomic_pipeline_keeps_what_earlier_steps_committed():
    with pytest.raises(ValueError):
        run_pipeline("demo", (create_family, explode), Ctx(), atomic=False)
    assert Family.objects.count() == 1
    assert PipelineRun.objects.get().failed_step == "explode"
