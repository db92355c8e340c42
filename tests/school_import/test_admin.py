"""The owner imports through the admin: a dry run shows every row and writes nothing, Import writes the checked
file; the templates and samples download; each admin export is one audit event."""

import re

import pytest
from django import forms
from django.urls import reverse

from accounts.models import Family
from cedarheights.models import AuditEvent
from scheduling.models import Student, Teacher
from tests.factories import FamilyFactory, ParentFactory, StudentFactory
from tests.school_import.samples import SAMPLES

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
IMPORT_URL = reverse("admin:school_import")


def _upload(name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, (SAMPLES / name).read_bytes())


def test_the_families_list_links_to_the_import_page_which_says_no_email_is_sent(owner_client):
    listing = owner_client.get(reverse("admin:accounts_family_changelist"))
    page = owner_client.get(IMPORT_URL)

    assert IMPORT_URL in listing.content.decode()
    assert page.status_code == 200 and "No email is sent" in page.content.decode()


def test_the_owner_dry_runs_the_teachers_then_imports_them(owner_client, term):
    dry = owner_client.post(IMPORT_URL, {"file": _upload("teachers.csv")})

    html = dry.content.decode()
    assert dry.status_code == 200 and "Dry run" in html and "Import 12 rows" in html
    assert not Teacher.objects.exists()
    checked = re.search(r'name="checked" value="([^"]+)"', html).group(1)

    done = owner_client.post(IMPORT_URL, {"confirm": "1", "checked": checked}, follow=True)

    assert done.status_code == 200 and Teacher.objects.count() == 12
    assert "No email was sent" in done.content.decode()


def test_a_bad_file_shows_each_error_by_row_and_column_and_offers_no_import(
    owner_client, teachers_imported, mailoutbox
):
    page = owner_client.post(IMPORT_URL, {"file": _upload("template_bad_rows.csv")})

    html = page.content.decode()
    assert page.status_code == 200 and html.count('class="row-error"') == 20
    assert "Nothing was written" in html and 'name="confirm"' not in html
    assert not Family.objects.exists() and mailoutbox == []


def test_a_file_that_is_not_a_spreadsheet_is_a_form_error_not_a_500(owner_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = owner_client.post(IMPORT_URL, {"file": SimpleUploadedFile("notes.txt", b"hello")})

    assert page.status_code == 200 and "Upload a .csv or .xlsx file." in page.content.decode()


def test_a_tampered_confirmation_writes_nothing(owner_client, term):
    page = owner_client.post(IMPORT_URL, {"confirm": "1", "checked": "forged"})

    assert page.status_code == 200 and "upload it again" in page.content.decode()
    assert not Teacher.objects.exists()


@pytest.mark.parametrize("name", ["template.csv", "template.xlsx", "teachers-template.csv", "template_500.csv"])
def test_the_templates_and_samples_download(owner_client, name):
    response = owner_client.get(reverse("admin:school_import_file", args=[name]))

    assert response.status_code == 200 and name in response["Content-Disposition"]


def test_the_csv_template_has_the_headers_and_an_example_row(owner_client):
    text = owner_client.get(reverse("admin:school_import_file", args=["template.csv"])).content.decode()

    headers, example = text.strip().splitlines()
    assert headers.startswith("Student ID,First Name") and "Ayla" in example


def test_staff_without_the_add_permissions_cannot_import(client, db):
    from accounts.models import User

    clerk = User.objects.create_user("clerk@example.com", "a-clerk-password-1", is_staff=True, role=User.Role.ADMIN)
    client.force_login(clerk)

    assert client.get(IMPORT_URL).status_code == 403


@pytest.mark.parametrize(
    ("changelist", "model"),
    [("admin:accounts_family_export", Family), ("admin:scheduling_student_export", Student)],
)
def test_an_admin_export_writes_one_audit_event_naming_the_rows(owner_client, changelist, model):
    family = FamilyFactory(name="Nguyen family")
    ParentFactory(family=family)
    StudentFactory(family=family)
    StudentFactory(family=FamilyFactory(name="Nguyen-Tran family"))
    before = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count()

    form = owner_client.get(reverse(changelist)).context["form"]
    every_field = {name: "on" for name, field in form.fields.items() if isinstance(field, forms.BooleanField)}

    response = owner_client.post(reverse(changelist), {"format": "0", "resource": "0", **every_field})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT)
    assert events.count() == before + 1
    exported = events.latest("at").changes["exported"]
    assert exported[0] == model._meta.label and sorted(exported[1]) == sorted(
        model.objects.values_list("pk", flat=True)
    )
    assert response.content.decode().count("\n") == model.objects.count() + 1
