"""Edges of the lesson week a review found (issue 15): a teacher's cancelled hour is never offered back as a make-up;
a substitute's lesson is announced to the family; a planned closure takes its days' lessons off; an owner recording a
teacher's cancellation reports it like the teacher would; a held credit does not run out; no fee on a make-up; a
weather closure of today leaves the lessons already over to be marked; dates at the calendar's ends are form errors.
Each was seen failing on the code before its fix (the offer listed the cancelled hour; no email; the holiday kept
its lessons; no report; the held credit expired; a fee on the make-up; the morning's lessons closed; a 500)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import LessonFee
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.credits import (
    credits_with_balance,
    makeup_credit_grant,
    makeup_credit_hold,
    makeup_credits_expire,
    makeup_credits_release,
)
from enrollment.makeups import lesson_reschedule_by_family, makeup_book, makeup_slots_offer
from enrollment.models import MakeupCredit, TuitionPlan
from scheduling.closures import school_day_close
from scheduling.models import Lesson, TeacherCancellation
from scheduling.outcomes import Outcome
from scheduling.services import (
    closure_create,
    lesson_change,
    lesson_outcome_set,
    lesson_teacher_cancel,
    teacher_cancellation_decide,
)
from tests.factories import TeacherFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_hour_a_teacher_cancelled_is_not_offered_back_but_another_familys_notice_cancel_is(week):
    taught = week.lesson_in(hours=72)
    lesson_teacher_cancel(lesson=taught, actor=week.teacher.user, reason="Concert")
    _, other_child, _ = week.another_family()
    freed = week.lesson_in(hours=96, student=other_child)
    lesson_outcome_set(lesson=freed, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
    credit = MakeupCredit.objects.get(missed_lesson=taught)

    offers = {offer.start_at: offer.source for offer in makeup_slots_offer(credit=credit)}

    assert taught.start_at not in offers
    assert not any(taught.start_at - timedelta(minutes=29) <= start < taught.end_at for start in offers)
    assert offers[freed.start_at] == "freed by a cancellation"


def test_a_substitute_keeps_the_lesson_and_the_family_is_told(week, django_capture_on_commit_callbacks):
    lesson = week.lesson_in(hours=72)
    cancellation = lesson_teacher_cancel(
        lesson=lesson, actor=week.teacher.user, reason="Flu"
    ).teacher_cancellations.get()
    substitute = TeacherFactory()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        teacher_cancellation_decide(cancellation=cancellation, actor=None, substitute=substitute)

    assert Lesson.objects.get(pk=lesson.pk).teacher == substitute
    told = [message for message in mail.outbox if message.to == [week.parent.email]]
    assert len(told) == 1 and str(substitute) in told[0].body and "withdrawn" in told[0].body
    assert credits_with_balance().get(missed_lesson=lesson).balance == 0


def test_no_substitute_for_a_lesson_no_longer_cancelled_by_its_teacher(week):
    lesson = week.lesson_in(hours=72)
    cancellation = lesson_teacher_cancel(
        lesson=lesson, actor=week.teacher.user, reason="Flu"
    ).teacher_cancellations.get()
    lesson_outcome_set(lesson=lesson, outcome=Outcome.RELEASED, actor=None)

    with pytest.raises(Exception) as refused:
        teacher_cancellation_decide(cancellation=cancellation, actor=None, substitute=TeacherFactory())

    assert getattr(refused.value, "code", "") == "cancellation_decided"
    assert TeacherCancellation.objects.get(pk=cancellation.pk).decision == "pending"


def test_a_holiday_entered_after_lessons_were_booked_takes_them_off(week):
    lesson = week.lesson_in(hours=24 * 9)
    day = timezone.localtime(lesson.start_at).date()

    closure_create(reason="Staff day", start_date=day, end_date=day)

    released = Lesson.objects.get(pk=lesson.pk)
    assert (released.outcome, released.status) == (Outcome.RELEASED, "cancelled")
    assert not MakeupCredit.objects.filter(missed_lesson=lesson).exists()


def test_a_teachers_own_closure_cancels_their_lessons_with_an_uncapped_credit(week):
    lesson = week.lesson_in(hours=24 * 9)
    day = timezone.localtime(lesson.start_at).date()

    closure_create(reason="Conference", start_date=day, end_date=day, teacher=week.teacher)

    assert Lesson.objects.get(pk=lesson.pk).outcome == Outcome.TEACHER_CANCELLED
    assert MakeupCredit.objects.get(missed_lesson=lesson).origin == MakeupCredit.Origin.TEACHER


def test_the_owner_recording_a_teachers_cancellation_reports_it(week):
    lesson = week.lesson_in(hours=72)

    lesson_change(lesson=lesson, actor=None, outcome=Outcome.TEACHER_CANCELLED, reason="Teacher called in sick")

    cancellation = TeacherCancellation.objects.get(lesson=lesson)
    assert (cancellation.decision, cancellation.reason) == ("pending", "Teacher called in sick")


def test_a_held_credit_does_not_expire_and_gets_a_fortnight_once_released(week):
    credit = makeup_credit_grant(enrollment=week.enrollment, actor=None, reason="Goodwill", goodwill=True)
    makeup_credit_hold(credit=credit)
    MakeupCredit.objects.filter(pk=credit.pk).update(expires_on=timezone.localdate() - timedelta(days=3))

    makeup_credits_expire()
    assert credits_with_balance().get(pk=credit.pk).balance == 1

    makeup_credits_release(family_id=week.parent.family_id)
    released = credits_with_balance().get(pk=credit.pk)
    assert (released.held_until_paid, released.balance) == (False, 1)
    assert released.expires_on >= timezone.localdate() + timedelta(days=13)


def test_no_fee_on_a_missed_make_up(week):
    school_settings_update(school_settings=school_settings_get(), lesson_fees_enabled=True)
    TuitionPlan.objects.filter(pk=week.enrollment.tuition_plan_id).update(basis=TuitionPlan.Basis.PER_LESSON)
    credit = makeup_credit_grant(enrollment=week.enrollment, actor=None, reason="Goodwill", goodwill=True)
    offer = makeup_slots_offer(credit=credit)[0]
    makeup = makeup_book(credit=credit, teacher=offer.teacher, start_at=offer.start_at, actor=week.parent)
    Lesson.objects.filter(pk=makeup.pk).update(
        start_at=timezone.now() - timedelta(hours=2), end_at=timezone.now() - timedelta(hours=1, minutes=30)
    )

    lesson_outcome_set(lesson=Lesson.objects.get(pk=makeup.pk), outcome=Outcome.NO_SHOW, actor=None)

    assert not LessonFee.objects.filter(lesson=makeup).exists()


def test_closing_today_for_weather_leaves_the_lessons_already_over_to_be_marked(week):
    over = week.lesson_in(hours=-3)
    to_come = week.lesson_in(hours=3)
    if timezone.localtime(over.start_at).date() != timezone.localtime(to_come.start_at).date():
        pytest.skip("the run is too close to midnight for a lesson before and after now on one day")

    school_day_close(day=timezone.localdate(), reason="Power cut", actor=None)

    assert Lesson.objects.get(pk=over.pk).outcome == ""
    assert Lesson.objects.get(pk=to_come.pk).outcome == Outcome.SCHOOL_CLOSED


def test_a_make_up_time_at_the_calendars_end_is_a_form_error(week):
    credit = makeup_credit_grant(enrollment=week.enrollment, actor=None, reason="Goodwill", goodwill=True)

    response = signed_in(week.parent).post(
        reverse("family-credit-book", args=[credit.pk]), {"slot": f"{week.teacher.pk}@9999-12-31T23:59:00-14:00"}
    )

    assert response.status_code == 200 and b"Choose one of the times offered." in response.content
    assert credits_with_balance().get(pk=credit.pk).balance == 1


def test_a_make_up_block_on_a_day_at_the_calendars_end_is_a_form_error(week):
    response = signed_in(week.teacher.user).post(
        reverse("teach-makeup-blocks"), {"day": "9999-12-31", "start": "22:00", "end": "23:00"}
    )

    assert response.status_code == 200 and b"Choose a day from today to a year ahead." in response.content


def test_a_note_longer_than_a_page_is_refused_with_what_was_typed(week):
    lesson = week.lesson_in(hours=-2)
    too_long = "Practise scales. " * 300

    response = signed_in(week.teacher.user).post(
        reverse("teach-lesson", args=[lesson.pk]), {"family_note": too_long, "notes": ""}
    )

    assert response.status_code == 200 and "family_note" in response.context["form"].errors
    assert Lesson.objects.get(pk=lesson.pk).family_note == ""


def test_a_reschedule_email_names_the_lesson_it_replaces_and_the_lesson_page_says_why_and_what_came(
    week, django_capture_on_commit_callbacks
):
    lesson = week.lesson_in(hours=72)
    credit_offer = makeup_slots_offer(
        credit=makeup_credit_grant(enrollment=week.enrollment, actor=None, reason="Offer probe", goodwill=True)
    )[0]
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        lesson_reschedule_by_family(
            lesson=lesson, actor=week.parent, teacher=credit_offer.teacher, start_at=credit_offer.start_at
        )

    booked = next(message for message in mail.outbox if message.subject.startswith("Make-up booked"))
    assert "It replaces the lesson of" in booked.body
    page = signed_in(week.parent).get(reverse("family-lesson", args=[lesson.pk])).content.decode()
    assert "Rescheduled" in page and "A make-up credit</a> came with it" in page
