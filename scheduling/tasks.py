"""django-q2 tasks for scheduling. Each is idempotent: delivery is at least once."""

from scheduling.attendance import attendance_reminders_send


def attendance_reminders() -> int:
    """Scheduled hourly (migration 0011): the teachers' reminders of lessons left unmarked."""
    return attendance_reminders_send()
