"""The family's export: every record of the family, as JSON and CSV with a README, and nothing of another family
with similar names (the same family name and last name, a child named Maia beside Maya)."""

import csv
import io

import pytest

from accounts.models import CorrectionRequest
from billing.models import LedgerEntry, Payment, Receipt
from cedarheights.models import AuditEvent, EmailLog
from cedarheights.privacy_export import family_datasets, family_export_zip
from enrollment.models import MakeupCredit, MakeupCreditEntry
from scheduling.models import Lesson
from tests.privacy_access.conftest import exported, unzip

pytestmark = pytest.mark.django_db


def _ids(rows: list[dict]) -> set:
    return {row["id"] for row in rows}


def test_the_export_holds_every_record_of_the_family(nguyens):
    ours, _ = nguyens
    content, counts = family_export_zip(ours.family)
    data = exported(content)

    assert _ids(data["parents"]) == {ours.parent.pk}
    assert _ids(data["children"]) == {ours.student.pk}
    assert _ids(data["enrollments"]) == {ours.enrollment.pk}
    assert _ids(data["lessons"]) == set(Lesson.objects.filter(student=ours.student).values_list("pk", flat=True))
    assert len(data["lessons"]) == 2
    cancelled = next(row for row in data["lessons"] if row["id"] == ours.cancelled_lesson.pk)
    assert cancelled["outcome"]  # the lesson's outcome is in
    family_credits = MakeupCredit.objects.filter(enrollment=ours.enrollment)
    assert family_credits.count() == 1 and _ids(data["makeup_credits"]) == {family_credits.get().pk}
    assert _ids(data["makeup_credit_entries"]) == set(
        MakeupCreditEntry.objects.filter(credit__enrollment=ours.enrollment).values_list("pk", flat=True)
    )
    assert _ids(data["payments"]) == set(Payment.objects.filter(family=ours.family).values_list("pk", flat=True))
    assert [row["amount_cents"] for row in data["payments"]] == [14100]
    assert _ids(data["receipts"]) == set(Receipt.objects.filter(family=ours.family).values_list("pk", flat=True))
    assert len(data["receipts"]) == 1
    ledger = set(LedgerEntry.objects.filter(family=ours.family).values_list("pk", flat=True))
    assert ledger and _ids(data["ledger"]) == ledger
    assert [row["given_by_id"] for row in data["consents"]] == [ours.parent.pk]
    emails = set(EmailLog.objects.filter(recipient=ours.parent.email).values_list("pk", flat=True))
    assert emails and _ids(data["emails"]) == emails
    events = AuditEvent.objects.filter(family_id=ours.family.pk) | AuditEvent.objects.filter(student_id=ours.student.pk)
    assert _ids(data["audit_events"]) == set(events.values_list("pk", flat=True))
    annotated = CorrectionRequest.objects.get(family=ours.family)
    assert [(row["id"], row["status"], row["annotation"]) for row in data["correction_requests"]] == [
        (annotated.pk, "annotated", "Disputed by parent.")
    ]
    assert counts["lessons"] == 2 and counts["payments"] == 1


def test_the_export_holds_nothing_of_a_family_with_similar_names(nguyens):
    ours, theirs = nguyens
    files = unzip(family_export_zip(ours.family)[0])
    everything = "\n".join(files.values())

    assert "Maia" not in everything and theirs.parent.email not in everything
    assert "14200" not in everything  # their payment
    for rows in exported(family_export_zip(ours.family)[0]).values():
        for row in rows:
            assert row.get("family_id") in (None, ours.family.pk)
            assert row.get("student_id") in (None, ours.student.pk)
    theirs_lesson_ids = {theirs.shared_lesson.pk, theirs.cancelled_lesson.pk}
    assert not theirs_lesson_ids & _ids(exported(family_export_zip(ours.family)[0])["lessons"])


def test_notes_shared_with_the_family_are_in_and_private_teacher_notes_are_not(nguyens):
    ours, _ = nguyens
    data = exported(family_export_zip(ours.family)[0])

    shared = next(row for row in data["lessons"] if row["id"] == ours.shared_lesson.pk)
    assert shared["family_note"] == "Maya played the scales well." and "notes" not in shared
    assert "PRIVATE" not in "\n".join(unzip(family_export_zip(ours.family)[0]).values())


def test_no_password_or_link_secret_leaves_in_the_export(nguyens):
    ours, _ = nguyens
    parent = exported(family_export_zip(ours.family)[0])["parents"][0]

    assert "password" not in parent and "password_link_nonce" not in parent
    assert parent["email"] == ours.parent.email


def test_each_dataset_is_json_and_csv_and_the_readme_names_them(nguyens):
    ours, _ = nguyens
    files = unzip(family_export_zip(ours.family)[0])
    names = [dataset.name for dataset in family_datasets(ours.family)]

    assert {f"json/{name}.json" for name in names} | {f"csv/{name}.csv" for name in names} | {"README.txt"} == set(
        files
    )
    lessons = list(csv.DictReader(io.StringIO(files["csv/lessons.csv"])))
    assert {int(row["id"]) for row in lessons} == {ours.shared_lesson.pk, ours.cancelled_lesson.pk}
    assert all(f"- {name} (" in files["README.txt"] for name in names)
    assert "Privacy Commissioner" in files["README.txt"] and "&#x27;" not in files["README.txt"]


def test_links_in_emails_sent_are_removed_so_one_parents_link_never_reaches_the_other(nguyens):
    """Made to fail first: the export carried each email's text as sent, a working set-password link included."""
    ours, _ = nguyens
    EmailLog.objects.create(
        recipient=ours.parent.email,
        template="welcome_parent",
        subject="Welcome",
        status=EmailLog.Status.SENT,
        text_body="Set your password: https://school.example/accounts/set-password/MQ/secret-token/ (3 days).",
    )

    files = unzip(family_export_zip(ours.family)[0])

    assert "secret-token" not in "".join(files.values())
    sent = [row for row in exported(family_export_zip(ours.family)[0])["emails"] if row["subject"] == "Welcome"]
    assert sent[0]["text_as_sent"] == "Set your password: [link removed] (3 days)."


def test_a_kind_with_no_records_still_has_its_csv_header(nguyens):
    ours, _ = nguyens
    files = unzip(family_export_zip(ours.family)[0])

    assert (
        files["csv/enrollment_pauses.csv"].splitlines() and "id" in files["csv/enrollment_pauses.csv"].splitlines()[0]
    )
    assert "Questions: " in files["README.txt"] and "the school's owner" not in files["README.txt"]
