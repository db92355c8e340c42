"""API fixtures for tests/api and the replays in tests/reliability (a plugin of tests/conftest.py)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from billing.fees import registration_fee_charge
from billing.models import TuitionSubscription
from enrollment.credits import makeup_credit_grant
from enrollment.models import Enrollment
from scheduling.makeup_blocks import makeup_block_create
from scheduling.models import Lesson, MakeupBlock
from scheduling.services import lesson_create
from tests.factories import (
    AcademicYearFactory,
    AvailabilityFactory,
    ClosureFactory,
    EnrollmentFactory,
    InstrumentFactory,
    LessonFeeFactory,
    ParentFactory,
    StudentFactory,
    TeacherFactory,
    TermFactory,
    TuitionPlanFactory,
    UserFactory,
)

TORONTO = ZoneInfo("America/Toronto")


@dataclass
class World:
    """Two families and two teachers who must never see each other's records, and an admin."""

    admin: User
    parent_a: User
    parent_b: User
    teacher_x: User
    teacher_y: User
    student_a: object
    student_b: object
    lesson_a: Lesson
    lesson_b: Lesson
    shared: dict
    # Make-up time of teacher X (student A's teacher) and of teacher Y (student B's).
    block_x: MakeupBlock | None = None
    block_y: MakeupBlock | None = None

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def world(school) -> World:
    piano = InstrumentFactory(name="Piano")
    admin = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True, email="owner@example.com")
    parent_a, parent_b = ParentFactory(email="a@example.com"), ParentFactory(email="b@example.com")
    teacher_x, teacher_y = TeacherFactory(instruments=[piano]), TeacherFactory(instruments=[piano])
    for teacher in (teacher_x, teacher_y):
        AvailabilityFactory(teacher=teacher, weekday=0, start_time="15:00", end_time="19:00")
    student_a = StudentFactory(family=parent_a.family, teacher=teacher_x, instrument=piano)
    student_b = StudentFactory(family=parent_b.family, teacher=teacher_y, instrument=piano)
    monday = date.today() + timedelta(days=(7 - date.today().weekday()) % 7 + 7)
    start = datetime.combine(monday, datetime.min.time(), tzinfo=TORONTO).replace(hour=16)
    lesson_a = lesson_create(teacher=teacher_x, student=student_a, start_at=start, end_at=start + timedelta(minutes=30))
    lesson_b = lesson_create(teacher=teacher_y, student=student_b, start_at=start, end_at=start + timedelta(minutes=30))
    for family in (parent_a.family, parent_b.family):
        TuitionSubscription.objects.create(
            family=family, tuition_plan=TuitionPlanFactory(instrument=piano), status="active"
        )
    LessonFeeFactory(lesson=lesson_b)  # a fee only the school reviews
    year = AcademicYearFactory()
    # each family's registration fee (its Stripe line is sent once the world commits: a live server test needs
    # its local Stripe server first)
    for family in (parent_a.family, parent_b.family):
        registration_fee_charge(family=family, on=year.start_date)
    shared = {
        "term": TermFactory(academic_year=year),
        "closure": ClosureFactory(),
        "plan": TuitionPlanFactory(instrument=piano),
        "year": year,
    }
    blocks = [
        makeup_block_create(
            teacher=teacher, start_at=start + timedelta(days=1), end_at=start + timedelta(days=1, hours=2)
        )
        for teacher in (teacher_x, teacher_y)
    ]
    return World(
        admin,
        parent_a,
        parent_b,
        teacher_x.user,
        teacher_y.user,
        student_a,
        student_b,
        lesson_a,
        lesson_b,
        shared,
        *blocks,
    )


@pytest.fixture
def world_credits(world) -> dict:
    """Each family's child enrolled, with one make-up credit the school gave: family A's and family B's."""
    credits = {}
    for side, student in (("a", world.student_a), ("b", world.student_b)):
        enrollment = EnrollmentFactory(student=student, status=Enrollment.Status.ACTIVE)
        credits[side] = makeup_credit_grant(enrollment=enrollment, actor=world.admin, reason="Snow day", goodwill=True)
    return credits


@pytest.fixture
def as_role(world):
    def client_for(role: str) -> APIClient:
        client = APIClient()
        if (user := world.user(role)) is not None:
            client.force_authenticate(user)
        return client

    return client_for
