"""The school an import lands in: a term around today (its lessons are booked in it) and the owner importing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from scheduling.models import AcademicYear, Term
from tests.school_import.samples import run


@pytest.fixture
def term(school):
    today = timezone.localdate()
    year = AcademicYear.objects.create(
        name="This year", start_date=today - timedelta(days=120), end_date=today + timedelta(days=240)
    )
    return Term.objects.create(
        academic_year=year, name="This term", start_date=today - timedelta(days=30), end_date=today + timedelta(days=27)
    )


@pytest.fixture
def owner(db):
    return User.objects.create_superuser("importer@example.com", "an-importer-password-1")


@pytest.fixture
def teachers_imported(term, owner):
    report = run("teachers.csv", actor=owner)
    assert report.committed, report.failed
    return report
