"""The one small runner behind the enrollment and billing pipelines.

A pipeline is a tuple of named steps, each `step(ctx) -> None`. The runner calls them in order,
times each, and records a PipelineRun with its StepRuns. With `atomic=True` it owns the durable
transaction: a successful run's record commits with the work; a failed run's record is written
after the rollback, so the owner sees every failure and the work leaves no rows. When that write fails because
the database is unavailable, the step's error still reaches the caller, the failure is logged as one JSON line
(logger `cedarheights.pipeline`) and its record is kept in memory and written, marked late, with the next run.
"""

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from cedarheights.models import PipelineRun, StepRun
from cedarheights.outage import outage_errors

Step = Callable[[Any], None]
logger = logging.getLogger("cedarheights.pipeline")

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
    *,
    pipeline: str,
    reference: str,
    started_at,
    started: float,
    steps: list[StepRun],
    error: BaseException | None,
    written_late: list[PipelineRun],
) -> PipelineRun:
    """Write the run and its steps, all or nothing; its note names the kept runs written just before it."""
    failed = steps[-1] if error is not None and steps and steps[-1].status == StepRun.Status.FAILED else None
    run = PipelineRun(
        pipeline=pipeline,
        reference=reference,
        status=PipelineRun.Status.FAILED if error is not None else PipelineRun.Status.SUCCEEDED,
        failed_step=failed.name if failed else "",
        error="" if error is None else f"{type(error).__name__}: {error}",
        started_at=started_at,
        duration_ms=(time.perf_counter() - started) * 1000,
        note=_written_late_note(written_late),
    )
    try:
        _write(run, steps)
    except outage_errors() as unavailable:
        if error is None:
            raise  # a successful run's record is written with its work: nothing to keep, the work is gone too
        _keep(run, steps, unavailable)
    return run


def _write(run: PipelineRun, steps: list[StepRun]) -> None:
    # No savepoint: inside a run's own transaction a failed write fails the run whole (nothing to roll back to);
    # a failed run's record and the kept runs are written outside any transaction, in one of their own.
    with transaction.atomic(savepoint=False):
        run.save()
        for step in steps:
            step.run = run
        StepRun.objects.bulk_create(steps)


def run_pipeline(
    pipeline: str, steps: Sequence[Step], ctx: Any, *, reference: str = "", atomic: bool = True
) -> PipelineRun:
    """Run `steps` on `ctx`; record the run; re-raise whatever a step raised.

    `atomic=True` runs every step in one durable transaction (it refuses to run inside another);
    `atomic=False` leaves each step to commit its own work (steps that call Stripe).
    """
    started_at, started = timezone.now(), time.perf_counter()
    written_late = _kept_runs_write()
    done: list[StepRun] = []
    step_error: Exception | None = None
    try:
        with transaction.atomic(durable=True) if atomic else nullcontext():
            for position, step in enumerate(steps, start=1):
                step_started = time.perf_counter()
                try:
                    step(ctx)
                except Exception as error:
                    step_error = error
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
                written_late=written_late,
            )
    except Exception as error:
        # When a step lost the database, leaving the transaction reconnects (Django restores autocommit) and raises
        # "connection refused" while the database is still down: the step's own error is the one that says what
        # happened, and the one the caller must get.
        failure = step_error or error
        for step in done:  # rows of a rolled-back attempt must be inserted afresh
            step.pk = None
        _record(
            pipeline=pipeline,
            reference=reference_of(ctx, reference),
            started_at=started_at,
            started=started,
            steps=done,
            error=failure,
            written_late=written_late + _kept_runs_write(),
        )
        if failure is error:
            raise  # even when its record had to be kept for later
        raise failure from None  # the reconnect's "connection refused" only repeats it, worse


# Failed runs whose record could not be written because the database was unavailable (PostgreSQL restarting, the
# connection terminated), oldest first. The next run this process records writes them first, marked late. Bounded,
# so a long outage cannot grow the process; each was also logged as one JSON line, which is what remains of them
# if the process dies before the database is back.
KEPT_RUNS_LIMIT = 100
_kept_runs: deque[tuple[PipelineRun, list[StepRun]]] = deque()
_kept_runs_lock = threading.Lock()  # a threaded web server shares the queue between requests


def _keep(run: PipelineRun, steps: list[StepRun], unavailable: BaseException) -> None:
    unavailable_at = timezone.now()
    run.pk = None
    for step in steps:
        step.pk = None
    run.note = " ".join(
        filter(None, [f"Recorded late: the database was unavailable at {_shown(unavailable_at)}.", run.note])
    )
    with _kept_runs_lock:
        kept = len(_kept_runs) < KEPT_RUNS_LIMIT
        if kept:
            _kept_runs.append((run, steps))
    logger.error(
        json.dumps(
            {
                "event": "pipeline_run_not_recorded",
                "pipeline": run.pipeline,
                "reference": run.reference,
                "status": run.status,
                "failed_step": run.failed_step,
                "error": run.error,
                "started_at": run.started_at.isoformat(),
                "failed_at": unavailable_at.isoformat(),
                "recording_error": f"{type(unavailable).__name__}: {unavailable}".strip(),
                "kept_for_later": kept,
            }
        )
    )


def _kept_runs_write() -> list[PipelineRun]:
    """Write the kept runs, each in its own transaction, so they stay whatever the next run does; return them.

    Never raises: while the database is still unavailable they stay kept. Inside a caller's transaction they wait
    too, since that transaction could still roll them back.
    """
    written: list[PipelineRun] = []
    while _kept_runs and not transaction.get_connection().in_atomic_block:
        with _kept_runs_lock:
            if not _kept_runs:
                break
            run, steps = _kept_runs.popleft()
        try:
            _write(run, steps)
        except outage_errors():
            run.pk = None
            for step in steps:
                step.pk = None
            with _kept_runs_lock:
                _kept_runs.appendleft((run, steps))
            break
        written.append(run)
    return written


def _written_late_note(runs: list[PipelineRun]) -> str:
    if not runs:
        return ""
    named = "; ".join(f"#{run.pk} {run.pipeline} {run.reference} failed at {run.failed_step or '?'}" for run in runs)
    return f"Written with this run, late ({len(runs)} kept while the database was unavailable): {named}."


def _shown(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


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
