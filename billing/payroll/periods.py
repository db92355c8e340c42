"""Where a pay period starts and ends, from the school's `pay_period` setting."""

import calendar
from datetime import date, timedelta

from cedarheights.models import SchoolSettings

Kind = SchoolSettings.PayPeriod


def period_bounds(*, day: date, kind: str) -> tuple[date, date]:
    """The period of `kind` holding `day`: Monday to Sunday, the 1st–15th or 16th–last, or the calendar month."""
    if kind == Kind.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    last = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    if kind == Kind.SEMI_MONTHLY:
        return (day.replace(day=1), day.replace(day=15)) if day.day <= 15 else (day.replace(day=16), last)
    return day.replace(day=1), last
