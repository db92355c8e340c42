"""django-q2 tasks shared by the whole project."""

from django.conf import settings

from cedarheights import outbox
from cedarheights.services import worker_heartbeat_record


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
    """Scheduled every minute (migration 0008): relays outbox rows a crash left between commit and relay."""
    return outbox.task_outbox_relay()
