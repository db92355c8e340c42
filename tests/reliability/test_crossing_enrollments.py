"""Two multi-child submissions that want the same two teachers in opposite orders (PostgreSQL, real threads)."""

import itertools
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from enrollment.models import Enrollment
from enrollment.pipelines import ChildInput, EnrollmentInput, enrollment_submit
from scheduling.models import Instrument, Lesson
from tests.enrollment.conftest import form_for
from tests.enrollment.test_reliability import run_in_threads
from tests.factories import AvailabilityFactory, InstrumentFactory, TeacherFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 3  # each teacher has six weekly half-hours in the families' windows: two per round


def two_children(ready, family: str, *, first: Instrument, then: Instrument) -> EnrollmentInput:
    born = timezone.localdate() - timedelta(days=9 * 365)
    children = [ChildInput("Ana", family, born, first.pk), ChildInput("Ben", family, born, then.pk)]
    return form_for(ready, email=f"{family.lower()}@example.com", children=children)


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
            two_children(school_ready, f"One{round_}", first=piano, then=violin),
            two_children(school_ready, f"Two{round_}", first=violin, then=piano),
        ]

        results = run_in_threads(
            2, lambda n, forms=forms: enrollment_submit(form=forms[n], idempotency_key=uuid.uuid4())
        )

        assert not [r for r in results if isinstance(r, Exception)], f"round {round_}: {results}"
        assert all(e.status == Enrollment.Status.ACTIVE for r in results for e in r), f"round {round_}: {results}"

    assert Enrollment.objects.filter(status=Enrollment.Status.ACTIVE).count() == 4 * ROUNDS
    for teacher in (school_ready["teacher"], teacher_y):
        lessons = list(Lesson.objects.filter(teacher=teacher).exclude(status="cancelled").order_by("start_at"))
        assert len(lessons) > 2 * ROUNDS
        for earlier, later in itertools.pairwise(lessons):
            assert earlier.end_at <= later.start_at, f"{earlier} overlaps {later}"
