"""A school's consents from before consent was per child (issue 18 §1): migration enrollment/0015 makes each
family's privacy-policy and photos consents the parent's consent for each of its children, naming notice version 1
and the words the page showed then; marketing stays the parent's own, with its notice and words."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import ConsentRecord
from enrollment.models import ChildConsent
from scheduling.models import Student

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("accounts", "0007_privacy"),
    ("enrollment", "0013_lifecycle_pause_began"),
    ("scheduling", "0015_reminders_schedule"),
]


def _latest():
    """Every app's newest migration: the consent move, and whatever came after it, so today's models read the rows."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_family_consents_become_each_childs_and_marketing_stays_the_parents():
    old = _migrate(BEFORE)
    family = old.get_model("accounts", "Family").objects.create(name="Legacy")
    parent = old.get_model("accounts", "User").objects.create(email="legacy@example.com", role="parent", family=family)
    piano = old.get_model("scheduling", "Instrument").objects.create(name="Harpsichord")
    OldStudent = old.get_model("scheduling", "Student")
    born = date.today() - timedelta(days=9 * 365)
    for name in ("Ada", "Bo"):
        OldStudent.objects.create(family=family, first_name=name, last_name="L", date_of_birth=born, instrument=piano)
    OldConsent = old.get_model("accounts", "ConsentRecord")
    given = timezone.now() - timedelta(days=100)
    for purpose in ("privacy_policy", "photos", "marketing"):
        OldConsent.objects.create(
            family=family, purpose=purpose, policy_version="2026-09", given_by=parent, given_at=given
        )
    try:
        _migrate(_latest())

        rows = {(c.student.first_name, c.purpose): c for c in ChildConsent.objects.select_related("student", "notice")}
        assert set(rows) == {("Ada", "lessons"), ("Bo", "lessons"), ("Ada", "photos"), ("Bo", "photos")}
        assert {(c.notice.version, c.given_by_id, c.given_at) for c in rows.values()} == {(1, parent.pk, given)}
        assert "privacy policy (version 2026-09)" in rows["Ada", "lessons"].text_shown
        assert all(Student.objects.get(first_name=name, family_id=family.pk).photos_allowed for name in ("Ada", "Bo"))
        marketing = ConsentRecord.objects.get()
        assert (marketing.purpose, marketing.given_by_id, marketing.notice.version) == ("marketing", parent.pk, 1)
        assert marketing.text_shown
    finally:
        _migrate(_latest())
