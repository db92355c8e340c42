"""Two families with similar names (the same last name, children named Maya and Maia), each with a history: lessons
(one with a note to the family and the teacher's private note, one cancelled with notice, which earns a make-up
credit), a payment with its ledger lines, receipt and email, a consent, a corrected child's name, an annotated
correction request."""

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import CorrectionRequest, Family, User
from accounts.privacy_requests import correction_request_raise, correction_request_resolve
from billing.services.ledger import payment_record_succeeded
from cedarheights.selectors import school_today
from enrollment.makeups import lesson_cancel_by_family
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student
from scheduling.services import student_names_correct
from tests.e2e.conftest import browser_page  # noqa: F401  (the browser tests' headless page, for test_browser)
from tests.factories import ChildConsentFactory, EnrollmentFactory, ParentFactory, PaymentFactory, StudentFactory


@dataclass
class History:
    parent: User
    family: Family
    student: Student
    enrollment: Enrollment
    shared_lesson: Lesson
    cancelled_lesson: Lesson


def _history(week, owner, *, parent, student, enrollment, hour: int, amount_cents: int) -> History:
    today = school_today()
    shared = week.lesson_on(today - timedelta(days=7), hour=hour, student=student)
    Lesson.objects.filter(pk=shared.pk).update(
        family_note=f"{student.first_name} played the scales well.", notes=f"PRIVATE about {student.first_name}"
    )
    cancelled = week.lesson_on(today + timedelta(days=10), hour=hour, student=student)
    lesson_cancel_by_family(lesson=cancelled, actor=parent, reason="Family trip")
    payment_record_succeeded(payment=PaymentFactory(family=parent.family, amount_cents=amount_cents))
    ChildConsentFactory(student=student, given_by=parent)
    student_names_correct(parent=parent, names={student.pk: (student.first_name, "Nguyen")})
    correction = correction_request_raise(
        family=parent.family, parent=parent, about="Date of birth", requested_change="It is a year earlier."
    )
    correction_request_resolve(
        actor=owner, correction=correction, status=CorrectionRequest.Status.ANNOTATED, annotation="Disputed by parent."
    )
    return History(parent, parent.family, student, enrollment, shared, cancelled)


@pytest.fixture
def owner(db):
    return User.objects.create_superuser("amira@example.com", "an-owner-password-1")


@pytest.fixture
def nguyens(week, owner, django_capture_on_commit_callbacks) -> tuple[History, History]:
    """The week's family (the Nguyens, Maya) and another Nguyen family (Maia) with the same teacher."""
    Family.objects.filter(pk=week.parent.family_id).update(name="Nguyen family")
    User.objects.filter(pk=week.parent.pk).update(
        first_name="Linh", last_name="Nguyen", email="linh.nguyen@example.com"
    )
    Student.objects.filter(pk=week.student.pk).update(first_name="Maya", last_name="Nguyen")
    week.parent.refresh_from_db()
    week.student.refresh_from_db()
    twin_parent = ParentFactory(
        first_name="Lin", last_name="Nguyen", email="lin.nguyen@example.com", family__name="Nguyen family"
    )
    twin_student = StudentFactory(
        family=twin_parent.family,
        first_name="Maia",
        last_name="Nguyen",
        instrument=week.student.instrument,
        teacher=week.teacher,
    )
    twin_enrollment = EnrollmentFactory(student=twin_student, status=Enrollment.Status.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        ours = _history(
            week,
            owner,
            parent=week.parent,
            student=week.student,
            enrollment=week.enrollment,
            hour=12,
            amount_cents=14100,
        )
        theirs = _history(
            week,
            owner,
            parent=twin_parent,
            student=twin_student,
            enrollment=twin_enrollment,
            hour=14,
            amount_cents=14200,
        )
    return ours, theirs


def parent_client(parent: User) -> Client:
    client = Client()
    client.force_login(parent)
    return client


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def exported(content: bytes) -> dict[str, list[dict]]:
    """The zip's JSON files by dataset name."""
    return {
        name.removeprefix("json/").removesuffix(".json"): json.loads(text)
        for name, text in unzip(content).items()
        if name.startswith("json/")
    }
