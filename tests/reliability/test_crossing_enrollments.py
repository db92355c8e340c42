"""Submissions that cross their teachers, and one PostgreSQL ends in a deadlock (PostgreSQL, real threads)."""

import functools
import itertools
import threading
import time
import uuid

import pytest
from django.db import connection, transaction

from cedarheights.errors import TryAgain
from cedarheights.models import PipelineRun
from enrollment import pipelines
from enrollment.inputs import EnrollmentInput
from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from scheduling.models import Instrument, Lesson, Teacher
from tests.concurrency import at_once
from tests.factories import (
    AvailabilityFactory,
    ChildInputFactory,
    EnrollmentInputFactory,
    InstrumentFactory,
    TeacherFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 3  # each teacher has six weekly half-hours in the families' windows: two per round


def two_children(family: str, *, first: Instrument, then: Instrument) -> EnrollmentInput:
    children = [
        ChildInputFactory(first_name="Ana", last_name=family, instrument_id=first.pk),
        ChildInputFactory(first_name="Ben", last_name=family, instrument_id=then.pk),
    ]
    return EnrollmentInputFactory(email=f"{family.lower()}@example.com", children=children)


def test_crossing_submissions_never_deadlock_and_never_overlap(school_ready):
    """Family 1 wants teacher X (piano) then Y (violin); family 2, at the same moment, Y then X.

    Before the submission's teachers were locked in one order, each child locked its own teacher in turn:
    family 1 held X and waited for Y while family 2 held Y and waited for X, and PostgreSQL ended one of
    them with "deadlock detected", an OperationalError that reached the parent as a 500.
    """
    piano, violin = school_ready["piano"], InstrumentFactory(name="Violin")
    teacher_y = TeacherFactory(instruments=[violin], capacity=20)
    AvailabilityFactory(teacher=teacher_y, weekday=0, start_time="16:00", end_time="17:00")
    AvailabilityFactory(teacher=teacher_y, weekday=2, start_time="16:00", end_time="18:00")

    for round_ in range(ROUNDS):
        forms = [
            two_children(f"One{round_}", first=piano, then=violin),
            two_children(f"Two{round_}", first=violin, then=piano),
        ]

        results = at_once([functools.partial(enrollment_submit, form=f, idempotency_key=uuid.uuid4()) for f in forms])

        assert not [r for r in results if isinstance(r, Exception)], f"round {round_}: {results}"
        assert all(e.status == Enrollment.Status.ACTIVE for r in results for e in r), f"round {round_}: {results}"

    assert Enrollment.objects.filter(status=Enrollment.Status.ACTIVE).count() == 4 * ROUNDS
    for teacher in (school_ready["teacher"], teacher_y):
        lessons = list(Lesson.objects.filter(teacher=teacher).exclude(status="cancelled").order_by("start_at"))
        assert len(lessons) > 2 * ROUNDS
        for earlier, later in itertools.pairwise(lessons):
            assert earlier.end_at <= later.start_at, f"{earlier} overlaps {later}"


# What the lesson triggers of scheduling/0004 do to a teacher's schedule stamp: hold that row's lock.
HOLD_STAMP = """
INSERT INTO scheduling_teacherschedule (teacher_id, stamp) VALUES (%s, 0)
ON CONFLICT (teacher_id) DO UPDATE SET stamp = scheduling_teacherschedule.stamp
"""
SOMEONE_WAITS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


def cross_the_next_submission(teacher: Teacher) -> threading.Thread:
    """Another transaction holds the teacher's schedule stamp; once a submission (holding the teacher) waits
    for the stamp, it asks for the teacher. PostgreSQL ends the submission, which waited first."""
    stamp_held = threading.Event()

    def cross():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '10s'")  # the submission finds the deadlock
                cursor.execute(HOLD_STAMP, [teacher.pk])
                stamp_held.set()
                deadline = time.monotonic() + 10
                while cursor.execute(SOMEONE_WAITS).fetchone()[0] == 0 and time.monotonic() < deadline:
                    time.sleep(0.02)
                Teacher.objects.select_for_update().get(pk=teacher.pk)
        finally:
            connection.close()

    other = threading.Thread(target=cross)
    other.start()
    assert stamp_held.wait(timeout=10)
    return other


def test_a_submission_postgresql_ends_in_a_deadlock_runs_again_whole(school_ready):
    """Before the bounded retry, the deadlock's OperationalError reached the parent as a 500."""
    teacher = school_ready["teacher"]
    other = cross_the_next_submission(teacher)

    [enrollment] = enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())
    other.join()

    assert enrollment.status == Enrollment.Status.ACTIVE and enrollment.demo_lesson.teacher_id == teacher.pk
    runs = list(PipelineRun.objects.filter(pipeline="enrollment").order_by("pk").values_list("status", "error"))
    assert [status for status, _ in runs] == ["failed", "succeeded"]
    assert "deadlock detected" in runs[0][1]


def test_a_submission_that_loses_its_last_attempt_is_asked_to_be_sent_again(school_ready, monkeypatch):
    monkeypatch.setattr(pipelines, "SUBMIT_ATTEMPTS", 1)
    other = cross_the_next_submission(school_ready["teacher"])

    with pytest.raises(TryAgain) as refused:
        enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())
    other.join()

    assert refused.value.status == 409 and "send the form again" in refused.value.message
    assert Enrollment.objects.count() == 0
