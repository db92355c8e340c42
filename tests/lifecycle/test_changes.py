"""A change of the weekly lesson from a date: exactly the lessons from that date move, none before; a clash in any
week refuses the whole change and writes nothing; one email each; a replay changes nothing twice; the preview says
what the change does."""

import threading
import uuid
from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from django.db import connection

from cedarheights.emails import EmailLog
from cedarheights.selectors import school_settings_get, school_today
from enrollment.errors import ChangeConflicts, NotActive
from enrollment.lifecycle.changes import enrollment_change, enrollment_change_preview
from enrollment.lifecycle.pauses import enrollment_pause
from enrollment.lifecycle.withdrawals import enrollment_withdraw
from enrollment.models import EnrollmentChange
from enrollment.signals import enrollment_change_quoted, enrollment_changed
from scheduling.models import Lesson, WeeklyLesson
from scheduling.outcomes import Outcome
from tests.factories import TuitionPlanFactory
from tests.lifecycle.conftest import child_with_weekly_lesson, next_weekday, teacher_every_day

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class MoneyLine:
    """What billing's receiver of `enrollment_change_quoted` answers (billing.tuition's lines have this shape)."""

    label: str
    amount_cents: int


def local(lesson: Lesson):
    return lesson.start_at.astimezone(school_settings_get().zone)


def test_a_change_moves_exactly_the_lessons_from_its_date(child):
    """Made to fail once by releasing every lesson to come (not from the date): the weeks before moved too."""
    effective_on = next_weekday(school_today() + timedelta(days=14), 0)
    before = {lesson.pk: lesson.start_at for lesson in child.lessons()}
    change = enrollment_change(
        actor=None, enrollment=child.enrollment, effective_on=effective_on, weekday=2, start_time=time(17, 30)
    )
    lessons = child.lessons()
    earlier = [lesson for lesson in lessons if local(lesson).date() < effective_on]
    assert earlier and all(lesson.outcome == "" and before[lesson.pk] == lesson.start_at for lesson in earlier)
    old_from = [lesson for lesson in lessons if lesson.pk in before and local(lesson).date() >= effective_on]
    assert old_from and all(lesson.outcome == Outcome.RELEASED for lesson in old_from)
    new = [lesson for lesson in lessons if lesson.pk not in before]
    assert {(local(lesson).weekday(), local(lesson).time()) for lesson in new} == {(2, time(17, 30))}
    assert min(local(lesson).date() for lesson in new) >= effective_on
    assert change.lessons_released == len(old_from) and change.lessons_booked == len(new)
    child.weekly.refresh_from_db()
    assert child.weekly.ended_on == effective_on - timedelta(days=1)
    assert WeeklyLesson.objects.get(student=child.student, ended_on__isnull=True).weekday == 2


def test_a_change_of_teacher_length_and_plan_updates_the_enrollment(child):
    other = teacher_every_day()
    plan = TuitionPlanFactory(lesson_minutes=45, price_cents=20_000)
    enrollment_change(
        actor=None,
        enrollment=child.enrollment,
        effective_on=school_today() + timedelta(days=3),
        teacher=other,
        lesson_minutes=45,
        tuition_plan=plan,
    )
    child.enrollment.refresh_from_db()
    child.student.refresh_from_db()
    assert (child.enrollment.lesson_minutes, child.enrollment.tuition_plan, child.student.teacher) == (45, plan, other)
    new = Lesson.objects.filter(
        student=child.student, status="scheduled", start_at__date__gt=school_today() + timedelta(4)
    )
    assert new and all(
        lesson.teacher == other and lesson.end_at - lesson.start_at == timedelta(minutes=45) for lesson in new
    )


def test_a_conflict_in_any_week_refuses_the_whole_change_and_writes_nothing(child, term):
    """Another child holds Wednesdays 17:30 in one week only: the change names that week and moves nothing."""
    other = child_with_weekly_lesson(teacher=child.teacher, term=term, weekday=2, at=time(17, 30))
    taken = other.lessons()[3]
    for lesson in other.lessons():
        if lesson != taken:
            Lesson.objects.filter(pk=lesson.pk).update(status="cancelled", outcome=Outcome.RELEASED)
    before = [(lesson.pk, lesson.start_at, lesson.status) for lesson in child.lessons()]
    with pytest.raises(ChangeConflicts) as refused:
        enrollment_change(
            actor=None,
            enrollment=child.enrollment,
            effective_on=school_today() + timedelta(1),
            weekday=2,
            start_time=time(17, 30),
        )
    assert refused.value.fields["weeks"] and f"{local(taken):%-d %b %Y}" in refused.value.fields["weeks"][0]
    assert len(refused.value.fields["weeks"]) == 1
    assert [(lesson.pk, lesson.start_at, lesson.status) for lesson in child.lessons()] == before
    assert not EnrollmentChange.objects.exists() and not EmailLog.objects.filter(template="enrollment_changed").exists()
    child.weekly.refresh_from_db()
    assert child.weekly.ended_on is None


def test_one_email_to_the_family_and_each_teacher_and_a_replay_changes_nothing(
    child, django_capture_on_commit_callbacks
):
    other = teacher_every_day()
    sent = []
    enrollment_changed.connect(lambda sender, **kwargs: sent.append(kwargs), weak=False, dispatch_uid="test.changed")
    try:
        key = uuid.uuid4()
        arguments = dict(enrollment=child.enrollment, effective_on=school_today() + timedelta(days=2), teacher=other)
        first = enrollment_change(actor=None, idempotency_key=key, **arguments)
        again = enrollment_change(actor=None, idempotency_key=key, **arguments)
    finally:
        enrollment_changed.disconnect(dispatch_uid="test.changed")
    assert again.pk == first.pk and EnrollmentChange.objects.count() == 1
    recipients = sorted(EmailLog.objects.filter(template="enrollment_changed").values_list("recipient", flat=True))
    assert recipients == sorted([child.parent.email, child.teacher.user.email, other.user.email])
    assert len(sent) == 1 and sent[0]["before"]["teacher_id"] == child.teacher.pk
    assert sent[0]["after"]["teacher_id"] == other.pk


def test_the_preview_shows_the_lessons_and_writes_nothing(child):
    effective_on = next_weekday(school_today() + timedelta(days=7), 0)
    lessons_before = [(lesson.pk, lesson.status) for lesson in child.lessons()]
    quoted = []

    def quote(sender, **kwargs):
        quoted.append(kwargs)
        return [MoneyLine("Lessons left this month at the new rate", 1234)]

    enrollment_change_quoted.connect(quote, weak=False, dispatch_uid="test.quote")
    try:
        preview = enrollment_change_preview(
            enrollment=child.enrollment, effective_on=effective_on, weekday=3, start_time=time(15)
        )
    finally:
        enrollment_change_quoted.disconnect(dispatch_uid="test.quote")
    assert [(lesson.pk, lesson.status) for lesson in child.lessons()] == lessons_before
    assert not EnrollmentChange.objects.exists() and not EmailLog.objects.exists()
    assert preview.possible and preview.lessons and all(move.kind == "moved" for move in preview.lessons)
    assert preview.lessons[0].before.astimezone(school_settings_get().zone).date() == effective_on
    assert preview.lessons[0].after.astimezone(school_settings_get().zone).weekday() == 3
    assert preview.words == ("Weekly lesson: Mondays at 16:00 → Thursdays at 15:00",)
    assert "Lessons left this month at the new rate: $12.34 CAD" in preview.money_texts  # beside billing's own
    assert quoted[0]["after"]["weekday"] == 3


@pytest.mark.django_db(transaction=True)
def test_two_children_moved_into_one_time_at_once_one_wins_and_nothing_overlaps(school, term):
    """Two changes on their own connections, released by a barrier: the teacher's lock serialises them and the
    second finds the time taken."""
    teacher = teacher_every_day()
    first, second = (child_with_weekly_lesson(teacher=teacher, term=term, at=at) for at in (time(15), time(16)))
    barrier, outcomes = threading.Barrier(2), []

    def move(child):
        try:
            barrier.wait()
            enrollment_change(
                actor=None,
                enrollment=child.enrollment,
                effective_on=school_today() + timedelta(1),
                weekday=4,
                start_time=time(18),
            )
            outcomes.append("changed")
        except ChangeConflicts:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(child,)) for child in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["changed", "refused"]
    moved = WeeklyLesson.objects.get(teacher=teacher, weekday=4, ended_on__isnull=True)
    thursdays = [
        lesson for lesson in Lesson.objects.filter(teacher=teacher, status="scheduled") if local(lesson).weekday() == 4
    ]
    assert thursdays and {lesson.student_id for lesson in thursdays} == {moved.student_id}


def test_a_vacation_keeps_its_lessons_released_at_the_new_time(child):
    today = school_today()
    pause = enrollment_pause(
        actor=None,
        enrollment=child.enrollment,
        starts_on=today + timedelta(days=10),
        resumes_on=today + timedelta(days=30),
    )
    enrollment_change(actor=None, enrollment=child.enrollment, effective_on=today + timedelta(days=1), weekday=3)
    zone = school_settings_get().zone
    inside = [
        lesson
        for lesson in Lesson.objects.filter(student=child.student, weekly_lesson__weekday=3)
        if pause.starts_on <= lesson.start_at.astimezone(zone).date() < pause.resumes_on
    ]
    assert inside and all(lesson.outcome == Outcome.RELEASED for lesson in inside)


def test_a_withdrawing_enrollments_weekly_lesson_is_not_changed(child):
    enrollment_withdraw(actor=None, enrollment=child.enrollment, notice_given_on=school_today())
    with pytest.raises(NotActive):
        enrollment_change(actor=None, enrollment=child.enrollment, effective_on=school_today(), weekday=3)
