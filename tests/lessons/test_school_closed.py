"""The owner closes the school for a day (issue 15 §2, §7): every lesson still to come that day ends
`school_closed` with a make-up credit that is never capped, each family with a lesson that day is emailed once,
nothing more can be booked that day, and closing the day again changes nothing."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cedarheights.errors import InvalidInput
from cedarheights.models import EmailLog
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.credits import credits_with_balance
from enrollment.makeups import lesson_cancel_by_family
from enrollment.models import MakeupCredit
from scheduling.closures import school_day_close, school_day_close_preview
from scheduling.errors import ClosureConflict
from scheduling.models import Closure, Lesson
from tests.concurrency import at_once
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(role="admin", is_staff=True, is_superuser=True)


def in_days(days: int) -> datetime.date:
    return timezone.localdate(timezone=school_settings_get().zone) + timedelta(days=days)


@pytest.fixture
def stormy_day(week):
    """Three days ahead: two lessons of the week's family, one of another family, one already cancelled; and a
    lesson the day after, which the closing leaves alone."""
    day = in_days(3)
    _, other_child, _ = week.another_family()
    ours = [week.lesson_on(day, hour=10), week.lesson_on(day, hour=16)]
    theirs = week.lesson_on(day, hour=11, student=other_child)
    cancelled = week.lesson_on(day, hour=12)
    lesson_cancel_by_family(lesson=cancelled, actor=week.parent)
    next_day = week.lesson_on(day + timedelta(days=1), hour=10)
    return day, ours, theirs, cancelled, next_day


def test_closing_a_day_closes_every_lesson_still_to_come_with_an_uncapped_credit(
    week, owner, stormy_day, django_capture_on_commit_callbacks
):
    day, ours, theirs, cancelled, next_day = stormy_day
    school_settings_update(school_settings=school_settings_get(), makeup_credits_per_term=0)  # no cap left
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        closed = school_day_close(day=day, reason="Snowstorm", actor=owner)

    assert {lesson.pk for lesson in closed.lessons} == {ours[0].pk, ours[1].pk, theirs.pk}
    for lesson in [*ours, theirs]:
        lesson.refresh_from_db()
        assert (lesson.outcome, lesson.status) == ("school_closed", "cancelled")
        assert lesson.cancellation_reason == "Snowstorm"
        credit = credits_with_balance().get(missed_lesson=lesson)
        assert (credit.origin, credit.counts_toward_cap, credit.balance) == (MakeupCredit.Origin.SCHOOL, False, 1)
    cancelled.refresh_from_db()
    next_day.refresh_from_db()
    assert cancelled.outcome == "cancelled_with_notice" and next_day.outcome == ""
    closure = Closure.objects.get()
    assert (closure.start_date, closure.end_date, closure.teacher, closure.term) == (day, day, None, week.term)
    # One email per family, listing its own lessons of the day.
    sent = {message.to[0]: message for message in mail.outbox}
    assert len(mail.outbox) == 2 and len(closed.families) == 2
    ours_email = sent[week.parent.email]
    assert ours_email.subject.endswith("your lessons that day become make-up credits")
    assert "10:00 AM" in ours_email.body and "4:00 PM" in ours_email.body and "11:00 AM" not in ours_email.body
    assert reverse("family-credits") in ours_email.body
    assert "Snowstorm" in ours_email.alternatives[0][0]


def test_closing_the_same_day_again_changes_nothing_and_emails_nobody(week, owner, stormy_day):
    day = stormy_day[0]
    school_day_close(day=day, reason="Snowstorm", actor=owner)
    emails = EmailLog.objects.filter(template="school_closed").count()
    credits = MakeupCredit.objects.count()

    again = school_day_close(day=day, reason="Snowstorm, still", actor=owner)

    assert again.lessons == [] and again.families == []
    assert Closure.objects.count() == 1 and again.closure.reason == "Snowstorm"
    assert EmailLog.objects.filter(template="school_closed").count() == emails == 2
    assert MakeupCredit.objects.count() == credits


def test_nothing_more_is_booked_on_a_closed_day(week, owner, stormy_day):
    day = stormy_day[0]
    school_day_close(day=day, reason="Power cut", actor=owner)

    with pytest.raises(ClosureConflict):
        week.lesson_on(day, hour=18)


def test_the_preview_names_the_lessons_and_families_and_writes_nothing(week, stormy_day):
    day, ours, theirs, _, _ = stormy_day

    preview = school_day_close_preview(day=day)

    assert [lesson.pk for lesson in preview.lessons] == [ours[0].pk, theirs.pk, ours[1].pk]  # in time order
    assert {family.pk for family in preview.families} == {ours[0].student.family_id, theirs.student.family_id}
    assert preview.closure is None
    assert not Closure.objects.exists() and Lesson.objects.filter(outcome="school_closed").count() == 0


@pytest.mark.parametrize(("days", "reason", "field"), [(400, "Snow", "day"), (-400, "Snow", "day"), (1, " ", "reason")])
def test_a_day_out_of_reach_or_no_reason_is_refused_by_name(week, owner, days, reason, field):
    with pytest.raises(InvalidInput) as refused:
        school_day_close(day=in_days(days), reason=reason, actor=owner)

    assert field in refused.value.fields
    assert not Closure.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_closing_the_same_day_at_once_close_it_once(week, owner, stormy_day):
    day = stormy_day[0]

    outcomes = at_once(lambda: school_day_close(day=day, reason="Ice", actor=owner))

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert Closure.objects.count() == 1
    assert sorted(len(outcome.lessons) for outcome in outcomes) == [0, 3]
    assert EmailLog.objects.filter(template="school_closed").count() == 2
