"""A fixed Monday and wall-clock times on it in Toronto, for the lesson services' tests.

Fixed on purpose: these services never read the clock (no notice period is enforced here), so a Monday in the
past books, clashes and generates a term exactly as it did in the future.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

TORONTO = ZoneInfo("America/Toronto")
MONDAY = date(2026, 11, 30)


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=TORONTO)
