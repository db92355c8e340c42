"""The cancellation-window nudge (issue 16 §3): six hours before a lesson's free-cancellation window closes (counted
on the school's clock, as `cancellation_notice_given` counts), each parent gets one email per local day of closing,
listing every lesson of the family whose window closes that day and is still open. None for a lesson booked after
its nudge was due, none for a cancelled one, none while the owner has them off or for whoever turned theirs off.

The lessons are booked now, days ahead, and the job is run at chosen moments after that (`now=`)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import ReminderPreference
from accounts.services import reminder_preferences_set
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.makeups import lesson_cancel_by_family
from scheduling.models import Lesson
from scheduling.reminders import cancel_window_nudges_send, reminders_send
from tests.factories import StudentFactory
from tests.reminders.helpers import book, day_from_today, local, second_parent, sent
from tests.scheduling.test_outcomes import TORONTO, dst_transitions, on_the_clock

pytestmark = pytest.mark.django_db


def test_the_nudge_goes_six_hours_before_the_window_closes_and_once(week):
    lesson = book(week, local(day_from_today(3), 16))
    other_parent = second_parent(week.parent.family)
    closing_day = day_from_today(2)  # 24 hours' notice: the window closes then at 16:00, the nudge is due at 10:00

    assert reminders_send(now=local(closing_day, 9, 59)) == 0
    assert reminders_send(now=local(closing_day, 10)) == 2
    assert [reminders_send(now=local(closing_day, hour, minute)) for hour, minute in ((10, 15), (15, 45), (16, 0))] == [
        0,
        0,
        0,
    ]

    emails = sent("cancel_window")
    assert sorted(email.recipient for email in emails) == sorted([week.parent.email, other_parent.email])
    started = lesson.start_at.astimezone(TORONTO)
    for email in emails:
        assert f"If {week.student.first_name} can't come on {started:%A %-d %B} at 4:00 PM" in email.text_body
        assert f"cancel by {local(closing_day, 16):%A %-d %B}, 4:00 PM for a make-up credit" in email.text_body
        assert f"/family/lessons/{lesson.pk}/" in email.text_body and f"/family/lessons/{lesson.pk}/" in email.html_body
        assert "/accounts/profile/#reminders" in email.text_body
        assert email.dedupe_key.startswith("cancel-window:") and email.dedupe_key.endswith(closing_day.isoformat())


def test_after_the_window_closed_nothing_goes_late(week):
    book(week, local(day_from_today(3), 16))

    assert reminders_send(now=local(day_from_today(2), 16, 1)) == 0  # the worker was down from 09:00 to 16:01


def test_none_for_a_lesson_booked_after_its_nudge_was_due(week):
    """Booked inside the nudge's six hours: the family chose the time knowing the window (the policies' note)."""
    now = timezone.now().replace(second=0, microsecond=0)
    late_booking = book(week, on_the_clock(now, 24 + 3))  # its window closes in 3 hours: its nudge was due 3 hours ago
    in_time = book(week, on_the_clock(now, 24 + 7), student=StudentFactory(family=week.parent.family))

    cancel_window_nudges_send(now=now)
    cancel_window_nudges_send(now=on_the_clock(now, 1.25))  # the second lesson's nudge is due

    [email] = sent("cancel_window")
    assert f"/family/lessons/{in_time.pk}/" in email.text_body
    assert f"/family/lessons/{late_booking.pk}/" not in email.text_body


def test_one_email_per_day_of_closing_listing_every_lesson_closing_that_day(week):
    sister = StudentFactory(family=week.parent.family)
    morning = book(week, local(day_from_today(3), 10))
    evening = book(week, local(day_from_today(3), 18), student=sister)
    next_day = book(week, local(day_from_today(4), 10))
    demo = book(week, local(day_from_today(3), 12), student=sister, kind=Lesson.Kind.DEMO)

    first = cancel_window_nudges_send(now=local(day_from_today(2), 4))
    noon = cancel_window_nudges_send(now=local(day_from_today(2), 12))  # the evening lesson's own moment
    second = cancel_window_nudges_send(now=local(day_from_today(3), 4))

    assert (first, noon, second) == (1, 0, 1)
    day_one, day_two = sent("cancel_window")
    assert {f"/family/lessons/{lesson.pk}/" in day_one.text_body for lesson in (morning, evening)} == {True}
    assert {f"/family/lessons/{lesson.pk}/" in day_one.text_body for lesson in (next_day, demo)} == {False}
    assert f"/family/lessons/{next_day.pk}/" in day_two.text_body  # a demo lesson earns no credit: never listed


def test_none_for_a_cancelled_lesson(week):
    lesson = book(week, local(day_from_today(3), 16))
    lesson_cancel_by_family(lesson=lesson, actor=week.parent)

    assert cancel_window_nudges_send(now=local(day_from_today(2), 10)) == 0


@pytest.mark.parametrize(
    "settings_change", [{"cancel_window_reminder": False}, {"cancellation_notice_hours": 0}], ids=["off", "no window"]
)
def test_the_owner_turns_the_nudges_off_and_a_school_without_notice_has_none(week, settings_change):
    book(week, local(day_from_today(3), 16))
    school_settings_update(school_settings=school_settings_get(), **settings_change)

    for hour in range(24):
        assert cancel_window_nudges_send(now=local(day_from_today(2), hour)) == 0


def test_a_parent_who_turned_the_nudges_off_gets_none_and_the_other_parent_does(week):
    other_parent = second_parent(week.parent.family)
    reminder_preferences_set(
        user=week.parent, choices={ReminderPreference.Kind.CANCEL_WINDOW: False}, actor=week.parent
    )
    book(week, local(day_from_today(3), 16))

    cancel_window_nudges_send(now=local(day_from_today(2), 10))

    assert [email.recipient for email in sent("cancel_window")] == [other_parent.email]


# DST changes at least three days ahead: the lessons are booked before their nudges are due.
DST_AHEAD = dst_transitions(datetime.now(UTC) + timedelta(days=3), 2)


@pytest.mark.parametrize("transition", DST_AHEAD, ids=["next DST change", "the one after"])
def test_across_a_dst_change_the_window_and_its_nudge_are_counted_on_the_schools_clock(week, transition):
    """A lesson at 16:00 the day the clocks change: its window closes at 16:00 the day before (23 or 25 hours
    earlier), its nudge is due at 10:00. Made to fail: counted in elapsed hours, the nudge went at 09:00 before a
    spring change and at 11:00 before a fall one."""
    day = transition.astimezone(TORONTO).date()
    lesson = book(week, local(day, 16))
    eve = day - timedelta(days=1)

    assert cancel_window_nudges_send(now=local(eve, 9)) == 0
    assert cancel_window_nudges_send(now=local(eve, 9, 59)) == 0
    assert cancel_window_nudges_send(now=local(eve, 10)) == 1
    [email] = sent("cancel_window")
    assert f"cancel by {local(eve, 16):%A %-d %B}, 4:00 PM" in email.text_body
    assert f"/family/lessons/{lesson.pk}/" in email.text_body
