"""The lists the owner, a teacher and the public site read run the same number of queries however big the school is:
each list is read at two sizes of school and pinned to one exact count (the same at both sizes).

Made to fail first: with "availability" taken out of the teachers' prefetch, the teachers' list (pinned at 6) ran 8
queries in the small school and 30 in the larger; with knox's own token sign-in back (it reads the user's tokens, and
the roles then read the user's teacher), a teacher's week ran 6 queries instead of 4 and auth/me 2 instead of 1."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from enrollment.credits import makeup_credit_grant
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student, WeeklyAvailability
from tests.factories import (
    EnrollmentFactory,
    InstrumentFactory,
    ParentFactory,
    TeacherFactory,
    TuitionPlanFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TORONTO = ZoneInfo("America/Toronto")
SMALL, LARGE = 3, 30


@dataclass
class School:
    owner: User
    teacher_key: str  # the first teacher's API token: the token road signs in on every request
    piano_id: int
    monday: date


def school_of(size: int) -> School:
    """`size` teachers (a week of availability each), families, children, make-up credits and tuition plans, and
    `size` lessons of the first teacher in one week (bulk inserts where no service is needed to read them)."""
    piano = InstrumentFactory(name="Piano")
    owner = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True, email="owner@example.com")
    teachers = [TeacherFactory(instruments=[piano]) for _ in range(size)]
    WeeklyAvailability.objects.bulk_create(
        WeeklyAvailability(teacher=teacher, weekday=day, start_time=time(9), end_time=time(21))
        for teacher in teachers
        for day in range(7)
    )
    parents = [ParentFactory() for _ in range(size)]
    students = Student.objects.bulk_create(
        Student(
            family=parent.family,
            first_name=f"Kid{n}",
            last_name="Size",
            date_of_birth=date(2015, 1, 1),
            instrument=piano,
            teacher=teachers[n],
            status=Student.Status.ACTIVE,
        )
        for n, parent in enumerate(parents)
    )
    for n, student in enumerate(students):
        plan = TuitionPlanFactory(instrument=piano, stripe_price_id=f"price_size_{n}")
        enrollment = EnrollmentFactory(student=student, tuition_plan=plan, status=Enrollment.Status.ACTIVE)
        makeup_credit_grant(enrollment=enrollment, actor=owner, reason="Snow day", goodwill=True)
    monday = date.today() + timedelta(days=14 - date.today().weekday())
    first_lesson = datetime.combine(monday, time(9), tzinfo=TORONTO)
    Lesson.objects.bulk_create(
        Lesson(
            teacher=teachers[0],
            student=students[n],
            start_at=first_lesson + timedelta(minutes=30 * n),
            end_at=first_lesson + timedelta(minutes=30 * n + 30),
        )
        for n in range(size)
    )
    _, teacher_key = AuthToken.objects.create(teachers[0].user)
    return School(owner=owner, teacher_key=teacher_key, piano_id=piano.pk, monday=monday)


def week_of(school: School) -> str:
    end = school.monday + timedelta(days=7)
    return f"start_after={school.monday}T00:00:00-05:00&start_before={end}T00:00:00-05:00"


def timeslots_of(school: School) -> str:
    return f"instrument={school.piano_id}&start={school.monday}&end={school.monday + timedelta(days=30)}"


# (reader, URL built from the school, exact queries): a session is signed in with force_login (its session row is
# one query), the teacher signs in by token, the public lists by nobody.
LISTS = {
    "students": ("owner", lambda s: "/api/v1/students/", 5),
    "families": ("owner", lambda s: "/api/v1/families/", 6),
    "teachers": ("owner", lambda s: "/api/v1/teachers/", 6),
    "lessons of the school's week": ("owner", lambda s: f"/api/v1/lessons/?{week_of(s)}", 5),
    "lessons of a teacher's week": ("teacher", lambda s: f"/api/v1/lessons/?{week_of(s)}", 4),
    "auth/me": ("teacher", lambda s: "/api/v1/auth/me/", 1),
    "make-up credits": ("owner", lambda s: "/api/v1/makeup-credits/", 6),
    "public teachers": ("anonymous", lambda s: "/api/v1/public/teachers/", 3),
    "public timeslots": ("anonymous", lambda s: f"/api/v1/public/timeslots/?{timeslots_of(s)}", 5),
    "public pricing": ("anonymous", lambda s: "/api/v1/public/pricing/", 2),
}


def client_of(school: School, reader: str) -> APIClient:
    client = APIClient()
    if reader == "owner":
        client.force_login(school.owner)
    elif reader == "teacher":
        client.credentials(HTTP_AUTHORIZATION=f"Token {school.teacher_key}")
    return client


@pytest.mark.parametrize("size", [SMALL, LARGE])
@pytest.mark.parametrize("name", list(LISTS))
def test_a_list_runs_the_same_queries_at_any_size(school, name, size, django_assert_num_queries):
    reader, url_of, queries = LISTS[name]
    built = school_of(size)
    client, url = client_of(built, reader), url_of(built)
    assert client.get(url).status_code == 200  # warm: the school's settings and the free time are cached once
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
