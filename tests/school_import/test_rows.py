"""A file with wrong rows: every error reported under its row and column, and nothing written; a dry run writes
nothing either; Jackrabbit's two sheets join on the Family ID."""

import pytest

from accounts.models import Family, User
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.school_import.reading import Upload, rows_read
from cedarheights.school_import.run import FAILED, NEW, school_import_run
from cedarheights.school_import.samples.make_samples import BAD_ROWS
from scheduling.models import Lesson, Student, WeeklyLesson
from tests.school_import.samples import run

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EXPECTED_COLUMNS = {
    number: "Lesson Time" if number in {21, 22} else column  # a Sunday is outside the teacher's hours; a clash
    for number, (column, _) in BAD_ROWS.items()
}


def test_twenty_bad_rows_are_each_reported_by_row_and_column_and_nothing_is_written(teachers_imported, owner):
    before = (Family.objects.count(), User.objects.count(), AuditEvent.objects.count())

    report = run("template_bad_rows.csv", actor=owner, commit=True)

    assert not report.committed
    assert {row.number: [column for column, _ in row.errors] for row in report.failed} == {
        number: [column] for number, column in EXPECTED_COLUMNS.items()
    }
    assert all(row.outcome == NEW for row in report.rows if row.number not in BAD_ROWS)
    assert (Family.objects.count(), User.objects.count(), AuditEvent.objects.count()) == before
    assert not Student.objects.exists() and not Lesson.objects.exists()


def test_a_clash_names_the_lesson_it_clashes_with(teachers_imported, owner):
    report = run("template_bad_rows.csv", actor=owner, commit=False)

    clash = next(row for row in report.failed if row.number == 22)
    assert clash.errors[0][0] == "Lesson Time" and "Clara Wieck already teaches" in clash.errors[0][1]


def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(teachers_imported, owner):
    report = run("template_500.csv", actor=owner, commit=False)

    assert not report.committed and not report.failed and report.count(NEW) == 500
    assert not Student.objects.exists() and not WeeklyLesson.objects.exists()
    assert not Family.objects.exists()


def test_jackrabbit_family_and_student_sheets_join_on_the_family_id(teachers_imported, owner):
    report = run("jackrabbit.xlsx", actor=owner)

    assert report.committed and len(report.rows) == 20 and not report.failed
    maya = Student.objects.get(external_id="S-1")
    assert maya.family.external_id == "F-1" and maya.family.city == "Toronto"
    assert maya.family.parents.filter(email__endswith="@template.example.com").exists()
    assert WeeklyLesson.objects.filter(student=maya).count() == 1


def test_a_sheet_without_a_required_column_is_refused_by_name(db):
    upload = Upload(name="students.csv", content=b"First Name,Last Name\nAda,Lovelace\n")

    with pytest.raises(InvalidInput) as refused:
        rows_read(uploads=[upload])

    assert "Student ID" in refused.value.message and "Birthday" in refused.value.message


def test_an_adult_in_a_my_music_staff_export_is_their_own_parent(teachers_imported, owner):
    content = (
        b"First Name,Last Name,Email,Birthday,Instrument,Status\n"
        b"Grace,Hopper,grace@example.com,1985-12-09,Piano,Active\n"
    )

    report = school_import_run(
        rows=rows_read(uploads=[Upload(name="mms.csv", content=content)]), actor=owner, commit=True
    )

    assert report.committed, report.failed
    grace = Student.objects.get(first_name="Grace")
    assert grace.family.parents.get().email == "grace@example.com"
    assert FAILED not in {row.outcome for row in report.rows}


def test_jackrabbit_as_two_csv_files_joins_the_same_way(teachers_imported, owner):
    families = b"Family ID,Family Name,City,Guardian 1 First Name,Guardian 1 Last Name,Guardian 1 Email\n" + (
        b"J-7,Okafor family,Ottawa,Ada,Okafor,ada.okafor@example.com\n"
    )
    students = (
        b"Family ID,Student ID,First Name,Last Name,Birthday,Instrument\nJ-7,JS-1,Chidi,Okafor,2014-05-01,Cello\n"
    )

    report = school_import_run(
        rows=rows_read(
            uploads=[Upload(name="students.csv", content=students), Upload(name="families.csv", content=families)]
        ),
        actor=owner,
        commit=True,
    )

    assert report.committed, report.failed
    chidi = Student.objects.get(external_id="JS-1")
    assert chidi.family.name == "Okafor family" and chidi.family.city == "Ottawa"
    assert chidi.family.parents.get().email == "ada.okafor@example.com"


def test_a_changed_row_updates_its_record_and_only_that_row(teachers_imported, owner):
    run("jackrabbit.xlsx", actor=owner)
    upload = Upload(
        name="one.csv",
        content=(
            "Student ID,First Name,Last Name,Birthday,Instrument,Family ID,Guardian 1 Email\n"
            f"S-1,Maya-Rose,{Student.objects.get(external_id='S-1').last_name},"
            f"{Student.objects.get(external_id='S-1').date_of_birth},Piano,F-1,"
            f"{Family.objects.get(external_id='F-1').parents.first().email}\n"
        ).encode(),
    )

    report = school_import_run(rows=rows_read(uploads=[upload]), actor=owner, commit=True)

    assert [row.outcome for row in report.rows] == ["updated"]
    assert Student.objects.get(external_id="S-1").first_name == "Maya-Rose"
