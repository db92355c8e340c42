"""The calendar stamps' row locks under concurrent work (real threads, each on its own connection)."""

from datetime import datetime, time, timedelta

import pytest

from cedarheights.selectors import school_settings_get, school_today
from scheduling.calendar_feeds import calendar_feed_issue
from scheduling.models import CalendarFeed, Lesson
from scheduling.outcomes import Outcome
from scheduling.services import lesson_create, lessons_cancel
from tests.concurrency import at_once
from tests.factories import ParentFactory, StudentFactory, TeacherFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _lesson(teacher, student, day_offset: int) -> Lesson:
    start = datetime.combine(school_today() + timedelta(days=day_offset), time(15), tzinfo=school_settings_get().zone)
    return lesson_create(
        teacher=teacher, student=student, start_at=start, end_at=start + timedelta(minutes=30), check_availability=False
    )


@pytest.mark.parametrize("attempt", range(3))
def test_two_cancellations_across_the_same_two_families_in_opposite_orders_both_finish(school, attempt):
    """Each cancels its lessons in id order, one family's child first in one, the other's in the other. With a stamp
    per family the second lesson of each waited for the other's first: a deadlock, one of them refused (40P01).
    Students' stamps are the rows `booking_lock` already holds."""
    first_family, second_family = ParentFactory().family, ParentFactory().family
    teachers = [TeacherFactory() for _ in range(2)]
    children = {
        (family, n): StudentFactory(family=family) for family in (first_family, second_family) for n in range(2)
    }
    one = [_lesson(teachers[0], children[first_family, 0], 3), _lesson(teachers[0], children[second_family, 0], 4)]
    other = [_lesson(teachers[1], children[second_family, 1], 3), _lesson(teachers[1], children[first_family, 1], 4)]

    def cancelling(lessons):
        return lambda: lessons_cancel(
            lessons=Lesson.objects.filter(pk__in=[lesson.pk for lesson in lessons]),
            actor=None,
            outcome=Outcome.RELEASED,
            reason="Closed",
        )

    outcomes = at_once([cancelling(one), cancelling(other)])

    assert sorted(outcomes) == [2, 2]
    assert not Lesson.objects.exclude(status=Lesson.Status.CANCELLED).exists()


def test_two_requests_for_a_new_link_at_once_leave_one_live_link_and_no_error(school):
    parent = ParentFactory()

    outcomes = at_once(lambda: calendar_feed_issue(holder=parent, scope=CalendarFeed.Scope.FAMILY, actor=parent))

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert CalendarFeed.objects.filter(holder=parent, revoked_at__isnull=True).count() == 1
    assert CalendarFeed.objects.filter(holder=parent).count() == 2
