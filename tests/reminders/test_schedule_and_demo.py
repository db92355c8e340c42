"""The reminders run every 15 minutes in the worker, and the demo school shows each kind in the owner's email log."""

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django_q.models import Schedule

from accounts.models import ReminderPreference, User
from accounts.selectors import reminder_preferences_of
from cedarheights.demo.reminders import NUDGES_OFF
from cedarheights.models import EmailLog
from scheduling.models import Closure
from scheduling.tasks import reminders
from tests.reminders.helpers import book, day_from_today, local

pytestmark = pytest.mark.django_db


def test_the_reminders_run_every_15_minutes_in_the_worker(week):
    # The migration's own function (a transactional test elsewhere may have flushed the row it made).
    migration = importlib.import_module("scheduling.migrations.0015_reminders_schedule")
    Schedule.objects.filter(func=migration.REMINDERS).delete()
    for _ in range(2):
        migration.schedule_reminders(apps, schema_editor=None)
    book(week, local(day_from_today(3), 16))

    schedule = Schedule.objects.get(func="scheduling.tasks.reminders")

    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 15, -1)
    assert reminders() == 0  # nothing due now: the lesson's nudge is two days away


def test_the_demo_shows_each_reminder_kind_and_a_parents_recorded_choice():
    call_command("seed_demo", stdout=StringIO())

    [nudges] = [c for c in reminder_preferences_of(User.objects.get(email=NUDGES_OFF)) if c.kind == "cancel_window"]
    assert not nudges.enabled and nudges.changed_at is not None
    logged = set(EmailLog.objects.values_list("template", flat=True))
    assert "cancel_window" in logged
    assert not EmailLog.objects.filter(template="cancel_window", recipient=NUDGES_OFF).exists()
    tomorrow = day_from_today(1)
    if Closure.objects.filter(teacher=None, start_date__lte=tomorrow, end_date__gte=tomorrow).exists():
        pytest.skip("the school is closed tomorrow: no lesson to move there, none to remind of")
    assert {"lessons_tomorrow", "teaching_tomorrow", "lesson_changed"} <= logged
    [moved] = EmailLog.objects.filter(template="lesson_changed", recipient="linh.nguyen@example.com")
    assert "Leo's lesson: moved from" in moved.subject and "6:00 PM" in moved.subject
    assert ReminderPreference.objects.count() == 1
