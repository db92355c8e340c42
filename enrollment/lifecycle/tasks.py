"""django-q2 task of the enrollment lifecycle, scheduled each morning (migration 0012_lifecycle_daily_schedule).
Idempotent: delivery is at least once."""

from enrollment.lifecycle.pauses import pauses_resume_due
from enrollment.lifecycle.withdrawals import withdrawals_complete_due


def lifecycle_daily() -> dict[str, int]:
    """Vacation pauses whose resume date came are over; withdrawals whose last lesson passed are cancelled."""
    return {"pauses_resumed": pauses_resume_due(), "withdrawals_completed": withdrawals_complete_due()}
