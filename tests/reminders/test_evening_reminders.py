"""The evening reminders (issue 16 §3): from the owner's reminder time until midnight, each parent gets one email
listing all of the family's lessons of the next local day, each teacher their agenda; nobody without lessons gets
one, nobody gets two, whoever turned theirs off gets none. Local days and times hold across midnight and the next
real DST changes of America/Toronto (found from today, so the tests never expire)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ReminderPreference
from accounts.services import reminder_preferences_set
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from scheduling.models import Lesson
from scheduling.reminders import lessons_tomorrow_send, reminders_send
from scheduling.services import lesson_status_change, teacher_update
from tests.factories import ParentFactory, RoomFactory, StudentFactory, TeacherFactory
from tests.reminders.helpers import book, day_from_today, local, second_parent, sent
from tests.scheduling.test_outcomes import NEXT_TWO, TORONTO

pytestmark = pytest.mark.django_db

TODAY, TOMORROW = day_from_today(0), day_from_today(1)
EVENING = local(TODAY, 17)


def test_a_family_with_three_children_gets_exactly_one_email_per_parent_listing_them_all(week):
    """Made to fail: keyed per lesson instead of per parent and day, each parent got three emails."""
    other_parent = second_parent(week.parent.family)
    children = [week.student, *StudentFactory.create_batch(2, family=week.parent.family)]
    lessons = [book(week, local(TOMORROW, 15 + n), student=child) for n, child in enumerate(children)]
    neighbour = ParentFactory()
    theirs = book(week, local(TOMORROW, 19), student=StudentFactory(family=neighbour.family))

    for moment in (EVENING, EVENING + timedelta(minutes=15), local(TODAY, 23, 59)):
        reminders_send(now=moment)

    emails = sent("lessons_tomorrow")
    assert sorted(email.recipient for email in emails) == sorted(
        [week.parent.email, other_parent.email, neighbour.email]
    )
    [ours] = sent("lessons_tomorrow", to=week.parent.email)
    for child, lesson in zip(children, lessons, strict=True):
        assert child.first_name in ours.text_body and child.first_name in ours.subject
        assert f"/family/lessons/{lesson.pk}/" in ours.text_body and f"/family/lessons/{lesson.pk}/" in ours.html_body
        assert f"{lesson.start_at.astimezone(TORONTO):%-I:%M %p}" in ours.text_body
    assert f"/family/lessons/{theirs.pk}/" not in ours.text_body
    assert f"{week.teacher}" in ours.text_body and str(week.student.instrument) in ours.text_body
    assert "/accounts/profile/#reminders" in ours.text_body and "/accounts/profile/#reminders" in ours.html_body


def test_running_again_sends_nothing_twice(week):
    book(week, local(TOMORROW, 16))

    first = reminders_send(now=EVENING)
    again = [reminders_send(now=EVENING + timedelta(minutes=15 * n)) for n in range(1, 4)]

    assert first == 2  # the parent's and the teacher's
    assert again == [0, 0, 0]


def test_nothing_before_the_owners_reminder_time_and_everything_from_it(week):
    book(week, local(TOMORROW, 16))
    school_settings_update(school_settings=school_settings_get(), reminder_time="19:30")

    assert reminders_send(now=local(TODAY, 19, 29)) == 0
    assert reminders_send(now=local(TODAY, 19, 30)) == 2


def test_a_teacher_gets_their_agenda_and_a_teacher_without_lessons_or_inactive_none(week):
    regular = book(week, local(TOMORROW, 16), room=RoomFactory(name="Studio B"))
    demo = book(week, local(TOMORROW, 17), student=StudentFactory(), kind=Lesson.Kind.DEMO)
    lesson_status_change(lesson=book(week, local(TOMORROW, 18)), status="cancelled", actor=None)
    idle, gone = TeacherFactory(), TeacherFactory()
    book(week, local(TOMORROW, 16), teacher=gone, student=StudentFactory())
    teacher_update(teacher=gone, active=False)

    reminders_send(now=EVENING)

    [agenda] = sent("teaching_tomorrow")
    assert agenda.recipient == week.teacher.user.email
    assert f"{regular.student.first_name} {regular.student.last_name}" in agenda.text_body
    assert "Studio B" in agenda.text_body and "demo lesson" in agenda.text_body
    assert f"/teach/lessons/{regular.pk}/" in agenda.text_body and f"/teach/lessons/{demo.pk}/" in agenda.html_body
    assert agenda.text_body.count("/teach/lessons/") == 2  # the cancelled lesson is not on the day
    assert not sent("teaching_tomorrow", to=idle.user.email)


def test_a_family_whose_only_lesson_tomorrow_is_cancelled_gets_none(week):
    lesson_status_change(lesson=book(week, local(TOMORROW, 18)), status="cancelled", actor=week.parent)

    reminders_send(now=EVENING)

    assert not sent("lessons_tomorrow")


def test_the_cancel_rule_is_given_while_a_cancellation_still_earns_a_credit(week):
    """24 hours' notice: at 17:00 a lesson tomorrow at 16:00 is inside the window, one at 18:00 is not yet."""
    book(week, local(TOMORROW, 16))
    book(week, local(TOMORROW, 18), student=StudentFactory(family=week.parent.family))

    reminders_send(now=EVENING)

    [email] = sent("lessons_tomorrow")
    assert email.text_body.count("Cancel by") == 1
    assert f"Cancel by {local(TODAY, 18):%A} 6:00 PM for a make-up credit" in email.text_body


def test_each_person_decides_for_themselves(week):
    other_parent = second_parent(week.parent.family)
    reminder_preferences_set(
        user=week.parent, choices={ReminderPreference.Kind.LESSONS_TOMORROW: False}, actor=week.parent
    )
    reminder_preferences_set(
        user=week.teacher.user,
        choices={ReminderPreference.Kind.TEACHING_TOMORROW: False},
        actor=week.teacher.user,
    )
    book(week, local(TOMORROW, 16))

    reminders_send(now=EVENING)

    assert [email.recipient for email in sent("lessons_tomorrow")] == [other_parent.email]
    assert not sent("teaching_tomorrow")


def test_the_preferences_are_read_in_one_query_whoever_many_families(week):
    for hour in range(14, 20):
        family_parent = ParentFactory()
        book(week, local(TOMORROW, hour), student=StudentFactory(family=family_parent.family))

    with CaptureQueriesContext(connection) as queries:
        queued = lessons_tomorrow_send(now=EVENING)

    assert queued == 6
    assert sum("accounts_reminderpreference" in query["sql"] for query in queries.captured_queries) == 1


def test_midnight_a_lesson_at_0015_is_in_the_evening_email_before_its_day(week):
    """Made to fail: with tomorrow taken as the 24 hours after the run, tonight's 23:45 was listed and tomorrow's
    23:45 was not."""
    early = book(week, local(TOMORROW, 0, 15))
    late = book(week, local(TOMORROW, 23, 45))
    tonight = book(week, local(TODAY, 23, 45), student=StudentFactory(family=week.parent.family))
    after = book(week, local(day_from_today(2), 0, 15))

    reminders_send(now=EVENING)
    reminders_send(now=local(TOMORROW, 0, 5))  # past midnight: the evening is over, nothing goes late

    [email] = sent("lessons_tomorrow")
    assert {f"/family/lessons/{lesson.pk}/" in email.text_body for lesson in (early, late)} == {True}
    assert {f"/family/lessons/{lesson.pk}/" in email.text_body for lesson in (tonight, after)} == {False}


def test_a_worker_back_before_midnight_still_sends_the_evening(week):
    book(week, local(TOMORROW, 16))

    assert reminders_send(now=local(TODAY, 23, 59)) == 2


@pytest.mark.parametrize("transition", NEXT_TWO, ids=["next DST change", "the one after"])
def test_the_day_of_a_dst_change_has_its_own_lessons_and_its_own_reminder_time(week, transition):
    """The day the clocks change lasts 23 or 25 hours. Made to fail: with the next day's range as 24 hours after
    local midnight, a spring day took Monday's 00:15 and a fall day lost its 23:45."""
    day = transition.astimezone(TORONTO).date()
    first = book(week, local(day, 0, 15))
    last = book(week, local(day, 23, 45))
    next_day = book(week, local(day + timedelta(days=1), 0, 15))

    reminders_send(now=local(day - timedelta(days=1), 17))

    [email] = sent("lessons_tomorrow")
    assert f"/family/lessons/{first.pk}/" in email.text_body and f"/family/lessons/{last.pk}/" in email.text_body
    assert f"/family/lessons/{next_day.pk}/" not in email.text_body
    # On the day itself, 17:00 is 17:00 on the new clock: not an hour early or late.
    assert reminders_send(now=local(day, 16, 59)) == 0
    assert reminders_send(now=local(day, 17)) == 2
    assert f"/family/lessons/{next_day.pk}/" in sent("lessons_tomorrow")[-1].text_body
