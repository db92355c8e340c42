"""django-q2 tasks shared by the whole project."""

from cedarheights.services import worker_heartbeat_record


def worker_heartbeat() -> None:
    """Scheduled every minute (migration 0004): proves the cluster is alive to `/health/ready`."""
    worker_heartbeat_record()
