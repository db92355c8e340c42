"""The enrollment pipeline on the real database, billing handed off to the local Stripe server."""

import uuid
from datetime import date, time, timedelta

import pytest
from django.core import mail

from accounts.models import Family, User
from billing.models import TuitionSubscription
from cedarheights.errors import InvalidInput
from cedarheights.models import PipelineRun
from cedarheights.selectors import privacy_notice_current
from enrollment.models import ChildConsent, Enrollment
from enrollment.pipelines import enrollment_submit
from scheduling.models import Lesson, Student
from scheduling.slots import Window
from tests.factories import (
    AvailabilityFactory,
    ClosureFactory,
    EnrollmentInputFactory,
    StudentFactory,
    TeacherFactory,
    years_ago,
)

pytestmark = pytest.mark.django_db


def test_two_children_get_a_teacher_a_demo_lesson_their_weekly_slot_emails_and_billing(
    school_ready,
    django_capture_on_commit_callbacks,
):
    form = EnrollmentInputFactory(siblings=True, children__1__lesson_minutes=45)
    with django_capture_on_commit_callbacks(execute=True):
        enrollments = enrollment_submit(form=form, idempotency_key=uuid.uuid4(), site_url="https://school.example")

    assert [e.status for e in enrollments] == ["active", "active"]
    demos = [e.demo_lesson for e in enrollments]
    assert demos[0].start_at != demos[1].start_at and all(d.kind == "demo" for d in demos)
    assert {d.teacher_id for d in demos} == {school_ready["teacher"].pk}
    for enrollment in enrollments:
        regular = Lesson.objects.filter(student=enrollment.student, kind="regular")
        assert regular.exists()  # the same weekly time for the rest of the term
        first = regular.order_by("start_at").first()
        assert first.start_at.weekday() == enrollment.demo_lesson.start_at.weekday()
        assert first.end_at - first.start_at == timedelta(minutes=enrollment.lesson_minutes)
    parent = User.objects.get(email="new.parent@example.com")
    assert not parent.has_usable_password() and parent.family.students.count() == 2
    consents = ChildConsent.objects.filter(student__family=parent.family)
    assert {(c.student.first_name, c.purpose, c.given_by) for c in consents} == {
        ("Lucia", "lessons", parent),
        ("Mateo", "lessons", parent),
    }
    assert {c.notice for c in consents} == {privacy_notice_current()} and all(c.text_shown for c in consents)
    welcome = next(m for m in mail.outbox if m.to == ["new.parent@example.com"])
    assert "/accounts/welcome/" in welcome.body and "Lucia" in welcome.body and "Mateo" in welcome.body
    assert [a[0] for a in welcome.attachments] == ["demo-lucia.ics", "demo-mateo.ics"]
    assert "BEGIN:VEVENT" in welcome.attachments[0][1]
    assert any(m.to == [school_ready["teacher"].user.email] for m in mail.outbox)
    subscriptions = TuitionSubscription.objects.filter(family=parent.family)
    assert subscriptions.count() == 2 and {s.status for s in subscriptions} == {"trialing"}
    run = PipelineRun.objects.get(pipeline="enrollment")
    assert [s.name for s in run.steps.all()] == [
        "validate_enrollment",
        "create_family_account",
        "assign_teacher",
        "book_demo_lesson",
        "queue_welcome_emails",
        "hand_off_to_billing",
    ]


def test_when_no_teacher_has_a_free_slot_the_child_is_waitlisted_and_everyone_told(
    school_ready,
    django_capture_on_commit_callbacks,
):
    school_ready["teacher"].capacity = 0
    school_ready["teacher"].save()
    with django_capture_on_commit_callbacks(execute=True):
        [enrollment] = enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())
    assert enrollment.status == "waitlisted" and enrollment.demo_lesson is None
    assert "waiting list" in next(m.body for m in mail.outbox if m.to == ["new.parent@example.com"])
    assert any(m.subject.startswith("Waitlist") for m in mail.outbox)
    assert not TuitionSubscription.objects.exists()  # no charge while waiting


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"children__0__date_of_birth": date.today() - timedelta(days=4 * 365)}, "children-0-date_of_birth"),
        ({"phone": ""}, "phone"),
        ({"email": ""}, "email"),
        ({"consent": False}, "consent"),
        ({"payment_method_id": ""}, "payment_method_id"),
        ({"children__0__date_of_birth": date.today() + timedelta(days=3)}, "children-0-date_of_birth"),
        ({"children": []}, "children"),
        ({"windows": []}, "windows"),
        ({"tuition_plan_id": 999_999}, "tuition_plan"),
        (
            {"siblings": True, "children__1__first_name": "Lucia", "children__1__date_of_birth": years_ago(10)},
            "children-1-first_name",
        ),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(school_ready, change, field):
    with pytest.raises(InvalidInput) as refused:
        enrollment_submit(form=EnrollmentInputFactory(**change), idempotency_key=uuid.uuid4())
    assert field in refused.value.fields
    assert not Student.objects.exists() and not User.objects.filter(role="parent").exists()
    assert PipelineRun.objects.get().failed_step == "validate_enrollment"


def test_an_unknown_instrument_or_unserved_windows_are_refused(school_ready):

    with pytest.raises(InvalidInput) as unknown:
        enrollment_submit(
            form=EnrollmentInputFactory(children__0__instrument_id=999_999),
            idempotency_key=uuid.uuid4(),
        )
    assert "children-0-instrument" in unknown.value.fields
    with pytest.raises(InvalidInput) as unserved:
        enrollment_submit(
            form=EnrollmentInputFactory(windows=[Window(6, time(3), time(4))]), idempotency_key=uuid.uuid4()
        )
    assert "windows" in unserved.value.fields


def test_an_address_with_an_account_is_not_attached_to_a_new_family(school_ready):
    User.objects.create_user("taken@example.com", "a-long-test-password-1", role="parent")
    assert enrollment_submit(form=EnrollmentInputFactory(email="TAKEN@example.com"), idempotency_key=uuid.uuid4()) == []
    assert not Student.objects.exists() and not Family.objects.exists()


def test_the_owner_enrolling_by_phone_an_address_with_an_account_is_told_at_once(school_ready):
    User.objects.create_user("taken@example.com", "a-long-test-password-1", role="parent")

    with pytest.raises(InvalidInput) as refused:
        enrollment_submit(
            form=EnrollmentInputFactory(email="taken@example.com", source=Enrollment.Source.ADMIN),
            idempotency_key=uuid.uuid4(),
        )

    assert refused.value.fields == {"email": ["This address already has an account: enroll from that family."]}
    assert not Student.objects.exists() and not Family.objects.exists()
    assert PipelineRun.objects.get().failed_step == "create_family_account"


@pytest.mark.parametrize(("closed_days", "winner"), [(14, "lighter"), (60, "busier")])
def test_the_teacher_with_fewest_students_wins_unless_they_have_no_slot(school_ready, closed_days, winner):
    # Given the school's piano teacher with one student, free this week, and a piano teacher with none,
    # closed for the next two weeks (then free) or for longer than the booking horizon
    busier = school_ready["teacher"]
    StudentFactory(teacher=busier, instrument=school_ready["piano"], status=Student.Status.ACTIVE)
    lighter = TeacherFactory(instruments=[school_ready["piano"]], capacity=20)
    AvailabilityFactory(teacher=lighter, weekday=0, start_time="16:00", end_time="17:00")
    AvailabilityFactory(teacher=lighter, weekday=2, start_time="16:00", end_time="18:00")
    today = date.today()
    ClosureFactory(reason="Tour", teacher=lighter, start_date=today, end_date=today + timedelta(days=closed_days))

    # When a family enrolls
    [enrollment] = enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())

    # Then the teacher with fewer students gets the child even with a later slot, the other one when they have none
    expected = {"lighter": lighter, "busier": busier}[winner]
    assert enrollment.status == "active" and enrollment.student.teacher_id == expected.pk
    assert enrollment.demo_lesson.teacher_id == expected.pk
    if winner == "lighter":
        assert enrollment.demo_lesson.start_at.date() > today + timedelta(days=14)


@pytest.mark.parametrize("first_is_away", [True, False])
def test_between_teachers_with_as_many_students_the_earliest_slot_then_the_lower_id_wins(school_ready, first_is_away):
    # Given two piano teachers without students and the same hours, the school's (lower id) maybe away this week
    first = school_ready["teacher"]
    second = TeacherFactory(instruments=[school_ready["piano"]], capacity=20)
    AvailabilityFactory(teacher=second, weekday=0, start_time="16:00", end_time="17:00")
    AvailabilityFactory(teacher=second, weekday=2, start_time="16:00", end_time="18:00")
    today = date.today()
    if first_is_away:
        ClosureFactory(reason="Away", teacher=first, start_date=today, end_date=today + timedelta(days=8))

    [enrollment] = enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())

    # Then the one free sooner gets the child; free at the same time, the lower id
    assert enrollment.student.teacher_id == (second.pk if first_is_away else first.pk)
