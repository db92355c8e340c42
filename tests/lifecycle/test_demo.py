"""The demo school shows the enrollment lifecycle on a fresh seed: a child on a vacation pause, one with a
withdrawal's last lesson, one whose weekly time changed from a date; seeding again changes none of it."""

from io import StringIO

import pytest
from django.core.management import call_command

from cedarheights.demo.lifecycle import CHANGED, ON_VACATION, WITHDRAWING
from enrollment.models import Enrollment, EnrollmentChange, EnrollmentPause


@pytest.mark.django_db
def test_the_demo_has_a_pause_a_withdrawal_and_a_changed_weekly_time_once():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    pause = EnrollmentPause.objects.get()
    assert pause.enrollment.student.first_name == ON_VACATION and pause.live and pause.lessons_released >= 1
    withdrawing = Enrollment.objects.get(withdrawal_given_on__isnull=False, status="active")  # not the history's past
    assert withdrawing.student.first_name == WITHDRAWING and withdrawing.ends_on is not None
    change = EnrollmentChange.objects.get()
    assert change.enrollment.student.first_name == CHANGED and change.lessons_booked >= 1
