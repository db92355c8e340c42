"""What one enrollment over the API costs in queries: the same for a school with one piano teacher as for one with
many, so a full-size school (34 piano teachers in the bench) pays no query per teacher."""

import uuid
from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from enrollment.models import Enrollment
from scheduling.models import Teacher, WeeklyAvailability

pytestmark = pytest.mark.django_db
URL = "/api/v1/enrollments/"

# Anonymous, one child, two windows, a card: the bench's `enrollment_post` request. 116 before the plan, the
# instruments, the privacy notice and the teacher's name were read once and the run recorded without a savepoint.
ENROLLMENT_QUERIES = 109


def _more_piano_teachers(piano, count: int) -> None:
    """`count` more active piano teachers, each free on Mondays 16:00–17:00 (bulk: a few queries whatever the
    count)."""
    users = User.objects.bulk_create(
        User(email=f"piano{n}@teachers.test", first_name="Piano", last_name=f"Teacher{n}", role=User.Role.TEACHER)
        for n in range(count)
    )
    teachers = Teacher.objects.bulk_create(Teacher(user=user, capacity=20) for user in users)
    Teacher.instruments.through.objects.bulk_create(
        Teacher.instruments.through(teacher_id=teacher.pk, instrument_id=piano.pk) for teacher in teachers
    )
    WeeklyAvailability.objects.bulk_create(
        WeeklyAvailability(teacher=teacher, weekday=0, start_time=time(16), end_time=time(17)) for teacher in teachers
    )


def _enroll_one_child(ready) -> tuple[str, int]:
    """The child's enrollment status and the queries its submission took."""
    email, piano = f"{uuid.uuid4().hex[:10]}@example.com", ready["piano"].pk
    body = {
        "parent_first_name": "Maya",
        "parent_last_name": "Lopez",
        "email": email,
        "phone": "416-555-0188",
        "children": [{"first_name": "Lucia", "last_name": "Lopez", "date_of_birth": "2016-03-04", "instrument": piano}],
        "windows": [
            {"weekday": 0, "start_time": "16:00", "end_time": "17:00"},
            {"weekday": 2, "start_time": "16:00", "end_time": "18:00"},
        ],
        "tuition_plan": ready["plan"].pk,
        "consent": True,
        "payment_method_id": ready["stripe"].card("4242424242424242"),
    }
    with CaptureQueriesContext(connection) as captured:
        response = APIClient().post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 202, response.json()
    return Enrollment.objects.get(student__family__parents__email=email).status, len(captured)


def test_an_enrollment_takes_the_same_queries_however_many_teachers_teach_the_instrument(school_ready):
    """Each enrollment after the first (which fills the process's caches: content types, the school's settings) is
    counted, with one piano teacher and then with 31.

    Broken to see it fail: `teacher_loads_below_capacity` reading each candidate's load on its own (a query per
    teacher) failed the equality; reading the tuition plan again for the welcome email failed the budget."""
    _enroll_one_child(school_ready)
    status_few, queries_few = _enroll_one_child(school_ready)
    _more_piano_teachers(school_ready["piano"], 30)

    status_many, queries_many = _enroll_one_child(school_ready)

    assert status_few == status_many == Enrollment.Status.ACTIVE
    assert queries_many == queries_few
    assert queries_few <= ENROLLMENT_QUERIES
