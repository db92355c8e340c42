"""Families are reminded 14 and 3 days before a make-up credit expires, each once, only while it can be used; the
daily task expires first, then reminds (enrollment/credit_reminders.py, enrollment/tasks.py)."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from cedarheights.models import EmailLog
from enrollment import tasks
from enrollment.credit_reminders import makeup_credit_reminders_send
from enrollment.credits import credit_balance, makeup_credit_extend, makeup_credit_hold, makeup_credit_void
from enrollment.makeups import lesson_cancel_by_family
from enrollment.models import MakeupCredit
from tests.factories import ParentFactory
from tests.lessons.credit_ledger import book_makeup

pytestmark = pytest.mark.django_db


@pytest.fixture
def credit(week) -> MakeupCredit:
    """A family of two parents with a credit from a lesson cancelled in time."""
    ParentFactory(family=week.parent.family)
    lesson_cancel_by_family(lesson=week.lesson_in(hours=72), actor=week.parent)
    return MakeupCredit.objects.get()


def reminders() -> list[EmailLog]:
    return list(EmailLog.objects.filter(template="credit_expiring").order_by("pk"))


def test_parents_are_reminded_14_and_3_days_before_each_once(credit):
    expires_on = credit.expires_on
    sent = [makeup_credit_reminders_send(today=expires_on - timedelta(days=days)) for days in (15, 14, 14, 13, 4)]
    assert sent == [0, 2, 0, 0, 0]
    assert makeup_credit_reminders_send(today=expires_on - timedelta(days=3)) == 2
    assert [makeup_credit_reminders_send(today=expires_on - timedelta(days=d)) for d in (3, 2, 0, -1)] == [0] * 4

    first, _, last, _ = reminders()
    assert {email.recipient for email in reminders()} == set(
        credit.enrollment.student.family.parents.values_list("email", flat=True)
    )
    student = credit.enrollment.student
    assert (
        first.subject
        == f"{student.first_name}'s make-up credit expires on {expires_on:%a} {expires_on.day} {expires_on:%b}"
    )
    assert "14 days left" in first.text_body and "3 days left" in last.text_body
    assert f"{settings.SITE_URL}{reverse('family-credits')}" in first.text_body
    assert f'href="{settings.SITE_URL}{reverse("family-credits")}"' in first.html_body


def test_a_day_the_job_missed_is_caught_up_with_the_days_really_left(credit):
    assert makeup_credit_reminders_send(today=credit.expires_on - timedelta(days=10)) == 2
    assert makeup_credit_reminders_send(today=credit.expires_on - timedelta(days=9)) == 0

    assert all("10 days left" in email.text_body for email in reminders())


def test_an_extended_credit_is_reminded_again_for_its_new_date(credit):
    makeup_credit_reminders_send(today=credit.expires_on - timedelta(days=14))
    later = credit.expires_on + timedelta(days=30)

    makeup_credit_extend(credit=credit, actor=None, expires_on=later, reason="Away on tour")

    assert makeup_credit_reminders_send(today=later - timedelta(days=14)) == 2
    assert f"until {later:%A} {later.day} {later:%B %Y}: 14 days left" in reminders()[-1].text_body


def test_a_used_credit_is_not_reminded(week, credit):
    book_makeup(week, credit)

    assert makeup_credit_reminders_send(today=credit.expires_on - timedelta(days=14)) == 0
    assert makeup_credit_reminders_send(today=credit.expires_on - timedelta(days=3)) == 0
    assert reminders() == []


def test_voided_and_held_credits_are_not_reminded(week, credit):
    # Given a voided credit, one held until the tuition is paid, and a usable one, all expiring in 3 days
    held, usable = (week.lesson_in(hours=hours) for hours in (96, 120))
    makeup_credit_void(credit=credit, actor=None, reason="Mistake")
    for lesson in (held, usable):
        lesson_cancel_by_family(lesson=lesson, actor=week.parent)
    makeup_credit_hold(credit=MakeupCredit.objects.get(missed_lesson=held))
    MakeupCredit.objects.update(expires_on=timezone.localdate() + timedelta(days=3))

    # When the reminders go
    makeup_credit_reminders_send()

    # Then only the usable one's parents were told
    assert {email.related_id for email in reminders()} == {str(MakeupCredit.objects.get(missed_lesson=usable).pk)}
    assert len(reminders()) == 2


def test_the_daily_run_expires_before_it_reminds(week, credit):
    MakeupCredit.objects.filter(pk=credit.pk).update(expires_on=timezone.localdate() - timedelta(days=1))

    assert tasks.makeup_credits_daily() == {"expired": 1, "reminded": 0}
    assert credit_balance(credit=credit) == 0 and reminders() == []


def test_the_daily_run_is_scheduled_each_morning():
    # The migration's own function: a transactional test elsewhere may have flushed the row it wrote.
    migration = importlib.import_module("enrollment.migrations.0009_credits_daily_schedule")
    Schedule.objects.filter(func="enrollment.tasks.makeup_credits_daily").delete()

    migration.schedule_daily(apps, None)

    schedule = Schedule.objects.get(func="enrollment.tasks.makeup_credits_daily")
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    next_run = timezone.localtime(schedule.next_run)
    assert (next_run.hour, next_run.minute) == (6, 0) and timezone.now() < next_run <= timezone.now() + timedelta(1)
