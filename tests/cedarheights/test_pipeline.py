"""The shared pipeline runner: every run recorded, a failed one even after its transaction rolled back."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Family
from cedarheights.models import PipelineRun, StepRun
from cedarheights.pipeline import run_pipeline, step, step_title

PAUSE_S = 0.02  # a step known to take at least this long


@dataclass
class Ctx:
    names: list[str] = field(default_factory=list)
    reference: str = ""


def create_family(ctx: Ctx) -> None:
    family = Family.objects.create(name="Rivera family")
    ctx.reference = f"family:{family.pk}"


def add_note(ctx: Ctx) -> None:
    Family.objects.filter(name="Rivera family").update(notes="prefers Saturdays")


def wait_for_the_bank(ctx: Ctx) -> None:
    time.sleep(PAUSE_S)


def explode(ctx: Ctx) -> None:
    raise ValueError("card declined")


@pytest.mark.django_db
def test_a_successful_run_is_recorded_with_each_step_in_order_and_its_time():
    """Made to fail: the run's duration set to 0, a step's duration to 0, the steps' positions reversed."""
    before, started = timezone.now(), time.perf_counter()
    run = run_pipeline("demo", (create_family, wait_for_the_bank, add_note), Ctx())
    wall_ms = (time.perf_counter() - started) * 1000

    assert run.status == PipelineRun.Status.SUCCEEDED
    assert run.reference.startswith("family:")
    steps = list(run.steps.order_by("position"))
    assert [(s.position, s.name, s.status) for s in steps] == [
        (1, "create_family", "succeeded"),
        (2, "wait_for_the_bank", "succeeded"),
        (3, "add_note", "succeeded"),
    ]
    assert steps[1].duration_ms >= PAUSE_S * 1000  # the step that waited is timed as waiting
    assert sum(s.duration_ms for s in steps) <= run.duration_ms <= wall_ms  # the run holds its steps
    assert before <= run.started_at <= timezone.now()
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


def test_every_step_of_the_schools_pipelines_and_every_email_rebuilder_is_registered_in_any_process():
    """In a fresh process, as the web server and the worker are: the apps register their steps' titles and the
    emails' rebuilders on start. Failed before each fix: the admin showed `ensure_customer` alone (billing's
    pipeline unimported), the sweeper's steps were titled only where billing.handoffs happened to be imported,
    and the waitlist offer's steps and the welcome email's rebuilder only where enrollment's modules were."""
    from billing.handoffs import reprocess_lost_event, restart_lost_billing
    from billing.pipelines import STEPS as BILLING_STEPS
    from billing.services.dunning import retry_payment
    from enrollment.pipelines import STEPS as ENROLLMENT_STEPS
    from enrollment.pipelines import WAITLIST_OFFER_STEPS

    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from cedarheights.pipeline import STEP_TITLES; "
            "from cedarheights.emails import EMAIL_REBUILDERS; print(' '.join(STEP_TITLES), '|', *EMAIL_REBUILDERS)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cedarheights.settings.test"},
    )
    titles, rebuilders = (set(part.split()) for part in fresh.stdout.split("|"))
    steps = (*ENROLLMENT_STEPS, *WAITLIST_OFFER_STEPS, *BILLING_STEPS)
    for function in (*steps, retry_payment, restart_lost_billing, reprocess_lost_event):
        assert function.__name__ in titles, f"{function.__name__} has no @step title in a fresh process"
    assert "welcome_parent" in rebuilders
    assert step_title("assign_teacher") == "Assign a teacher (assign_teacher)"
    assert step_title("a_step_nobody_named") == "a_step_nobody_named"


def test_two_steps_of_one_code_name_with_different_titles_are_refused():
    def assign_teacher(ctx):  # the name of enrollment's step, another title
        pass

    with pytest.raises(ValueError, match="assign_teacher"):
        step("Pick somebody")(assign_teacher)
    assert step_title("assign_teacher") == "Assign a teacher (assign_teacher)"
