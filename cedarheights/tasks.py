"""django-q2 tasks shared by the whole project, and the worker's own signals."""

import inspect
import json
import logging
import re

from django.conf import settings
from django_q.utils import get_func_repr

from cedarheights import outbox
from cedarheights.services import worker_heartbeat_record

logger = logging.getLogger("cedarheights.tasks")


def worker_heartbeat() -> None:
    """Scheduled every minute (migration 0004): proves the cluster is alive to `/health/ready`."""
    worker_heartbeat_record()


def worker_started(sender, proc_name: str, **kwargs) -> None:
    """django-q2's `post_spawn`: a worker process is up. Its first scheduled beat would come only when the
    cluster's scheduler first runs, half a minute after start; beating now makes `/health/ready` true at once.
    Inline tasks (`sync`, in tests) are no worker."""
    if not settings.Q_CLUSTER.get("sync"):
        worker_heartbeat_record()


def task_outbox_relay() -> int:
    """Scheduled every minute (migration 0010): relays outbox rows a crash left between commit and relay."""
    return outbox.task_outbox_relay()


def task_failure_log(sender, func, task: dict, **kwargs) -> None:
    """django-q2's `post_execute_in_worker`: a failed task, as one JSON line from the worker itself.

    django-q2 records the failure in its database table, which cannot be written while the database is what
    failed; this line can. The task is not lost either way: a failed task is never acknowledged, so the ORM
    broker hands it out again once its claim expires (Q_RETRY), up to `max_attempts`. Inline tasks (`sync`, in
    tests) raise to their caller instead and carry no result here.
    """
    if task.get("success", True):
        return
    logger.error(
        json.dumps(
            {
                "event": "task_failed",
                "task": get_func_repr(task["func"]),
                "task_id": task["id"],
                "task_name": task["name"],
                "reference": _task_reference(func, task["args"], task["kwargs"]),
                "error": _task_error(task["result"]),
                "failed_at": task["stopped"].isoformat(),
            }
        )
    )


def _task_reference(func, args: tuple, kwargs: dict) -> dict:
    """The task's ids (`email_log_id`, `subscription_id`), never its other arguments: an email's body holds links."""
    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):  # not a function, or called with arguments it does not take
        return {}
    return {name: value for name, value in bound.arguments.items() if name.endswith("_id")}


def _task_error(result: str) -> str:
    """`OperationalError: the message` from django-q2's "<message> : <traceback>" result."""
    message, _, trace = str(result).partition(" : Traceback (most recent call last):")
    first_line = message.splitlines()[0] if message else ""
    raised = re.findall(rf"^(?:[\w.]+\.)?(\w+): {re.escape(first_line)}$", trace, re.MULTILINE)
    return f"{raised[-1]}: {message}" if raised else message
