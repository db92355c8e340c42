"""The one small runner behind the enrollment and billing pipelines.

A pipeline is a tuple of named steps, each `step(ctx) -> None`. The runner calls them in order,
times each, and records a PipelineRun with its StepRuns. With `atomic=True` it owns the durable
transaction: a successful run's record commits with the work; a failed run's record is written
after the rollback, so the owner sees every failure and the work leaves no rows.
"""

import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from django.db import transaction
from django.utils import timezone

from cedarheights.models import PipelineRun, StepRun

Step = Callable[[Any], None]

# Each step's name as the owner reads it, keyed by its code name; filled by `@step` as the apps load, so
# the admin shows "Validate enrollment (validate_enrollment)" without knowing the apps above it.
STEP_TITLES: dict[str, str] = {}


def step(title: str) -> Callable[[Step], Step]:
    """Name a pipeline step for people: `@step("Assign a teacher")` above `def assign_teacher(ctx)`."""

    def register(function: Step) -> Step:
        if STEP_TITLES.setdefault(function.__name__, title) != title:
            raise ValueError(f"Two pipeline steps are named {function.__name__}")
        return function

    return register


def step_title(name: str) -> str:
    """`Validate enrollment (validate_enrollment)`; a step without a title shows its code name."""
    return f"{STEP_TITLES[name]} ({name})" if name in STEP_TITLES else name


def _record(
    *, pipeline: str, reference: str, started_at, started: float, steps: list[StepRun], error: BaseException | None
) -> PipelineRun:
    failed = steps[-1] if error is not None and steps and steps[-1].status == StepRun.Status.FAILED else None
    run = PipelineRun.objects.create(
        pipeline=pipeline,
        reference=reference,
        status=PipelineRun.Status.FAILED if error is not None else PipelineRun.Status.SUCCEEDED,
        failed_step=failed.name if failed else "",
        error="" if error is None else f"{type(error).__name__}: {error}",
        started_at=started_at,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
    for step in steps:
        step.run = run
    StepRun.objects.bulk_create(steps)
    return run


def run_pipeline(
    pipeline: str, steps: Sequence[Step], ctx: Any, *, reference: str = "", atomic: bool = True
) -> PipelineRun:
    """Run `steps` on `ctx`; record the run; re-raise whatever a step raised.

    `atomic=True` runs every step in one durable transaction (it refuses to run inside another);
    `atomic=False` leaves each step to commit its own work (steps that call Stripe).
    """
    started_at, started = timezone.now(), time.perf_counter()
    done: list[StepRun] = []
    try:
        with transaction.atomic(durable=True) if atomic else nullcontext():
            for position, step in enumerate(steps, start=1):
                step_started = time.perf_counter()
                try:
                    step(ctx)
                except Exception as error:
                    done.append(_step_run(position, step, step_started, error))
                    raise
                done.append(_step_run(position, step, step_started, None))
            # Inside the transaction: the record of a successful run exists exactly when its work does.
            return _record(
                pipeline=pipeline,
                reference=reference_of(ctx, reference),
                started_at=started_at,
                started=started,
                steps=done,
                error=None,
            )
    except Exception as error:
        for step in done:  # rows of a rolled-back attempt must be inserted afresh
            step.pk = None
        _record(
            pipeline=pipeline,
            reference=reference_of(ctx, reference),
            started_at=started_at,
            started=started,
            steps=done,
            error=error,
        )
        raise


def reference_of(ctx: Any, default: str) -> str:
    """The run's reference: the caller's, else what the context says it is about once it knows."""
    return default or str(getattr(ctx, "reference", "") or "")


def _step_run(position: int, step: Step, started: float, error: BaseException | None) -> StepRun:
    return StepRun(
        position=position,
        name=step.__name__,
        status=StepRun.Status.FAILED if error is not None else StepRun.Status.SUCCEEDED,
        duration_ms=(time.perf_counter() - started) * 1000,
        error="" if error is None else f"{type(error).__name__}: {error}",
    )
