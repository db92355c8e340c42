"""The owner's side: access requests listed most urgent first with days left, a warning from day 20 and overdue in
red; logging a request received otherwise; the actions (extend, build the export, mark answered); resolving a
correction request as annotated, shown on the family's page; open requests on the dashboard."""

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import AccessRequest, CorrectionRequest, DataExport
from accounts.privacy_requests import access_request_log, correction_request_raise
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_today
from tests.factories import ChildConsentFactory, ParentFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_accessrequest_changelist")


@pytest.fixture
def owner_user(owner_client):
    from accounts.models import User

    return User.objects.get(email="owner@example.com")


def _logged(owner, days_ago: int, family=None) -> AccessRequest:
    return access_request_log(
        actor=owner,
        family=family or ParentFactory().family,
        channel=AccessRequest.Channel.PHONE,
        received_on=school_today() - timedelta(days=days_ago),
    )


def test_the_list_puts_the_most_urgent_first_and_marks_day_20_and_overdue(school, owner_client, owner_user):
    calm, warned, overdue = _logged(owner_user, 3), _logged(owner_user, 22), _logged(owner_user, 33)

    page = owner_client.get(CHANGELIST)

    assert list(page.context["cl"].result_list) == [overdue, warned, calm]
    body = page.content.decode()
    assert '<strong class="deadline-overdue">Overdue by 3 days' in body and "style=" not in body.split("results")[1]
    assert ".deadline-overdue" in body  # the class's colour, in the page's nonced style
    assert "⚠ 8 days left (day 22)" in body


def test_an_extended_request_sorts_by_its_new_due_day(school, owner_client, owner_user):
    extended = _logged(owner_user, 25)
    AccessRequest.objects.filter(pk=extended.pk).update(extended_at=extended.created_at, extension_reason="Storage")
    later = _logged(owner_user, 10)

    assert list(owner_client.get(CHANGELIST).context["cl"].result_list) == [later, extended]


def test_the_owner_logs_a_request_received_by_phone(school, owner_client, owner_user, week):
    family = week.parent.family
    received = school_today() - timedelta(days=2)
    response = owner_client.post(
        reverse("admin:accounts_accessrequest_add"),
        {"family": family.pk, "channel": "phone", "received_on": received.isoformat(), "details": "Called Monday"},
    )

    assert response.status_code == 302
    request = AccessRequest.objects.get(family=family)
    assert (request.channel, request.received_on, request.logged_by) == ("phone", received, owner_user)
    assert AuditEvent.objects.filter(family_id=family.pk, action="create").exists()


def test_a_request_logged_for_tomorrow_is_a_form_error(school, owner_client, week):
    tomorrow = school_today() + timedelta(days=1)
    response = owner_client.post(
        reverse("admin:accounts_accessrequest_add"),
        {"family": week.parent.family.pk, "channel": "phone", "received_on": tomorrow.isoformat()},
    )
    assert response.status_code == 200 and "not a day in the future" in response.content.decode()
    assert not AccessRequest.objects.exists()


def _action(client, action: str, request: AccessRequest, **fields):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [request.pk], **fields})


def test_the_extend_action_asks_for_a_reason_then_extends_and_emails(
    school, owner_client, owner_user, week, mailoutbox, django_capture_on_commit_callbacks
):
    request = _logged(owner_user, 12, family=week.parent.family)
    form = _action(owner_client, "extend", request)
    assert form.status_code == 200 and "reason" in form.content.decode()
    missing = _action(owner_client, "extend", request, apply="1", reason="")
    assert missing.status_code == 200 and AccessRequest.objects.get().extended_at is None

    with django_capture_on_commit_callbacks(execute=True):
        done = _action(owner_client, "extend", request, apply="1", reason="Records are in storage.")

    assert done.status_code == 302
    request.refresh_from_db()
    assert request.extension_reason == "Records are in storage." and request.due_on == request.received_on + timedelta(
        60
    )
    assert [m.to for m in mailoutbox] == [[week.parent.email]]


def test_extending_a_second_time_is_said_at_once_without_the_reason_form(school, owner_client, owner_user):
    request = _logged(owner_user, 5)
    _action(owner_client, "extend", request, apply="1", reason="First")

    again = _action(owner_client, "extend", request)

    assert again.status_code == 302
    page = owner_client.get(again.url).content.decode()
    assert "extended already (the law allows one extension)" in page and 'name="reason"' not in page
    request.refresh_from_db()
    assert request.extension_reason == "First"


def test_an_extended_request_is_warned_about_in_its_last_10_days_not_from_day_20(school, owner_client, owner_user):
    day_25 = _logged(owner_user, 25)
    day_52 = _logged(owner_user, 52)
    AccessRequest.objects.update(extended_at=day_25.created_at, extension_reason="Storage")
    day_25.refresh_from_db()
    day_52.refresh_from_db()

    assert not day_25.needs_warning(school_today()) and day_52.needs_warning(school_today())
    body = owner_client.get(CHANGELIST).content.decode()
    assert "⚠ 8 days left (day 52)" in body and "(day 25)" not in body


def test_the_action_pages_show_their_title_once(school, owner_client, owner_user):
    request = _logged(owner_user, 4)
    page = _action(owner_client, "mark_answered", request).content.decode()
    assert page.count("<h1>Record the answer to") == 1


def test_the_build_action_builds_the_familys_export(
    school, owner_client, owner_user, week, mailoutbox, django_capture_on_commit_callbacks
):
    request = _logged(owner_user, 4, family=week.parent.family)
    with django_capture_on_commit_callbacks(execute=True):
        _action(owner_client, "build_export", request)

    export = DataExport.objects.get(access_request=request)
    assert export.built_at is not None and export.requested_by == owner_user
    assert AuditEvent.objects.get(action="export").actor == owner_user
    assert [m.to for m in mailoutbox] == [[week.parent.email]]


def test_mark_answered_records_the_day_and_note(school, owner_client, owner_user):
    request = _logged(owner_user, 4)
    response = _action(
        owner_client, "mark_answered", request, apply="1", answered_on=school_today().isoformat(), note="Zip sent"
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.answered_on, request.answer_note) == (school_today(), "Zip sent")


def test_an_annotated_correction_is_shown_on_the_familys_page(school, owner_client, owner_user, week):
    family = week.parent.family
    correction = correction_request_raise(
        family=family, parent=week.parent, about="Lesson of 3 March", requested_change="Was not a no-show."
    )
    url = reverse("admin:accounts_correctionrequest_change", args=[correction.pk])

    empty = owner_client.post(url, {"status": "annotated", "annotation": ""})
    assert empty.status_code == 200 and CorrectionRequest.objects.get().status == "open"
    # The error is on the annotation, and the page stays a form to fill in (not read-only).
    form = empty.context["adminform"].form
    assert form.errors == {"annotation": ["This field is required."]}
    assert 'name="annotation"' in empty.content.decode() and 'name="status"' in empty.content.decode()
    done = owner_client.post(url, {"status": "annotated", "annotation": "Parent disputes the no-show."})

    assert done.status_code == 302
    correction.refresh_from_db()
    assert (correction.status, correction.resolved_by) == ("annotated", owner_user)
    page = owner_client.get(reverse("admin:accounts_family_change", args=[family.pk])).content.decode()
    assert "Parent disputes the no-show." in page


def test_open_requests_wait_for_the_owner_on_the_dashboard(school, owner_client, owner_user):
    _logged(owner_user, 21)
    _logged(owner_user, 2)
    figures = owner_client.get(reverse("admin:index")).context["figures"]
    assert (figures["access_requests_open"], figures["access_requests_due_soon"]) == (2, 1)


def test_the_privacy_admins_showing_a_familys_records_audit_the_read(school, owner_client, owner_user, week):
    family = week.parent.family
    access_request = _logged(owner_user, 3, family=family)
    correction = correction_request_raise(family=family, parent=week.parent, about="Name", requested_change="Mai")
    export = DataExport.objects.create(family=family, access_request=access_request, requested_by=owner_user)
    pages = {
        "accessrequest": access_request,
        "correctionrequest": correction,
        "dataexport": export,
    }
    for model, record in pages.items():
        assert owner_client.get(reverse(f"admin:accounts_{model}_change", args=[record.pk])).status_code == 200
        assert owner_client.get(reverse(f"admin:accounts_{model}_changelist")).status_code == 200
        read = AuditEvent.objects.filter(action="view", object_type__model=model)
        assert read.filter(object_id=str(record.pk)).exists(), model
        assert read.filter(changes__shown=[record.pk]).exists(), model


def test_the_childs_consents_admin_audits_the_read(school, owner_client, week):
    consent = ChildConsentFactory(student=week.student)

    owner_client.get(reverse("admin:enrollment_childconsent_change", args=[consent.pk]))
    owner_client.get(reverse("admin:enrollment_childconsent_changelist"))

    read = AuditEvent.objects.filter(action="view", object_type__model="childconsent")
    assert read.filter(object_id=str(consent.pk)).exists() and read.filter(changes__shown=[consent.pk]).exists()
