"""Lesson outcomes (issue 15, §1–2): what each outcome means, the family's notice window on the school's clock across
a DST change, sick passes, a teacher's cancellation and the owner's substitute, and an outcome recorded once.

Dates are relative to today: the DST transitions are the next ones of America/Toronto, found with zoneinfo.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_settings_get
from scheduling.errors import LessonConflict, NoSickPassLeft
from scheduling.models import Lesson, TeacherCancellation
from scheduling.outcomes import FLAGS, CreditRule, Outcome
from scheduling.selectors import cancellation_notice_given
from scheduling.services import (
    family_cancellation_outcome,
    lesson_create,
    lesson_outcome_set,
    lesson_status_change,
    lesson_teacher_cancel,
    teacher_cancellation_decide,
)
from scheduling.signals import lesson_outcome_changed
from tests.factories import ParentFactory, StudentFactory, TeacherFactory, TermFactory, UserFactory
from tests.scheduling.monday import TORONTO

pytestmark = pytest.mark.django_db

HALF_HOUR = timedelta(minutes=30)


def book(teacher, student, start: datetime, **fields) -> Lesson:
    return lesson_create(
        teacher=teacher, student=student, start_at=start, end_at=start + HALF_HOUR, check_availability=False, **fields
    )


def hours_from_now(hours: float) -> datetime:
    return timezone.now() + timedelta(hours=hours)


@pytest.fixture
def owner(school):
    return UserFactory(role="admin", is_staff=True)


@pytest.fixture
def family(school):
    """A parent, their child, and the child's teacher."""
    parent = ParentFactory()
    return parent, StudentFactory(family=parent.family), TeacherFactory()


# --- What each outcome means -------------------------------------------------------------------------------------

# The policies' table (../shared/notes/school-policies.md), written out: delivered, charged on a flat plan, charged
# per lesson, teacher paid, make-up credit; and the status the lesson shows.
TABLE = {
    "attended": (True, True, True, True, "none", "completed"),
    "cancelled_with_notice": (False, True, False, False, "capped", "cancelled"),
    "late_cancel": (False, True, True, True, "none", "cancelled"),
    "late_cancel_sick": (False, True, False, True, "sick_pass", "cancelled"),
    "no_show": (False, True, True, True, "none", "no_show"),
    "teacher_cancelled": (False, True, False, False, "uncapped", "cancelled"),
    "school_closed": (False, True, False, False, "uncapped", "cancelled"),
    "released": (False, False, False, False, "none", "cancelled"),  # the school's own work: nothing at all
}


def test_the_table_names_every_outcome_once():
    assert set(TABLE) == set(FLAGS) == set(Outcome.values)


@pytest.mark.parametrize("outcome", list(TABLE))
def test_each_outcome_has_the_policies_flags_and_gives_its_status(family, owner, outcome):
    *flags, status = TABLE[outcome]
    _, student, teacher = family
    lesson = book(teacher, student, hours_from_now(-0.25))  # started: attendance may be taken

    recorded = lesson_outcome_set(lesson=lesson, outcome=outcome, actor=owner)

    meaning = FLAGS[outcome]
    assert [meaning.delivered, meaning.charged_flat, meaning.charged_per_lesson, meaning.teacher_paid] == flags[:4]
    assert meaning.credit == CreditRule(flags[4]) and meaning.issues_credit is (flags[4] != "none")
    stored = Lesson.objects.get(pk=lesson.pk)
    assert (stored.outcome, stored.status) == (recorded.outcome, recorded.status) == (outcome, status)
    assert (stored.outcome_set_by, stored.cancelled_by is not None) == (owner, status == "cancelled")


@pytest.mark.postgres
def test_the_database_refuses_a_status_that_does_not_follow_the_outcome(family):
    _, student, teacher = family
    lesson = book(teacher, student, hours_from_now(48))

    with pytest.raises(IntegrityError, match="lesson_status_follows_outcome"), transaction.atomic():
        Lesson.objects.filter(pk=lesson.pk).update(status=Lesson.Status.COMPLETED)  # the outcome still ""
    with pytest.raises(IntegrityError, match="lesson_status_follows_outcome"), transaction.atomic():
        Lesson.objects.filter(pk=lesson.pk).update(outcome=Outcome.NO_SHOW, status=Lesson.Status.COMPLETED)


# --- The notice window, on the school's clock ---------------------------------------------------------------------


def dst_transitions(after: datetime, count: int) -> list[datetime]:
    """The next `count` instants after `after` when Toronto's UTC offset changes (they fall on whole UTC hours)."""
    found, hour = [], after.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    offset = hour.astimezone(TORONTO).utcoffset()
    while len(found) < count:
        hour += timedelta(hours=1)
        if (now_offset := hour.astimezone(TORONTO).utcoffset()) != offset:
            found.append(hour)
            offset = now_offset
    return found


def on_the_clock(after: datetime, hours: float) -> datetime:
    """`hours` later on Toronto's wall clock, whatever the time elapsed."""
    local = after.astimezone(TORONTO).replace(tzinfo=None)
    return (local + timedelta(hours=hours)).replace(tzinfo=TORONTO)


# The next two transitions: one springs forward and one falls back, whatever the season the test runs in.
NEXT_TWO = dst_transitions(datetime.now(UTC), 2)


@pytest.mark.parametrize("transition", NEXT_TWO, ids=["next DST change", "the one after"])
def test_the_notice_window_is_measured_back_from_the_start_on_the_schools_clock_across_a_dst_change(school, transition):
    """Made to fail first: measured in elapsed hours, a lesson 23 clock hours after a fall-back evening (24 hours
    elapsed) had notice, and one 24 clock hours after a spring-forward evening (23 hours elapsed) had none."""
    assert school_settings_get().cancellation_notice_hours == 24
    now = transition - timedelta(hours=1)  # the hour before the clocks change
    by_the_clock = {hours: on_the_clock(now, hours) for hours in (23, 23.99, 24, 25)}
    # Given lessons whose clock time and elapsed time from "now" differ by the hour the clocks move
    assert {by_the_clock[23] - now, by_the_clock[25] - now} in (
        {timedelta(hours=22), timedelta(hours=24)},  # spring forward
        {timedelta(hours=24), timedelta(hours=26)},  # fall back
    )

    given = {hours: cancellation_notice_given(start_at=start, now=now) for hours, start in by_the_clock.items()}

    assert given == {23: False, 23.99: False, 24: True, 25: True}


@pytest.mark.parametrize(("hours", "outcome"), [(23, Outcome.LATE_CANCEL), (25, Outcome.CANCELLED_WITH_NOTICE)])
def test_a_familys_cancellation_is_late_inside_the_window_and_with_notice_before_it(family, hours, outcome):
    parent, student, teacher = family
    lesson = book(teacher, student, on_the_clock(timezone.now(), hours))

    assert family_cancellation_outcome(lesson=lesson) == outcome
    cancelled = lesson_status_change(lesson=lesson, status=Lesson.Status.CANCELLED, actor=parent, reason="flu")

    assert (cancelled.outcome, cancelled.cancelled_by, cancelled.cancellation_reason) == (outcome, parent, "flu")


# --- Sick passes --------------------------------------------------------------------------------------------------


def test_two_sick_passes_a_term_then_the_third_late_cancel_is_refused_one(family):
    parent, student, teacher = family
    today = timezone.localdate()
    term = TermFactory(start_date=today - timedelta(days=30), end_date=today + timedelta(days=60))
    assert school_settings_get().sick_passes_per_term == 2
    lessons = [book(teacher, student, hours_from_now(hours), term=term) for hours in (2, 4, 6)]  # inside the window

    for lesson in lessons[:2]:
        lesson_outcome_set(lesson=lesson, outcome=Outcome.LATE_CANCEL_SICK, actor=parent)
    with pytest.raises(NoSickPassLeft) as refused:
        lesson_outcome_set(lesson=lessons[2], outcome=Outcome.LATE_CANCEL_SICK, actor=parent)

    assert refused.value.code == "no_sick_pass_left" and "use_sick_pass" in refused.value.fields
    assert Lesson.objects.get(pk=lessons[2].pk).outcome == ""
    # Still a late cancellation without one, and a brother's passes are his own
    assert lesson_outcome_set(lesson=lessons[2], outcome=Outcome.LATE_CANCEL, actor=parent).outcome == "late_cancel"
    brother = book(teacher, StudentFactory(family=parent.family), hours_from_now(8), term=term)
    assert lesson_outcome_set(lesson=brother, outcome=Outcome.LATE_CANCEL_SICK, actor=parent).status == "cancelled"


# --- A teacher's cancellation and the owner's answer ----------------------------------------------------------------


def owner_emails() -> list:
    return [message for message in mail.outbox if message.to == [school_settings_get().contact_email]]


def test_a_teacher_cancels_with_a_reason_once_the_owner_hears_once(family, django_capture_on_commit_callbacks):
    _, student, teacher = family
    lesson = book(teacher, student, hours_from_now(72))

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = lesson_teacher_cancel(lesson=lesson, actor=teacher.user, reason="Flu")
    with django_capture_on_commit_callbacks(execute=True):
        lesson_teacher_cancel(lesson=lesson, actor=teacher.user, reason="Still flu")  # sent twice

    assert (cancelled.outcome, cancelled.cancellation_reason, cancelled.cancelled_by) == (
        Outcome.TEACHER_CANCELLED,
        "Flu",
        teacher.user,
    )
    [reported] = TeacherCancellation.objects.all()
    assert (reported.lesson, reported.teacher, reported.reason, reported.decision) == (
        lesson,
        teacher,
        "Flu",
        "pending",
    )
    [email] = owner_emails()
    assert "Flu" in email.body and str(student) in email.subject


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_teacher_cancellation_needs_a_reason(family, reason, django_capture_on_commit_callbacks):
    _, student, teacher = family
    lesson = book(teacher, student, hours_from_now(72))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidInput) as refused:
        lesson_teacher_cancel(lesson=lesson, actor=teacher.user, reason=reason)

    assert list(refused.value.fields) == ["reason"]
    assert Lesson.objects.get(pk=lesson.pk).outcome == ""
    assert not TeacherCancellation.objects.exists() and not owner_emails()


def test_a_cancel_sent_again_after_the_owners_answer_asks_nothing_more(
    family, owner, django_capture_on_commit_callbacks
):
    """Made to fail first: the repeated cancel found no pending record and made a new one, emailing the owner."""
    _, student, teacher = family
    lesson = book(teacher, student, hours_from_now(72))
    with django_capture_on_commit_callbacks(execute=True):
        first = TeacherCancellation.objects.get(
            lesson=lesson_teacher_cancel(lesson=lesson, actor=teacher.user, reason="Flu")
        )
    teacher_cancellation_decide(cancellation=first, actor=owner, substitute=None)

    with django_capture_on_commit_callbacks(execute=True):
        lesson_teacher_cancel(lesson=lesson, actor=teacher.user, reason="Flu")

    assert list(TeacherCancellation.objects.values_list("decision", flat=True)) == ["credit"]
    assert len(owner_emails()) == 1


def test_the_owners_substitute_reopens_the_lesson_with_them(family, owner):
    _, student, teacher = family
    lesson = book(teacher, student, hours_from_now(72))
    lesson_teacher_cancel(lesson=lesson, actor=teacher.user, reason="Flu")
    substitute = TeacherFactory()

    decided = teacher_cancellation_decide(
        cancellation=TeacherCancellation.objects.get(lesson=lesson), actor=owner, substitute=substitute
    )

    assert (decided.decision, decided.substitute, decided.decided_by) == ("substitute", substitute, owner)
    kept = Lesson.objects.get(pk=lesson.pk)
    assert (kept.outcome, kept.status, kept.teacher, kept.cancelled_at) == ("", "scheduled", substitute, None)
    reopened = AuditEvent.objects.filter(object_type__model="lesson", object_id=str(lesson.pk)).order_by("pk")
    assert reopened[1].changes == {"outcome": ["teacher_cancelled", ""], "teacher": [str(teacher), str(substitute)]}


def test_the_substitute_is_another_teacher_who_is_free_then(family, owner):
    _, student, teacher = family
    lesson = book(teacher, student, hours_from_now(72))
    lesson_teacher_cancel(lesson=lesson, actor=teacher.user, reason="Flu")
    cancellation = TeacherCancellation.objects.get(lesson=lesson)
    busy = TeacherFactory()
    theirs = book(busy, StudentFactory(), lesson.start_at)

    with pytest.raises(InvalidInput) as same:
        teacher_cancellation_decide(cancellation=cancellation, actor=owner, substitute=teacher)
    with pytest.raises(LessonConflict) as taken:
        teacher_cancellation_decide(cancellation=cancellation, actor=owner, substitute=busy)

    assert list(same.value.fields) == ["substitute"] and taken.value.conflicting_lesson_id == theirs.pk
    assert TeacherCancellation.objects.get(pk=cancellation.pk).decision == "pending"
    stays = Lesson.objects.get(pk=lesson.pk)
    assert (stays.outcome, stays.teacher) == (Outcome.TEACHER_CANCELLED, teacher)


# --- Once -------------------------------------------------------------------------------------------------------


def test_an_outcome_set_twice_is_recorded_and_told_once(family):
    _, student, teacher = family
    lesson = book(teacher, student, hours_from_now(-0.25))
    told = []

    def listener(sender, lesson, previous, actor, **kwargs):
        told.append((previous, lesson.outcome))

    lesson_outcome_changed.connect(listener)
    try:
        first = lesson_outcome_set(lesson=lesson, outcome=Outcome.ATTENDED, actor=teacher.user)
        again = lesson_outcome_set(lesson=lesson, outcome=Outcome.ATTENDED, actor=teacher.user)
    finally:
        lesson_outcome_changed.disconnect(listener)

    assert told == [("", "attended")]
    events = AuditEvent.objects.filter(object_type__model="lesson", object_id=str(lesson.pk))
    assert [event.changes for event in events] == [{"outcome": ["", "attended"]}]
    assert again.outcome_set_at == first.outcome_set_at
