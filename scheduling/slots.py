"""The free-slot finder: when each teacher of an instrument could take a new lesson, and which teacher first.

`slots_free` answers the public timeslot list and the enrollment pipeline's teacher assignment. It reads each
teacher's weekly hours, the closures and the lessons already booked (cached per teacher by the schedule stamps
of scheduling/0004), and makes the free starts in the school's local time.
"""

import heapq
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from math import inf
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.db.models import F, FloatField, Func, Q
from django.db.models import Window as SqlWindow
from django.db.models.functions import Lead, RowNumber
from django.utils import timezone

from cedarheights.selectors import school_settings_get
from scheduling.local_time import days_between, local_datetime
from scheduling.models import Teacher, WeeklyAvailability
from scheduling.selectors import closed_dates, lessons_overlapping

# How long a teacher's free stretches for one range stay cached: only for memory's sake, as a changed
# schedule gets a new stamp, hence a new key.
FREE_TIME_SECONDS = 60 * 60


class Window(NamedTuple):
    """A weekly window in local wall-clock time (a tuple: the finder hashes thousands of them a request)."""

    weekday: int
    start_time: time
    end_time: time


@dataclass(frozen=True, order=True)
class Slot:
    start_at: datetime
    end_at: datetime
    teacher_id: int


class FreeSlots(Sequence[Slot]):
    """Free slots by start, then teacher id. Each teacher's starts are kept as runs of epoch seconds, made into
    datetimes only when read: counting a month's thousands of slots is a sum, and a page merges the
    teachers' runs only as far as that page."""

    def __init__(self, runs: dict[int, list[list[float]]], length: timedelta, zone: ZoneInfo):
        self._runs, self._length, self._zone = runs, length, zone
        self._count = sum(len(run) for teacher_runs in runs.values() for run in teacher_runs)
        self._everything: list[tuple[float, int]] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Slot]:
        return (self._slot(start, teacher_id) for start, teacher_id in self._all())

    def __getitem__(self, index):
        if isinstance(index, slice):
            first, stop, step = index.indices(self._count)
            if self._everything is not None or step != 1:
                picked = self._all()[index]
            else:
                picked = islice(self._merged(), first, stop)
            return [self._slot(start, teacher_id) for start, teacher_id in picked]
        position = range(self._count)[index]  # IndexError out of range, as a list's
        return self._slot(*next(islice(self._merged(), position, None)))

    def _merged(self) -> Iterator[tuple[float, int]]:
        """In order, lazily: each teacher's runs are already in order."""
        return heapq.merge(*(self._teacher_starts(teacher_id) for teacher_id in self._runs))

    def _teacher_starts(self, teacher_id: int) -> Iterator[tuple[float, int]]:
        return ((start, teacher_id) for run in self._runs[teacher_id] for start in run)

    def _all(self) -> list[tuple[float, int]]:
        """In order, all at once (a C sort beats a Python merge when every slot is read)."""
        if self._everything is None:
            self._everything = sorted(
                (start, teacher_id) for teacher_id, runs in self._runs.items() for run in runs for start in run
            )
        return self._everything

    def _slot(self, start: float, teacher_id: int) -> Slot:
        begins = datetime.fromtimestamp(start, self._zone)
        return Slot(begins, begins + self._length, teacher_id)


def _intersect(available: Sequence[Window], wanted: Sequence[Window] | None) -> list[Window]:
    if wanted is None:
        return list(available)
    return [
        Window(a.weekday, max(a.start_time, w.start_time), min(a.end_time, w.end_time))
        for a in available
        for w in wanted
        if a.weekday == w.weekday and max(a.start_time, w.start_time) < min(a.end_time, w.end_time)
    ]


class EpochSeconds(Func):
    """A datetime column as seconds since 1970 (a float): cheap to fetch and to compare in Python."""

    template = "DATE_PART('epoch', %(expressions)s)"  # a float8 already; EXTRACT makes a slower numeric
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # %%%%s: the template turns it into %%s, and Django's SQLite backend then into strftime's own %s.
        template = "CAST(strftime('%%%%s', %(expressions)s) AS REAL)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _free_stretches(
    *, teacher_ids: Sequence[int], range_start: datetime, range_end: datetime, buffer: float, shortest: float
) -> dict[int, list[tuple[float, float]]]:
    """Each teacher's free time around their lessons in a range, as sorted (from, to) epoch seconds.

    A teacher's lessons never overlap (the exclusion constraint), so the free stretches are the gaps between
    consecutive lessons, less the buffer on both sides. The database keeps only the gaps of at least `shortest`
    seconds, the first lesson (the time before it is free) and the last (the time after it): a full teacher
    gives a row or two a day, not a row per lesson. A teacher without lessons is absent: free throughout.
    """
    by_teacher = {"partition_by": F("teacher_id"), "order_by": F("start_at").asc()}
    rows = (
        lessons_overlapping(start_at=range_start, end_at=range_end)
        .filter(teacher_id__in=teacher_ids)
        .annotate(
            begins=EpochSeconds("start_at"),
            ends=EpochSeconds("end_at"),
            next_begins=SqlWindow(Lead(EpochSeconds("start_at")), **by_teacher),
            position=SqlWindow(RowNumber(), **by_teacher),
        )
        .filter(Q(position=1) | Q(next_begins__isnull=True) | Q(next_begins__gte=F("ends") + shortest + 2 * buffer))
        .order_by("teacher_id", "start_at")
        .values_list("teacher_id", "begins", "ends", "next_begins", "position")
    )
    stretches: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for teacher_id, begins, ends, next_begins, position in rows:
        if position == 1:
            stretches[teacher_id].append((-inf, begins - buffer))
        stretches[teacher_id].append((ends + buffer, inf if next_begins is None else next_begins - buffer))
    return stretches


FREE_THROUGHOUT = [(-inf, inf)]


def _free_stretches_cached(
    *,
    stamps: dict[int, int | None],
    range_start: datetime,
    range_end: datetime,
    buffer: float,
    shortest: float,
) -> dict[int, list[tuple[float, float]]]:
    """Every teacher's free stretches, from the cache where the teacher's schedule stamp is unchanged.

    The stamps were read before the lessons, so an entry may hold lessons newer than its stamp, never
    older; and a stamp is never reused (a sequence), so an entry made inside a transaction that then rolled
    back is never read. Only PostgreSQL keeps stamps (triggers); elsewhere the lessons are read every time.
    """

    def read(teacher_ids: list[int]) -> dict[int, list[tuple[float, float]]]:
        found = _free_stretches(
            teacher_ids=teacher_ids, range_start=range_start, range_end=range_end, buffer=buffer, shortest=shortest
        )
        return {teacher_id: found.get(teacher_id, FREE_THROUGHOUT) for teacher_id in teacher_ids}

    if connection.vendor != "postgresql":
        return read(list(stamps))
    span = f"{range_start.timestamp():.0f}:{range_end.timestamp():.0f}:{buffer:.0f}:{shortest:.0f}"
    keys = {teacher_id: f"free-stretches:{teacher_id}:{stamp or 0}:{span}" for teacher_id, stamp in stamps.items()}
    kept = cache.get_many(keys.values())
    free = {teacher_id: kept[key] for teacher_id, key in keys.items() if key in kept}
    if missing := [teacher_id for teacher_id in stamps if teacher_id not in free]:
        fresh = read(missing)
        cache.set_many({keys[teacher_id]: stretches for teacher_id, stretches in fresh.items()}, FREE_TIME_SECONDS)
        free.update(fresh)
    return free


def _window_starts(day: date, window: Window, length: timedelta, step: timedelta, zone: ZoneInfo) -> list[float]:
    """The start times (epoch seconds) of every slot of `length` in `window` on `day`, stepped in wall-clock time.

    Most days have one UTC offset all window long: the window's first start is converted once and the rest
    follow in seconds. On a daylight-saving day each start is converted on its own.
    """
    first = datetime.combine(day, window.start_time)
    last = datetime.combine(day, window.end_time) - length
    if last < first:
        return []
    first_aware, last_aware = local_datetime(day, first.time(), zone), local_datetime(day, last.time(), zone)
    if first_aware is not None and last_aware is not None and first_aware.utcoffset() == last_aware.utcoffset():
        origin, seconds = first_aware.timestamp(), step.total_seconds()
        return [origin + n * seconds for n in range(int((last - first) / step) + 1)]
    starts, cursor = [], first
    while cursor <= last:
        if (aware := local_datetime(day, cursor.time(), zone)) is not None:
            starts.append(aware.timestamp())
        cursor += step
    return starts


def slots_free(
    *,
    start_date: date,
    end_date: date,
    minutes: int,
    instrument_id: int | None = None,
    teacher_ids: Sequence[int] | None = None,
    windows: Sequence[Window] | None = None,
    now: datetime | None = None,
    per_teacher: int | None = None,
    notice_hours: int | None = None,
    horizon_days: int | None = None,
) -> Sequence[Slot]:
    """Free lesson slots of `minutes`, for one teacher or all teachers of an instrument, between two local dates.

    A slot lies inside the teacher's weekly availability (and inside `windows`, the family's preferred
    times, when given), on a day without a closure, at least the minimum notice from now and within the
    booking horizon, and keeps the buffer from every lesson. Times are made in the school's local zone,
    so a 16:00 slot stays 16:00 across daylight-saving changes. Sorted by start, then teacher id; with
    `per_teacher`, only each teacher's earliest that many. `notice_hours` and `horizon_days` replace the
    school's booking notice and horizon (make-ups have their own).
    """
    school = school_settings_get()
    zone = school.zone
    now = now or timezone.now()
    earliest = now + timedelta(hours=school.minimum_notice_hours if notice_hours is None else notice_hours)
    horizon = school.booking_horizon_days if horizon_days is None else horizon_days
    start_date = max(start_date, earliest.astimezone(zone).date())
    end_date = min(end_date, (now.astimezone(zone) + timedelta(days=horizon)).date())
    if end_date < start_date or minutes <= 0:
        return []

    teachers = Teacher.objects.filter(active=True)
    if instrument_id is not None:
        teachers = teachers.filter(instruments=instrument_id)
    if teacher_ids is not None:
        teachers = teachers.filter(id__in=teacher_ids)
    # The stamps are read before the lessons (see _free_stretches_cached).
    stamps = dict(teachers.order_by().values_list("id", "schedule__stamp"))
    ids = list(stamps)
    if not ids:
        return []

    availability: dict[int, list[Window]] = defaultdict(list)
    for teacher_id, weekday, start, end in (
        WeeklyAvailability.objects.filter(teacher_id__in=ids)
        .order_by()
        .values_list("teacher_id", "weekday", "start_time", "end_time")
    ):
        availability[teacher_id].append(Window(weekday, start, end))

    closed = closed_dates(teacher_ids=ids, start_date=start_date, end_date=end_date)
    buffer = timedelta(minutes=school.buffer_minutes)
    length, step = timedelta(minutes=minutes), timedelta(minutes=school.slot_step_minutes)
    length_seconds, earliest_seconds = length.total_seconds(), earliest.timestamp()
    free = _free_stretches_cached(
        stamps=stamps,
        range_start=datetime.combine(start_date, time.min, tzinfo=zone) - buffer,
        range_end=datetime.combine(end_date + timedelta(days=1), time.min, tzinfo=zone) + buffer,
        buffer=buffer.total_seconds(),
        shortest=length_seconds,
    )
    # Teachers mostly share their weekly hours: a window's starts on a day are worked out once for all of them.
    starts_on: dict[tuple[date, Window], list[float]] = {}
    open_days: dict[int, list[date]] = defaultdict(list)  # weekday → the days the school is open, in order
    for day in days_between(start_date, end_date):
        if day not in closed[None]:
            open_days[day.weekday()].append(day)

    def free_runs(teacher_id: int) -> list[list[float]]:
        """The teacher's free starts as runs, earliest first, each start once (a teacher's windows may overlap);
        with `per_teacher`, only the earliest that many."""
        stretches = free[teacher_id]
        stretch_ends = [to for _, to in stretches]
        by_weekday: dict[int, list[Window]] = defaultdict(list)
        for window in _intersect(availability[teacher_id], windows):
            by_weekday[window.weekday].append(window)
        runs: list[list[float]] = []
        left = per_teacher if per_teacher is not None else inf
        away = closed.get(teacher_id, set())
        for day in sorted(day for weekday in by_weekday for day in open_days[weekday]):
            if left <= 0:
                break
            if day in away:
                continue
            day_windows = by_weekday[day.weekday()]
            today: list[list[float]] = []
            for window in day_windows:
                if (starts := starts_on.get((day, window))) is None:
                    starts = starts_on[day, window] = _window_starts(day, window, length, step, zone)
                if not starts:
                    continue
                # The stretches that can hold a slot starting inside this window, in order.
                at = bisect_left(stretch_ends, starts[0] + length_seconds)
                while at < len(stretches) and stretches[at][0] <= starts[-1]:
                    since, until = stretches[at]
                    if run := starts[
                        bisect_left(starts, max(since, earliest_seconds)) : bisect_right(starts, until - length_seconds)
                    ]:
                        today.append(run)
                    at += 1
            if len(day_windows) > 1 and today:
                today = [sorted({start for run in today for start in run})]
            for run in today:
                if len(run) > left:
                    run = run[: int(left)]
                runs.append(run)
                left -= len(run)
                if left <= 0:
                    break
        return runs

    return FreeSlots({teacher_id: free_runs(teacher_id) for teacher_id in ids}, length, zone)
