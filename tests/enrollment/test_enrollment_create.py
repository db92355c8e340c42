"""enrollment_create: a child's enrollment with the weekly windows in which the family can come."""

import uuid
from datetime import time

import pytest

from enrollment.models import Enrollment
from enrollment.services import enrollment_create
from scheduling.slots import Window
from tests.factories import StudentFactory, TuitionPlanFactory

pytestmark = pytest.mark.django_db


def test_an_enrollment_is_pending_with_the_familys_weekly_windows_unless_its_status_is_known():
    student, plan = StudentFactory(), TuitionPlanFactory()
    windows = [Window(0, time(16), time(17)), Window(5, time(9), time(12))]
    fields = {"student": student, "instrument_id": student.instrument_id, "tuition_plan_id": plan.pk}

    pending = enrollment_create(**fields, lesson_minutes=45, idempotency_key=uuid.uuid4(), windows=windows)
    waitlisted = enrollment_create(
        **fields,
        lesson_minutes=30,
        idempotency_key=uuid.uuid4(),
        windows=windows[:1],
        status=Enrollment.Status.WAITLISTED,
        source=Enrollment.Source.ADMIN,
    )

    assert (pending.status, pending.source, pending.lesson_minutes) == ("pending", "web", 45)
    stored = pending.preferred_windows.order_by("weekday").values_list("weekday", "start_time", "end_time")
    assert [Window(*window) for window in stored] == windows
    assert (waitlisted.status, waitlisted.source, waitlisted.preferred_windows.count()) == ("waitlisted", "admin", 1)
