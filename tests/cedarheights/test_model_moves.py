"""Student moved from enrollment to scheduling and TuitionPlan from billing to enrollment (issue 14): a database
migrated before the moves keeps every row, every link between rows and every record's history after them."""

from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from billing.models import TuitionSubscription
from cedarheights.models import AuditEvent
from enrollment.models import Enrollment, TuitionPlan
from scheduling.models import Lesson, Student
from tests.migration_states import migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVES = [
    ("scheduling", "0007_names_refuse_control_characters"),
    ("enrollment", "0004_names_refuse_control_characters"),
    ("billing", "0009_subscription_handoff"),
]


def school_before_the_moves(old):
    """Rows written by the old models: a family, a child, a plan, an enrollment, a lesson, a subscription."""
    family = old.get_model("accounts", "Family").objects.create(name="Okafor")
    piano = old.get_model("scheduling", "Instrument").objects.create(name="Harpsichord")
    user = old.get_model("accounts", "User").objects.create(email="teacher-moves@example.com", role="teacher")
    teacher = old.get_model("scheduling", "Teacher").objects.create(user=user)
    student = old.get_model("enrollment", "Student").objects.create(
        family=family,
        first_name="Ada",
        last_name="Okafor",
        date_of_birth=date.today() - timedelta(days=9 * 365),
        instrument=piano,
        teacher=teacher,
        status="active",
    )
    plan = old.get_model("billing", "TuitionPlan").objects.create(
        name="Harpsichord 30 monthly", instrument=piano, price_cents=14_000, currency="cad", stripe_price_id="price_x"
    )
    lesson_start = timezone.now() + timedelta(days=3)
    lesson = old.get_model("scheduling", "Lesson").objects.create(
        teacher=teacher, student=student, start_at=lesson_start, end_at=lesson_start + timedelta(minutes=30)
    )
    enrollment = old.get_model("enrollment", "Enrollment").objects.create(
        student=student,
        instrument=piano,
        tuition_plan=plan,
        idempotency_key="6f1c0c57-1f0e-4c55-9b7c-5a3f0a6f4b01",
        demo_lesson=lesson,
        status="active",
    )
    old.get_model("billing", "TuitionSubscription").objects.create(
        family=family, enrollment=enrollment, tuition_plan=plan
    )
    student_type, _ = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="enrollment", model="student"
    )
    old.get_model("cedarheights", "AuditEvent").objects.create(
        action="update", object_type=student_type, object_id=str(student.pk), object_repr="Ada Okafor"
    )
    return student.pk, plan.pk, lesson.pk, enrollment.pk


def test_a_database_migrated_before_the_moves_keeps_every_row_and_link_after_them():
    student_id, plan_id, lesson_id, enrollment_id = school_before_the_moves(migrate_to(BEFORE_THE_MOVES))

    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())

    student = Student.objects.get(pk=student_id)
    assert (student.first_name, student.family.name, student.teacher.user.email) == (
        "Ada",
        "Okafor",
        "teacher-moves@example.com",
    )
    assert Lesson.objects.get(pk=lesson_id).student == student
    enrollment = Enrollment.objects.get(pk=enrollment_id)
    assert enrollment.student == student and enrollment.tuition_plan_id == plan_id
    assert TuitionPlan.objects.get(pk=plan_id).price_cents == 14_000
    assert TuitionSubscription.objects.get(enrollment=enrollment).tuition_plan == enrollment.tuition_plan
    # The history written against the old label now names the model in its new app.
    audit = AuditEvent.objects.get(object_id=str(student_id), object_repr="Ada Okafor")
    assert audit.object_type.model_class() is Student
    assert not ContentType.objects.filter(app_label="enrollment", model="student").exists()
    assert not ContentType.objects.filter(app_label="billing", model="tuitionplan").exists()
