"""Local wall-clock times in the school's zone: what a weekly lesson is, whatever the UTC offset that day."""

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_datetime(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """`day` at wall-clock `at` in `zone`; None when that time does not exist (the spring-forward gap)."""
    aware = datetime.combine(day, at, tzinfo=zone)
    if aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != aware.replace(tzinfo=None):
        return None
    return aware


def days_between(start: date, end: date) -> Iterator[date]:
    """Every date from `start` to `end`, both included."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)
