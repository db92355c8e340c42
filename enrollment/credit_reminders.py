"""Telling a family before a make-up credit runs out, and the school's daily run of the credits (expiry, then
these reminders) that django-q2 starts each morning (enrollment/tasks.py).

A usable credit (unused, not held until the tuition is paid) is reminded 14 days before its expiry and again 3 days
before, each once: the email's key names the credit, the reminder and the expiry date, so a credit the owner extends
is reminded again for its new date. A day the job missed is caught up on the next run (the 14-day reminder goes
while 4 to 14 days are left, the 3-day one while 0 to 3 are).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from cedarheights.emails import email_parents
from cedarheights.selectors import school_today
from enrollment.credits import credits_with_balance, makeup_credits_expire
from enrollment.models import MakeupCredit

REMINDER_DAYS = (3, 14)  # days before expiry, nearest first


@dataclass(frozen=True)
class CreditsDailyRun:
    expired: int
    reminded: int


def reminder_due(*, expires_on: date, today: date) -> int | None:
    """Which reminder (days before expiry) a credit expiring on `expires_on` is due today, if any."""
    days_left = (expires_on - today).days
    return next((days for days in REMINDER_DAYS if 0 <= days_left <= days), None)


def makeup_credit_reminders_send(*, today: date | None = None) -> int:
    """Email the parents of every usable credit whose 14- or 3-day reminder is due and not sent yet; the number of
    emails queued."""
    today = today or school_today()
    due = (
        credits_with_balance(
            MakeupCredit.objects.filter(
                held_until_paid=False, expires_on__gte=today, expires_on__lte=today + timedelta(days=max(REMINDER_DAYS))
            )
        )
        .filter(balance=1)
        .select_related("instrument", "enrollment__student__family", "missed_lesson")
        .prefetch_related("enrollment__student__family__parents")
    )
    queued = 0
    for credit in due:
        days = reminder_due(expires_on=credit.expires_on, today=today)
        student = credit.enrollment.student
        queued += len(
            email_parents(
                family=student.family,
                template="credit_expiring",
                dedupe_key=f"credit-expiring:{credit.pk}:{days}:{credit.expires_on.isoformat()}",
                related=credit,
                context={"credit": credit, "student": student, "days_left": (credit.expires_on - today).days},
            )
        )
    return queued


def makeup_credits_daily(*, today: date | None = None) -> CreditsDailyRun:
    """The morning's work: credits past their expiry expire first, so no reminder goes for a credit that is gone."""
    today = today or school_today()
    return CreditsDailyRun(
        expired=makeup_credits_expire(today=today), reminded=makeup_credit_reminders_send(today=today)
    )
