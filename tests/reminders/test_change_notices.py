"""Change notices (issue 16 §3): a change less than 48 hours before a lesson (a new time, another teacher, a
cancellation) emails the family's parents and the teacher at once, never the person who made it; a service that
emails the family about that very change itself leaves them out (the teacher is still told). A lesson booked less
than 48 hours ahead by someone else tells its teacher, once. Not a reminder: no preference stops it.

The services read the real clock: lessons are placed relative to now (`week.lesson_in`)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ReminderPreference, User
from accounts.services import reminder_preferences_set
from enrollment.credits import makeup_credit_grant
from enrollment.makeups import lesson_cancel_by_family, makeup_book, makeup_slots_offer
from scheduling.change_notices import LessonBefore, lesson_change_notices_queue
from scheduling.closures import school_day_close
from scheduling.outcomes import Outcome
from scheduling.services import (
    lesson_change,
    lesson_outcome_set,
    lesson_reschedule,
    teacher_cancellation_create,
    teacher_cancellation_decide,
)
from tests.factories import RoomFactory, StudentFactory, TeacherFactory, UserFactory
from tests.reminders.helpers import book, second_parent, sent
from tests.scheduling.test_outcomes import TORONTO

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(school) -> User:
    return UserFactory(role=User.Role.ADMIN, is_staff=True)


def when(moment) -> str:
    return f"{moment.astimezone(TORONTO):%a %-d %b, %-I:%M %p}"


def recipients() -> list[str]:
    return sorted(email.recipient for email in sent("lesson_changed"))


@pytest.mark.parametrize(("hours", "emailed"), [(47, True), (49, False)], ids=["T-47h", "T-49h"])
def test_a_cancellation_47_hours_ahead_is_emailed_and_49_hours_ahead_is_not(week, owner, hours, emailed):
    other_parent = second_parent(week.parent.family)
    lesson = week.lesson_in(hours=hours)

    lesson_change(lesson=lesson, actor=owner, status="cancelled", reason="Snow day")

    expected = sorted([week.parent.email, other_parent.email, week.teacher.user.email]) if emailed else []
    assert recipients() == expected
    for email in sent("lesson_changed"):
        assert "cancelled: Snow day" in email.subject and "cancelled: Snow day" in email.text_body


@pytest.mark.parametrize(("hours", "emailed"), [(47, True), (49, False)], ids=["T-47h", "T-49h"])
def test_a_move_an_hour_later_47_hours_ahead_is_emailed_and_49_hours_ahead_is_not(week, owner, hours, emailed):
    lesson = week.lesson_in(hours=hours)
    was = lesson.start_at

    moved = lesson_change(lesson=lesson, actor=owner, start_at=was + timedelta(hours=1), check_availability=False)

    assert len(sent("lesson_changed")) == (2 if emailed else 0)
    if emailed:
        [family] = sent("lesson_changed", to=week.parent.email)
        assert f"moved from {when(was)} to {when(moved.start_at)}" in family.subject
        assert (
            f"/family/lessons/{lesson.pk}/" in family.text_body and f"/family/lessons/{lesson.pk}/" in family.html_body
        )
        [teacher] = sent("lesson_changed", to=week.teacher.user.email)
        assert f"/teach/lessons/{lesson.pk}/" in teacher.text_body and "/family/" not in teacher.text_body
        assert str(week.student) in teacher.subject  # the teacher reads the child's full name


def test_a_lesson_moved_from_next_week_into_tomorrow_is_emailed(week, owner):
    lesson = week.lesson_in(hours=24 * 7)
    tomorrow = lesson.start_at - timedelta(days=6)

    lesson_change(lesson=lesson, actor=owner, start_at=tomorrow, check_availability=False)

    assert recipients() == sorted([week.parent.email, week.teacher.user.email])
    assert f"moved from {when(lesson.start_at)} to {when(tomorrow)}" in sent("lesson_changed")[0].text_body


def test_a_lesson_moved_from_tomorrow_to_next_week_is_emailed_too(week, owner):
    lesson = week.lesson_in(hours=30)

    lesson_change(lesson=lesson, actor=owner, start_at=lesson.start_at + timedelta(days=7), check_availability=False)

    assert len(sent("lesson_changed")) == 2


def test_attendance_marks_never_email(week):
    started = week.lesson_in(hours=-0.25)

    lesson_outcome_set(lesson=started, outcome=Outcome.ATTENDED, actor=week.teacher.user)
    lesson_outcome_set(lesson=started, outcome=Outcome.NO_SHOW, actor=week.teacher.user)

    assert not sent("lesson_changed")


def test_a_familys_own_cancellation_tells_the_teacher_only(week):
    """The family gets the cancellation's own email (with its credit); the other parent is not told twice."""
    second_parent(week.parent.family)
    lesson = week.lesson_in(hours=30)

    lesson_cancel_by_family(lesson=lesson, actor=week.parent, reason="Flu")

    assert recipients() == [week.teacher.user.email]
    assert "cancelled: Flu" in sent("lesson_changed")[0].text_body
    assert len(sent("lesson_cancelled")) == 2


def test_a_teachers_cancellation_and_the_substitute_tell_the_teachers_and_not_the_family_twice(week, owner):
    substitute = TeacherFactory()
    lesson = week.lesson_in(hours=30)

    cancellation = teacher_cancellation_create(lesson=lesson, actor=week.teacher.user, reason="Ill")
    assert not sent("lesson_changed")  # the teacher did it; the family has `teacher_cancelled_family`

    teacher_cancellation_decide(cancellation=cancellation, actor=owner, substitute=substitute)

    assert recipients() == sorted([week.teacher.user.email, substitute.user.email])
    change = f"now with {substitute} instead of {week.teacher}"
    assert all(change in email.text_body and "back on" in email.text_body for email in sent("lesson_changed"))
    [new_teacher] = sent("lesson_changed", to=substitute.user.email)
    assert f"/teach/lessons/{lesson.pk}/" in new_teacher.text_body
    [old_teacher] = sent("lesson_changed", to=week.teacher.user.email)
    assert f"/teach/lessons/{lesson.pk}/" not in old_teacher.text_body  # no longer theirs: their week instead
    assert len(sent("teacher_cancelled_family")) == len(sent("teacher_substitute_family")) == 1


def test_a_teachers_cancellation_recorded_by_the_owner_tells_the_teacher(week, owner):
    lesson = week.lesson_in(hours=30)

    lesson_change(lesson=lesson, actor=owner, outcome=Outcome.TEACHER_CANCELLED, reason="Called in sick")

    assert recipients() == [week.teacher.user.email]


def test_a_closed_day_tells_the_teachers_and_the_family_gets_the_closing_email_only(week, owner):
    lesson = week.lesson_in(hours=30)

    school_day_close(day=lesson.start_at.astimezone(TORONTO).date(), reason="Ice storm", actor=owner)

    assert recipients() == [week.teacher.user.email]
    assert "cancelled: Ice storm" in sent("lesson_changed")[0].text_body
    assert len(sent("school_closed")) == 1


def test_the_person_who_made_the_change_is_not_told_and_no_preference_stops_the_others(week, owner):
    for kind in (ReminderPreference.Kind.LESSONS_TOMORROW, ReminderPreference.Kind.CANCEL_WINDOW):
        reminder_preferences_set(user=week.parent, choices={kind: False}, actor=week.parent)
    lesson = week.lesson_in(hours=20)

    lesson_reschedule(
        lesson=lesson,
        start_at=lesson.start_at + timedelta(minutes=30),
        actor=week.teacher.user,
        check_availability=False,
    )

    assert recipients() == [week.parent.email]


def test_each_revision_is_told_once(week, owner):
    lesson = week.lesson_in(hours=30)
    start = lesson.start_at
    lesson_change(lesson=lesson, actor=owner, start_at=start + timedelta(hours=1), check_availability=False)
    moved = lesson_change(lesson=lesson, actor=owner, start_at=start + timedelta(hours=2), check_availability=False)

    again = lesson_change_notices_queue(lesson=moved, before=LessonBefore.of(lesson), actor=owner)

    assert again == 0
    assert len(sent("lesson_changed", to=week.parent.email)) == 2  # two moves, two notices
    assert {email.dedupe_key for email in sent("lesson_changed")} == {
        f"lesson-changed:{lesson.pk}:{revision}:{user.pk}"
        for revision in (1, 2)
        for user in (week.parent, week.teacher.user)
    }


def test_a_room_change_alone_is_not_told(week, owner):
    lesson = week.lesson_in(hours=30)

    lesson_change(lesson=lesson, actor=owner, room=RoomFactory(), check_availability=False)

    assert not sent("lesson_changed")


def test_a_lesson_booked_within_48_hours_by_the_owner_tells_its_teacher_once(week, owner):
    soon = timezone.now() + timedelta(hours=30)
    booked = book(week, soon.replace(second=0, microsecond=0), actor=owner)
    book(week, soon + timedelta(days=3), actor=owner)  # far enough ahead: the teacher reads it in their week
    book(week, soon + timedelta(hours=2), student=StudentFactory(), actor=week.teacher.user)  # their own booking
    book(week, soon + timedelta(hours=4), student=StudentFactory())  # the school's own work (an enrollment)

    [email] = sent("lesson_changed")
    assert email.recipient == week.teacher.user.email and email.dedupe_key == f"lesson-booked:{booked.pk}"
    assert f"newly booked for {when(booked.start_at)}" in email.text_body
    assert f"/teach/lessons/{booked.pk}/" in email.text_body


def test_a_makeup_a_family_books_for_tomorrow_tells_the_teacher(week, owner):
    credit = makeup_credit_grant(enrollment=week.enrollment, actor=owner, reason="Snow day", goodwill=True)
    offer = next(o for o in makeup_slots_offer(credit=credit) if o.start_at < timezone.now() + timedelta(hours=48))

    makeup = makeup_book(credit=credit, teacher=offer.teacher, start_at=offer.start_at, actor=week.parent)

    [email] = sent("lesson_changed")
    assert email.recipient == week.teacher.user.email and "(make-up)" in email.text_body
    assert f"/teach/lessons/{makeup.pk}/" in email.text_body
    assert len(sent("makeup_booked")) == 1


def test_the_notice_for_a_cancelled_lesson_says_when_it_was(week, owner):
    lesson = week.lesson_in(hours=10)

    lesson_change(lesson=lesson, actor=owner, status="cancelled")

    [family] = sent("lesson_changed", to=week.parent.email)
    assert "cancelled: cancelled with notice" in family.text_body
    assert f"It was on {lesson.start_at.astimezone(TORONTO):%A %-d %B, %-I:%M %p}" in family.text_body
