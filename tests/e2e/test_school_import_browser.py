"""The owner imports a school through the admin in the browser: the teachers, then the Jackrabbit sample, each
first as a dry run that writes nothing, then for real."""

import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from scheduling.models import AcademicYear, Student, Teacher, Term, WeeklyLesson
from tests.school_import.samples import SAMPLES

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
PASSWORD = "an-owner-password-1"


def _import(page, name: str, rows: int) -> None:
    page.set_input_files("#id_file", str(SAMPLES / name))
    page.get_by_role("button", name="Dry run").click()
    assert page.locator("#import-result").inner_text().startswith("Dry run")
    assert page.locator("#import-rows tbody tr").count() == rows
    page.get_by_role("button", name=f"Import {rows} rows").click()
    assert page.locator("#import-result").inner_text().startswith("Imported")


def test_the_owner_imports_the_teachers_and_a_sample_through_the_dry_run(live_server, school, browser_page):
    today = timezone.localdate()
    year = AcademicYear.objects.create(
        name="This year", start_date=today - timedelta(days=120), end_date=today + timedelta(days=240)
    )
    Term.objects.create(
        academic_year=year, name="This term", start_date=today - timedelta(days=30), end_date=today + timedelta(days=27)
    )
    owner = User.objects.create_superuser("owner@example.com", PASSWORD, first_name="Amira")
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/admin/accounts/family/")
    page.get_by_role("link", name="Import a school").click()

    _import(page, "teachers.csv", 12)
    assert Teacher.objects.count() == 12
    _import(page, "jackrabbit.xlsx", 20)

    assert Student.objects.count() == 20 and WeeklyLesson.objects.count() == 20
    assert page.get_by_text("No email was sent").is_visible()
