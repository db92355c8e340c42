"""django-q2 tasks for scheduling. Each is idempotent: delivery is at least once."""

from scheduling.attendance import attendance_reminders_send
from scheduling.reminders import reminders_send


def attendance_reminders() -> int:
    """Scheduled hourly (migration 0011): the teachers' reminders of lessons left unmarked."""
    return attendance_reminders_send()


def reminders() -> int:
    """Scheduled every 15 minutes (migration 0015): the evening's reminders and the cancellation-window nudges."""
    return reminders_send()
