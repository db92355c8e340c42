"""The school's months and weeks as the owner's figures count them: local days in the school's zone, each period
with its first day, the day after its last, and the two as aware local midnights, so a query compares stored
instants with the school's own midnight (a payment at 23:30 on the 31st in Toronto is that month's)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    first: date  # its first day
    after: date  # the day after its last
    zone: ZoneInfo

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.first, self.zone)

    @property
    def end_at(self) -> datetime:
        return local_midnight(self.after, self.zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` begins in `zone` (the one definition: scheduling's selectors and payroll import it)."""
    return datetime.combine(day, time.min, tzinfo=zone)


def percent_of(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent to one decimal; None when there is no whole to speak of."""
    return round(100 * part / whole, 1) if whole else None


def month_first(day: date) -> date:
    return day.replace(day=1)


def month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def months_back(*, today: date, count: int, zone: ZoneInfo) -> list[Period]:
    """The `count` months up to and including today's, oldest first."""
    months = [month_first(today)]
    while len(months) < count:
        months.insert(0, month_first(months[0] - timedelta(days=1)))
    return [Period(first, month_after(first), zone) for first in months]


def weeks_back(*, today: date, count: int, zone: ZoneInfo) -> list[Period]:
    """The `count` weeks (Monday to Sunday) up to and including today's, oldest first."""
    monday = today - timedelta(days=today.weekday())
    return [
        Period(start, start + timedelta(days=7), zone)
        for start in (monday - timedelta(weeks=back) for back in range(count - 1, -1, -1))
    ]


def day_period(day: date, zone: ZoneInfo) -> Period:
    return Period(day, day + timedelta(days=1), zone)


def year_before(day: date) -> date:
    """The same day a year earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)
