"""What an enrollment creates in accounts (the family, the parent, their consent) leaves audit rows naming who sent
it, written with the rest of the enrollment: all of it, or nothing."""

import uuid
from datetime import date

import pytest

from accounts.models import Family, User
from cedarheights.models import AuditEvent, PipelineRun
from cedarheights.selectors import privacy_notice_current
from enrollment import pipelines
from enrollment.inputs import ChildInput
from enrollment.models import ChildConsent, Enrollment
from enrollment.pipelines import enrollment_submit
from tests.enrollment.test_page import page_data
from tests.factories import EnrollmentInputFactory, ParentFactory, UserFactory

pytestmark = pytest.mark.django_db
ACCOUNT_MODELS = ("family", "user", "childconsent")


def account_audit_rows() -> dict[str, AuditEvent]:
    """model name → the one audit row about a family, a user or a child's consent."""
    events = AuditEvent.objects.filter(object_type__model__in=ACCOUNT_MODELS).select_related("object_type")
    rows = {event.object_type.model: event for event in events}
    assert len(rows) == events.count(), "at most one row per kind of record"
    return rows


def test_the_owner_enrolling_by_phone_is_named_in_the_audit_rows_of_the_family_the_parent_and_the_consent(
    school_ready,
):
    owner = UserFactory(role=User.Role.ADMIN, is_staff=True)
    form = EnrollmentInputFactory(source=Enrollment.Source.ADMIN, payment_method_id="")

    enrollment_submit(form=form, idempotency_key=uuid.uuid4(), user=owner)

    parent = User.objects.get(email="new.parent@example.com")
    rows = account_audit_rows()
    assert rows.keys() == set(ACCOUNT_MODELS)
    assert {event.actor for event in rows.values()} == {owner}
    assert {event.action for event in rows.values()} == {AuditEvent.Action.CREATE}
    assert rows["family"].object_id == str(parent.family_id)
    assert rows["user"].object_id == str(parent.pk)
    assert rows["childconsent"].object_id == str(ChildConsent.objects.get(student__family=parent.family).pk)
    assert rows["user"].changes["email"] == [None, "new.parent@example.com"]
    assert "password" not in rows["user"].changes
    assert rows["childconsent"].changes["notice"] == [None, str(privacy_notice_current())]


def test_the_phone_page_names_the_signed_in_owner_in_the_audit_rows(owner_client, school_ready):
    owner_client.post("/admin/enrollment/enrollment/phone/", page_data(school_ready, payment_method_id=""))

    rows = account_audit_rows()
    assert rows.keys() == set(ACCOUNT_MODELS)
    assert {event.actor.email for event in rows.values()} == {"owner@example.com"}


def test_a_family_enrolling_without_signing_in_leaves_the_same_rows_with_no_one_named(school_ready):
    enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())

    rows = account_audit_rows()
    assert rows.keys() == set(ACCOUNT_MODELS)
    assert {event.actor for event in rows.values()} == {None}


def test_a_signed_in_parent_enrolling_another_child_is_named_in_the_audit_row_of_their_consent(school_ready):
    parent = ParentFactory()
    child = ChildInput("Ines", "Lopez", date(2015, 6, 1), school_ready["piano"].pk)

    enrollment_submit(form=EnrollmentInputFactory(children=[child]), idempotency_key=uuid.uuid4(), user=parent)

    rows = account_audit_rows()
    assert rows.keys() == {"childconsent"}  # the family and the parent already existed
    assert rows["childconsent"].actor == parent


class LastStepFailed(Exception):
    pass


def test_an_enrollment_that_fails_at_its_last_step_leaves_no_account_and_no_audit_row(school_ready, monkeypatch):
    def hand_off_to_billing(ctx):
        raise LastStepFailed("billing refused")

    monkeypatch.setattr(pipelines, "STEPS", (*pipelines.STEPS[:-1], hand_off_to_billing))

    with pytest.raises(LastStepFailed):
        enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())

    assert not Family.objects.exists() and not User.objects.filter(email="new.parent@example.com").exists()
    assert not ChildConsent.objects.exists() and not AuditEvent.objects.exists()
    assert PipelineRun.objects.get(pipeline="enrollment").failed_step == "hand_off_to_billing"
