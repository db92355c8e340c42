"""Enrollments competing for few slots and locked teachers (PostgreSQL, real threads on their own connections)."""

import functools
import itertools
import threading
import time as time_module
import uuid
from datetime import time

import pytest
from django.db import transaction

from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from scheduling.models import Lesson, Teacher
from scheduling.slots import Window
from tests.concurrency import at_once
from tests.factories import AvailabilityFactory, EnrollmentInputFactory, TeacherFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_20_concurrent_enrollments_for_few_slots_never_overlap(school_ready):
    # Only Mondays 16:00–17:00: two 30-minute weekly slots for the whole term.
    windows = [Window(0, time(16), time(17))]
    forms = [
        EnrollmentInputFactory(
            email=f"parent{n}@example.com",
            windows=windows,
            children__0__first_name=f"Kid{n}",
            children__0__last_name=f"Family{n}",
        )
        for n in range(20)
    ]

    results = at_once([functools.partial(enrollment_submit, form=f, idempotency_key=uuid.uuid4()) for f in forms])

    assert not [r for r in results if isinstance(r, Exception)], results
    enrollments = Enrollment.objects.all()
    assert enrollments.count() == 20
    booked = enrollments.filter(status="active")
    assert booked.count() == 2 and enrollments.filter(status="waitlisted").count() == 18
    demo_starts = [e.demo_lesson.start_at.astimezone().time() for e in booked]
    assert len(set(demo_starts)) == 2
    lessons = list(Lesson.objects.exclude(status="cancelled").order_by("start_at"))
    for earlier, later in itertools.pairwise(lessons):
        assert earlier.end_at <= later.start_at, f"{earlier} overlaps {later}"


def test_a_family_is_not_kept_waiting_behind_another_familys_booking(school_ready):
    # Given a second piano teacher with the same hours, and the first (the rules' choice: lower id) held
    # locked by a booking still in progress on another connection
    first, second = school_ready["teacher"], TeacherFactory(instruments=[school_ready["piano"]])
    AvailabilityFactory(teacher=second, weekday=0, start_time="16:00", end_time="17:00")
    AvailabilityFactory(teacher=second, weekday=2, start_time="16:00", end_time="18:00")
    locked, enrolled = threading.Event(), threading.Event()

    def booking_in_progress():
        with transaction.atomic():
            Teacher.objects.select_for_update().get(pk=first.pk)
            locked.set()
            enrolled.wait(timeout=10)

    holder = threading.Thread(target=at_once, args=(booking_in_progress,), kwargs={"times": 1})
    holder.start()
    assert locked.wait(timeout=10)

    # When a family enrolls meanwhile
    started = time_module.monotonic()
    enrollment = enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())[0]
    waited = time_module.monotonic() - started
    enrolled.set()
    holder.join()

    # Then it is booked with the other teacher at once, instead of waiting for the lock
    assert enrollment.status == "active" and enrollment.demo_lesson.teacher_id == second.pk
    assert waited < 5
