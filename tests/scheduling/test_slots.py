"""The free-slot finder at its edges and across daylight-saving changes in America/Toronto.

Fixed dates on purpose: the finder is given its `now`, so what it answers is a pure function of the dates
here (real DST transitions among them), and a date in the past tests exactly what it tested when it was new.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cedarheights.services import school_settings_update
from scheduling.models import Lesson
from scheduling.services import lesson_create, lesson_status_change
from scheduling.slots import Window, slots_free
from tests.factories import AvailabilityFactory, ClosureFactory, InstrumentFactory, StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")
MONDAY = 0


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=TORONTO)


def local_starts(slots, day: date | None = None) -> list[str]:
    return [
        f"{s.start_at.astimezone(TORONTO):%H:%M}"
        for s in slots
        if day is None or s.start_at.astimezone(TORONTO).date() == day
    ]


@pytest.fixture
def monday_teacher(school):
    teacher = TeacherFactory()
    AvailabilityFactory(teacher=teacher, weekday=MONDAY, start_time="16:00", end_time="17:00")
    return teacher


def test_slots_lie_inside_the_availability_window(monday_teacher):
    # Given a Monday 16:00–17:00 window and a week ahead
    now = at(date(2026, 11, 26), "09:00")
    # When 30-minute slots are asked for
    slots = slots_free(
        teacher_ids=[monday_teacher.pk], start_date=date(2026, 11, 30), end_date=date(2026, 11, 30), minutes=30, now=now
    )
    # Then they start on the 15-minute grid and none runs past 17:00 or starts before 16:00
    assert local_starts(slots) == ["16:00", "16:15", "16:30"]
    assert all(s.end_at - s.start_at == timedelta(minutes=30) for s in slots)


def test_a_lesson_longer_than_the_window_gets_no_slot(monday_teacher):
    now = at(date(2026, 11, 26), "09:00")
    assert (
        list(
            slots_free(
                teacher_ids=[monday_teacher.pk],
                start_date=date(2026, 11, 30),
                end_date=date(2026, 11, 30),
                minutes=75,
                now=now,
            )
        )
        == []
    )
    assert local_starts(
        slots_free(
            teacher_ids=[monday_teacher.pk],
            start_date=date(2026, 11, 30),
            end_date=date(2026, 11, 30),
            minutes=60,
            now=now,
        )
    ) == ["16:00"]


def test_a_school_closure_removes_the_day_for_everyone_and_a_teacher_closure_for_one(school):
    piano = InstrumentFactory(name="Piano")
    first, second = TeacherFactory(instruments=[piano]), TeacherFactory(instruments=[piano])
    for teacher in (first, second):
        AvailabilityFactory(teacher=teacher, weekday=MONDAY, start_time="16:00", end_time="16:30")
    now = at(date(2026, 11, 26), "09:00")
    week1, week2 = date(2026, 11, 30), date(2026, 12, 7)
    ClosureFactory(reason="Snow day", start_date=week1)
    ClosureFactory(reason="Conference", start_date=week2, teacher=first)

    slots = slots_free(instrument_id=piano.pk, start_date=week1, end_date=week2, minutes=30, now=now)

    assert [(s.start_at.astimezone(TORONTO).date(), s.teacher_id) for s in slots] == [(week2, second.pk)]


def test_the_buffer_keeps_free_time_around_existing_lessons(school):
    teacher = TeacherFactory()
    AvailabilityFactory(teacher=teacher, weekday=MONDAY, start_time="15:00", end_time="18:00")
    day, now = date(2026, 11, 30), at(date(2026, 11, 26), "09:00")
    lesson_create(teacher=teacher, student=StudentFactory(), start_at=at(day, "16:00"), end_at=at(day, "16:30"))

    def starts():
        return local_starts(slots_free(teacher_ids=[teacher.pk], start_date=day, end_date=day, minutes=30, now=now))

    assert "15:30" in starts() and "16:30" in starts()  # back to back is fine without a buffer
    assert "16:00" not in starts() and "15:45" not in starts() and "16:15" not in starts()
    school_settings_update(school_settings=school, buffer_minutes=10)
    with_buffer = starts()
    assert "15:15" in with_buffer and "15:30" not in with_buffer  # 15:30–16:00 leaves no 10 minutes
    assert "16:30" not in with_buffer and "16:45" in with_buffer


def test_a_cancelled_lesson_frees_its_slot(monday_teacher):
    day, now = date(2026, 11, 30), at(date(2026, 11, 26), "09:00")
    lesson = lesson_create(
        teacher=monday_teacher, student=StudentFactory(), start_at=at(day, "16:00"), end_at=at(day, "16:30")
    )
    assert "16:00" not in local_starts(
        slots_free(teacher_ids=[monday_teacher.pk], start_date=day, end_date=day, minutes=30, now=now)
    )
    lesson_status_change(lesson=lesson, status=Lesson.Status.CANCELLED, actor=None, reason="sick")
    assert "16:00" in local_starts(
        slots_free(teacher_ids=[monday_teacher.pk], start_date=day, end_date=day, minutes=30, now=now)
    )


@pytest.mark.parametrize(
    ("now_hhmm", "expected"),
    [("11:00", ["16:00", "16:15", "16:30"]), ("11:01", ["16:15", "16:30"]), ("11:30", ["16:30"]), ("11:31", [])],
)
def test_minimum_notice_is_counted_to_the_minute(school, monday_teacher, now_hhmm, expected):
    school_settings_update(school_settings=school, minimum_notice_hours=5)
    day = date(2026, 11, 30)
    slots = slots_free(teacher_ids=[monday_teacher.pk], start_date=day, end_date=day, minutes=30, now=at(day, now_hhmm))
    assert local_starts(slots) == expected


def test_nothing_is_offered_past_the_booking_horizon(school, monday_teacher):
    school_settings_update(school_settings=school, booking_horizon_days=14)
    now = at(date(2026, 11, 26), "09:00")
    slots = slots_free(
        teacher_ids=[monday_teacher.pk], start_date=date(2026, 11, 26), end_date=date(2027, 3, 1), minutes=60, now=now
    )
    assert sorted({s.start_at.astimezone(TORONTO).date() for s in slots}) == [date(2026, 11, 30), date(2026, 12, 7)]


def test_the_familys_windows_narrow_the_slots(monday_teacher):
    day, now = date(2026, 11, 30), at(date(2026, 11, 26), "09:00")
    slots = slots_free(
        teacher_ids=[monday_teacher.pk],
        start_date=day,
        end_date=day,
        minutes=30,
        now=now,
        windows=[Window(MONDAY, time(16, 30), time(19, 0))],
    )
    assert local_starts(slots) == ["16:30"]
    assert (
        list(
            slots_free(
                teacher_ids=[monday_teacher.pk],
                start_date=day,
                end_date=day,
                minutes=30,
                now=now,
                windows=[Window(1, time(16, 0), time(19, 0))],
            )
        )
        == []
    )


@pytest.mark.parametrize(
    ("now_day", "before", "after"),
    [
        (date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 9)),  # spring forward, 8 March 2026
        (date(2026, 10, 25), date(2026, 10, 26), date(2026, 11, 2)),  # fall back, 1 November 2026
        (date(2027, 3, 7), date(2027, 3, 8), date(2027, 3, 15)),  # spring forward, 14 March 2027
        (date(2027, 10, 31), date(2027, 11, 1), date(2027, 11, 8)),  # fall back, 7 November 2027
    ],
)
def test_a_16_00_slot_stays_16_00_local_across_daylight_saving(monday_teacher, now_day, before, after):
    slots = slots_free(
        teacher_ids=[monday_teacher.pk], start_date=before, end_date=after, minutes=30, now=at(now_day, "09:00")
    )
    first_of_each_day = {}
    for slot in slots:
        first_of_each_day.setdefault(slot.start_at.astimezone(TORONTO).date(), slot.start_at)
    assert set(first_of_each_day) == {before, after}
    for start in first_of_each_day.values():
        assert start.astimezone(TORONTO).time() == time(16, 0)
    # The wall clock stayed put, so the instant in UTC moved by exactly the hour the clocks changed.
    offsets = [first_of_each_day[d].astimezone(TORONTO).utcoffset() for d in (before, after)]
    assert abs(offsets[0] - offsets[1]) == timedelta(hours=1)


# Lessons as (minutes after 22:00 on the Sunday, length in minutes, cancelled): a 4-hour lesson from Sunday night
# reaches into Monday, the edge of the finder's bounded search for lessons.
lesson_draws = st.lists(
    st.tuples(st.integers(0, 22 * 60), st.sampled_from([15, 30, 45, 60, 120, 240]), st.booleans()), max_size=16
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    per_teacher=st.lists(lesson_draws, min_size=1, max_size=3),
    buffer=st.sampled_from([0, 10, 15, 30]),
    minutes=st.sampled_from([30, 45, 60]),
)
def test_the_finder_offers_exactly_the_times_a_direct_check_finds_free(school, per_teacher, buffer, minutes):
    # Given teachers free on Mondays 00:00–03:00 and 13:00–20:00, with random lessons
    school_settings_update(school_settings=school, buffer_minutes=buffer)
    day, now = date(2026, 11, 30), at(date(2026, 11, 26), "09:00")
    origin = at(day, "00:00") - timedelta(hours=2)
    booked: dict[int, list[tuple[datetime, datetime]]] = {}
    for draws in per_teacher:
        teacher, student = TeacherFactory(), StudentFactory()
        AvailabilityFactory(teacher=teacher, weekday=MONDAY, start_time="00:00", end_time="03:00")
        AvailabilityFactory(teacher=teacher, weekday=MONDAY, start_time="13:00", end_time="20:00")
        lessons, kept = [], []
        for offset, length, cancelled in draws:
            start, end = origin + timedelta(minutes=offset), origin + timedelta(minutes=offset + length)
            if not cancelled and any(s < end and e > start for s, e in kept):
                continue  # the database refuses a teacher's overlapping lessons
            if not cancelled:
                kept.append((start, end))
            lessons.append(
                Lesson(
                    teacher=teacher,
                    student=student,
                    start_at=start,
                    end_at=end,
                    outcome=Lesson.Outcome.RELEASED if cancelled else "",
                    status=Lesson.Status.CANCELLED if cancelled else Lesson.Status.SCHEDULED,
                    cancelled_at=now if cancelled else None,
                )
            )
        Lesson.objects.bulk_create(lessons)
        booked[teacher.pk] = kept

    # When the finder looks for free slots on that Monday
    found = slots_free(teacher_ids=list(booked), start_date=day, end_date=day, minutes=minutes, now=now)

    # Then it offers every start on the 15-minute grid of a window that keeps the buffer from each lesson
    gap, length = timedelta(minutes=buffer), timedelta(minutes=minutes)
    expected = sorted(
        (start, teacher_id)
        for teacher_id, kept in booked.items()
        for first, last in (("00:00", "03:00"), ("13:00", "20:00"))
        for step in range(0, 24 * 4)
        for start in (at(day, first) + timedelta(minutes=15 * step),)
        if start + length <= at(day, last) and all(not (s - gap < start + length and e + gap > start) for s, e in kept)
    )
    assert [(s.start_at, s.teacher_id) for s in found] == expected
    # And a fresh answer counts them and pages through them in that order, each page merged on its own
    fresh = slots_free(teacher_ids=list(booked), start_date=day, end_date=day, minutes=minutes, now=now)
    assert len(fresh) == len(expected)
    pages = [fresh[first : first + 3] for first in range(0, len(expected) + 3, 3)]
    assert [(s.start_at, s.teacher_id) for page in pages for s in page] == expected
    if expected:
        assert (fresh[-1].start_at, fresh[-1].teacher_id) == expected[-1]
    # And asked for each teacher's earliest two, it gives those
    earliest_two = slots_free(
        teacher_ids=list(booked), start_date=day, end_date=day, minutes=minutes, now=now, per_teacher=2
    )
    assert [(s.start_at, s.teacher_id) for s in earliest_two] == sorted(
        slot for teacher_id in booked for slot in [e for e in expected if e[1] == teacher_id][:2]
    )


def test_overlapping_windows_offer_each_time_once_and_the_earliest_first(school):
    # Given a teacher with three overlapping Monday windows on different grids, busy until 16:05
    teacher = TeacherFactory()
    for start, end in (("16:00", "17:00"), ("16:10", "17:10"), ("16:30", "17:00")):
        AvailabilityFactory(teacher=teacher, weekday=MONDAY, start_time=start, end_time=end)
    day, now = date(2026, 11, 30), at(date(2026, 11, 26), "09:00")
    lesson_create(
        teacher=teacher,
        student=StudentFactory(),
        start_at=at(day, "15:50"),
        end_at=at(day, "16:05"),
        check_availability=False,
    )
    ask = {"teacher_ids": [teacher.pk], "start_date": day, "end_date": day, "minutes": 30, "now": now}

    # Then every free start shows once, in order, and the first one is the second window's 16:10
    assert local_starts(slots_free(**ask)) == ["16:10", "16:15", "16:25", "16:30", "16:40"]
    assert local_starts(slots_free(**ask, per_teacher=1)) == ["16:10"]
