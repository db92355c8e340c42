"""django-q2 tasks for enrollment. Each is idempotent: delivery is at least once."""

from enrollment import credit_reminders


def makeup_credits_daily() -> dict[str, int]:
    """Scheduled each morning (migration 0009): expired credits get their line, then families are reminded."""
    run = credit_reminders.makeup_credits_daily()
    return {"expired": run.expired, "reminded": run.reminded}
