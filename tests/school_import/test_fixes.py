"""Issue 18 §6, the import's fixes: a re-import never moves a child, a malformed CSV or an endless number is an
error the owner reads (never a 500), the import's today is the school's, the template's example row imports on
the demo's school, and an admin export escapes a formula a parent typed. Each test fails without its fix."""

import re

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Family
from cedarheights.demo.school import FAMILIES
from cedarheights.errors import InvalidInput
from cedarheights.school_import.reading import Upload, rows_read
from cedarheights.school_import.run import FAILED, school_import_run
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import school_settings_update
from scheduling.models import Student
from tests.factories import FamilyFactory, ParentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
IMPORT_URL = reverse("admin:school_import")
HEADERS = "Student ID,First Name,Last Name,Birthday,Instrument,Family ID,Guardian 1 Email"


def _import(*lines: str, actor, commit: bool = True):
    content = "\n".join([HEADERS, *lines]).encode() + b"\n"
    return school_import_run(
        rows=rows_read(uploads=[Upload(name="rows.csv", content=content)]), actor=actor, commit=commit
    )


def test_a_reimport_that_puts_a_child_in_another_family_is_a_row_error_and_moves_nobody(school, owner):
    """Without the fix the second import moved Ada into family F-2 and called it an update."""
    assert _import("S-1,Ada,Ng,2015-01-02,Piano,F-1,one@example.org", actor=owner).committed

    report = _import("S-1,Ada,Ng,2015-01-02,Piano,F-2,two@example.org", actor=owner)

    assert not report.committed
    [(column, message)] = report.failed[0].errors
    assert column == "Family ID" and message.startswith("Student S-1 belongs to another family:")
    assert Student.objects.get(external_id="S-1").family.external_id == "F-1"


@pytest.mark.parametrize(
    "content",
    [
        f"{HEADERS}\nS-1,Ada,Ng,2015-01-02,Piano,F-1,one@example.org,\n".encode(),  # a trailing comma
        f'{HEADERS}\nS-1,"{"x" * 200_000}",Ng,2015-01-02,Piano,F-1,one@example.org\n'.encode(),  # over csv's limit
    ],
    ids=["more-cells-than-headers", "field-over-the-csv-limit"],
)
def test_a_malformed_csv_is_a_form_error_not_a_500(owner_client, content):
    """Without the fix tablib's InvalidDimensions and csv's Error escaped the page as a 500."""
    with pytest.raises(InvalidInput):
        rows_read(uploads=[Upload(name="rows.csv", content=content)])

    page = owner_client.post(IMPORT_URL, {"file": SimpleUploadedFile("rows.csv", content)})

    assert page.status_code == 200 and "rows.csv" in page.content.decode()
    assert page.context["problems"]


@pytest.mark.parametrize("minutes", ["inf", "1e999", "-inf"])
def test_an_endless_lesson_length_is_a_row_error(school, owner, minutes):
    """Without the fix int(float("inf")) raised OverflowError: a 500."""
    content = (
        f"{HEADERS},Teacher,Lesson Day,Lesson Time,Lesson Minutes\n"
        f"S-1,Ada,Ng,2015-01-02,Piano,F-1,one@example.org,clara@example.org,Tuesday,16:30,{minutes}\n"
    ).encode()

    report = school_import_run(
        rows=rows_read(uploads=[Upload(name="r.csv", content=content)]), actor=owner, commit=False
    )

    assert [column for column, _ in report.failed[0].errors] == ["Lesson Minutes"]


def test_the_import_reads_today_as_the_school_does(school, owner, settings):
    """The process runs 25 hours ahead of the school (Kiritimati against Pago Pago), so the two todays always
    differ. Without the fix a child born on the process's today, the school's tomorrow, was imported."""
    settings.TIME_ZONE = "Pacific/Kiritimati"
    school_settings_update(school_settings=school_settings_get(), time_zone="Pacific/Pago_Pago")
    tomorrow = timezone.localdate()
    assert tomorrow > school_today()

    report = _import(f"S-1,Ada,Ng,{tomorrow},Piano,F-1,one@example.org", actor=owner, commit=False)

    assert report.failed[0].errors == (("Birthday", "A birthday cannot be in the future."),)


def test_the_template_example_row_names_no_family_of_the_demo(owner_client, owner):
    """Without the fix the example's guardian was the demo's Linh Nguyen: the dry run refused the row under
    Guardian 1 Email. (Its teacher is an example too: the school's own teacher goes there.)"""
    for family in FAMILIES:
        ParentFactory(family=FamilyFactory(name=family.name), email=family.parent.email)
    template = owner_client.get(reverse("admin:school_import_file", args=["template.csv"])).content

    report = school_import_run(
        rows=rows_read(uploads=[Upload(name="template.csv", content=template)]), actor=owner, commit=False
    )

    assert report.rows[0].outcome == FAILED  # no teacher teacher@example.com on this school
    assert [column for column, _ in report.rows[0].errors] == ["Teacher"]


def test_a_one_row_file_counts_one_row(owner_client, school):
    """Without the fix the page said “1 rows” and offered “Import 1 rows”."""
    template = owner_client.get(reverse("admin:school_import_file", args=["teachers-template.csv"])).content

    dry = owner_client.post(IMPORT_URL, {"file": SimpleUploadedFile("teachers.csv", template)})

    html = dry.content.decode()
    assert "1 row, 0 with errors" in html and 'value="Import 1 row"' in html
    checked = re.search(r'name="checked" value="([^"]+)"', html).group(1)
    done = owner_client.post(IMPORT_URL, {"confirm": "1", "checked": checked}, follow=True).content.decode()
    assert "Imported: 1 row new" in done and "1 rows" not in done


def test_an_admin_export_escapes_a_name_typed_as_a_formula(owner_client):
    """Without IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT the name went out as a formula a spreadsheet runs."""
    FamilyFactory(name='=HYPERLINK("https://evil.example.org","Open")')
    url = reverse("admin:accounts_family_export")
    form = owner_client.get(url).context["form"]
    every_field = {name: "on" for name, field in form.fields.items() if isinstance(field, forms.BooleanField)}

    exported = owner_client.post(url, {"format": "0", "resource": "0", **every_field}).content.decode()

    assert "HYPERLINK(" in exported and "=HYPERLINK" not in exported
    assert Family.objects.count() == 1
