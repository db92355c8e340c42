"""The portal's "My data": a parent asks for the family's data (one open request at a time), gets the export by a
link that works once and expires, corrects contact details and children's names (audited), and asks to correct
anything else."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessRequest, CorrectionRequest, DataExport
from accounts.privacy_requests import data_exports_expired_clear
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_today
from tests.factories import ParentFactory, StudentFactory
from tests.privacy_access.conftest import exported, parent_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def parent(week):
    return week.parent


def _ask(client, capture):
    with capture(execute=True):
        return client.post(reverse("family-data-ask"), follow=True)


def _emailed_link(mailoutbox) -> str:
    [email] = [m for m in mailoutbox if "ready to download" in m.subject]
    return next(word for word in email.body.split() if "/my-data/export/link/" in word)


def test_asking_opens_a_request_received_today_and_builds_the_export_once(
    parent, mailoutbox, django_capture_on_commit_callbacks
):
    client = parent_client(parent)
    asked = _ask(client, django_capture_on_commit_callbacks)
    assert "being put together" in asked.content.decode()  # the page the ask lands on, before the build ran

    request = AccessRequest.objects.get(family=parent.family)
    assert (request.channel, request.received_on, request.requested_by) == ("portal", school_today(), parent)
    export = DataExport.objects.get(access_request=request)
    assert export.built_at is not None and export.expires_at - export.built_at == timedelta(days=7)
    assert exported(bytes(export.content))["parents"][0]["id"] == parent.pk
    assert AuditEvent.objects.filter(action="export", family_id=parent.family_id).count() == 1
    assert "Download your data" in client.get(reverse("family-my-data")).content.decode()
    assert _emailed_link(mailoutbox).startswith("http")


def test_a_second_ask_shows_the_open_request_and_opens_no_other(parent, django_capture_on_commit_callbacks):
    client = parent_client(parent)
    _ask(client, django_capture_on_commit_callbacks)
    page = _ask(client, django_capture_on_commit_callbacks)

    assert AccessRequest.objects.filter(family=parent.family).count() == 1
    assert DataExport.objects.filter(family=parent.family).count() == 1
    assert "is still open" in page.content.decode()


def test_the_export_downloads_once_from_the_portal_then_410(parent, django_capture_on_commit_callbacks):
    client = parent_client(parent)
    _ask(client, django_capture_on_commit_callbacks)
    export = DataExport.objects.get(family=parent.family)
    url = reverse("family-data-export", args=[export.pk])

    first = client.post(url)
    assert first.status_code == 200 and first["Content-Type"] == "application/zip"
    assert exported(first.content)["children"][0]["family_id"] == parent.family_id
    second = client.post(url)
    assert second.status_code == 410 and "no longer available" in second.content.decode()
    export.refresh_from_db()
    assert export.downloaded_at is not None and bytes(export.content) == b""


def test_the_emailed_link_works_once(parent, mailoutbox, django_capture_on_commit_callbacks):
    client = parent_client(parent)
    _ask(client, django_capture_on_commit_callbacks)
    link = _emailed_link(mailoutbox)

    assert client.post(link).status_code == 200
    assert client.post(link).status_code == 410
    assert client.get(link).status_code == 410
    assert client.post(reverse("family-data-export", args=[DataExport.objects.get().pk])).status_code == 410


def test_opening_the_emailed_link_spends_nothing_until_the_button_is_pressed(
    parent, mailoutbox, django_capture_on_commit_callbacks
):
    """Made to fail first: a GET downloaded and spent the export, so a mail scanner opening the link (or another
    site sending the browser there) left the family with nothing."""
    client = parent_client(parent)
    _ask(client, django_capture_on_commit_callbacks)
    link = _emailed_link(mailoutbox)

    opened, again = client.get(link), client.get(link)

    assert opened.status_code == again.status_code == 200 and "application/zip" not in opened["Content-Type"]
    assert "Download your data" in again.content.decode()
    assert DataExport.objects.get().downloaded_at is None
    assert client.get(reverse("family-data-export", args=[DataExport.objects.get().pk])).status_code == 405
    assert client.post(link)["Content-Type"] == "application/zip"


def test_after_a_download_the_family_may_ask_for_a_new_copy_under_the_same_request(
    parent, django_capture_on_commit_callbacks
):
    """Made to fail first: while the request stayed open, asking again returned it and built nothing, so a family
    whose download failed half-way waited for the owner."""
    client = parent_client(parent)
    _ask(client, django_capture_on_commit_callbacks)
    client.post(reverse("family-data-export", args=[DataExport.objects.get().pk]))
    assert "Ask for a new copy" in client.get(reverse("family-my-data")).content.decode()

    page = _ask(client, django_capture_on_commit_callbacks)

    assert AccessRequest.objects.filter(family=parent.family).count() == 1
    newest = DataExport.objects.filter(family=parent.family).order_by("-pk").first()
    assert DataExport.objects.filter(family=parent.family).count() == 2 and newest.built_at is not None
    assert "a new copy of your data" in page.content.decode()


def test_an_expired_link_is_gone(parent, mailoutbox, django_capture_on_commit_callbacks):
    client = parent_client(parent)
    _ask(client, django_capture_on_commit_callbacks)
    DataExport.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get(_emailed_link(mailoutbox)).status_code == 410


def test_an_expired_exports_zip_is_dropped_and_a_fresh_one_kept(parent, django_capture_on_commit_callbacks):
    client = parent_client(parent)
    _ask(client, django_capture_on_commit_callbacks)
    fresh = DataExport.objects.get()
    expired = DataExport.objects.create(
        family=parent.family,
        content=b"zip",
        built_at=timezone.now() - timedelta(days=8),
        expires_at=timezone.now() - timedelta(days=1),
    )

    assert data_exports_expired_clear() == 1
    expired.refresh_from_db()
    fresh.refresh_from_db()
    assert bytes(expired.content) == b"" and bytes(fresh.content) != b""


def test_another_familys_parent_cannot_use_the_link(parent, mailoutbox, django_capture_on_commit_callbacks):
    _ask(parent_client(parent), django_capture_on_commit_callbacks)
    stranger = parent_client(ParentFactory())
    link = _emailed_link(mailoutbox)

    assert stranger.get(link).status_code == 410 and stranger.post(link).status_code == 410
    assert stranger.post(reverse("family-data-export", args=[DataExport.objects.get().pk])).status_code == 410
    assert parent_client(parent).post(link)["Content-Type"] == "application/zip"  # the stranger took nothing


def test_the_link_asks_to_sign_in_first(parent, mailoutbox, django_capture_on_commit_callbacks, client):
    _ask(parent_client(parent), django_capture_on_commit_callbacks)
    response = client.get(_emailed_link(mailoutbox))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert DataExport.objects.get().downloaded_at is None


def test_a_parent_corrects_their_contact_details_audited_with_old_and_new(parent):
    family = parent.family
    old_phone = parent.phone
    form = {
        "first_name": parent.first_name,
        "last_name": parent.last_name,
        "phone": "416-555-0199",
        "street": "12 Cedar Lane",
        "city": family.city,
        "province": family.province,
        "postal_code": family.postal_code,
        "emergency_contact_name": "Grandma Ng",
        "emergency_contact_phone": "416-555-0100",
    }
    response = parent_client(parent).post(reverse("family-details-correct"), form)

    assert response.status_code == 302
    parent.refresh_from_db()
    family.refresh_from_db()
    assert (parent.phone, family.street, family.emergency_contact_name) == (
        "416-555-0199",
        "12 Cedar Lane",
        "Grandma Ng",
    )
    person = AuditEvent.objects.get(object_id=str(parent.pk), object_type__model="user", action="update")
    assert person.changes == {"phone": [old_phone, "416-555-0199"]} and person.family_id == family.pk
    household = AuditEvent.objects.get(object_id=str(family.pk), object_type__model="family", action="update")
    assert household.changes["street"] == ["", "12 Cedar Lane"] and household.family_id == family.pk
    assert household.actor == parent


def test_the_profile_page_is_audited_as_the_same_correction(parent):
    """Made to fail: the profile saved the parent's name with no audit event before this issue."""
    parent_client(parent).post(
        reverse("profile"), {"first_name": "Linh", "last_name": parent.last_name, "phone": parent.phone}
    )
    event = AuditEvent.objects.get(object_type__model="user", object_id=str(parent.pk), action="update")
    assert event.changes["first_name"][1] == "Linh" and event.family_id == parent.family_id


def test_a_bad_correction_keeps_what_was_typed(parent):
    response = parent_client(parent).post(
        reverse("family-details-correct"), {"first_name": "Linh", "last_name": "", "phone": "x" * 40, "city": "Guelph"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Guelph" in body and "errorlist" in body
    parent.refresh_from_db()
    assert parent.family.city != "Guelph"


def test_a_parent_corrects_a_childs_name_audited_for_the_child(parent, week):
    child = week.student
    old_first = child.first_name
    response = parent_client(parent).post(
        reverse("family-children-correct"), {f"first_{child.pk}": "Mai", f"last_{child.pk}": child.last_name}
    )

    assert response.status_code == 302
    child.refresh_from_db()
    assert child.first_name == "Mai"
    event = AuditEvent.objects.get(object_type__model="student", object_id=str(child.pk))
    assert event.changes == {"first_name": [old_first, "Mai"]}
    assert (event.family_id, event.student_id, event.actor) == (parent.family_id, child.pk, parent)


def test_another_familys_child_is_not_renamed_through_the_form(parent):
    other = StudentFactory(first_name="Maia")
    parent_client(parent).post(
        reverse("family-children-correct"), {f"first_{other.pk}": "Hacked", f"last_{other.pk}": "X"}
    )
    other.refresh_from_db()
    assert other.first_name == "Maia"


def test_anything_else_is_a_correction_request_for_the_owner(parent):
    response = parent_client(parent).post(
        reverse("family-correction-request"),
        {"about": "Maya's date of birth", "requested_change": "She was born a year earlier."},
    )

    assert response.status_code == 302
    request = CorrectionRequest.objects.get(family=parent.family)
    assert (request.status, request.requested_by) == ("open", parent)
    assert "Maya&#x27;s date of birth" in parent_client(parent).get(reverse("family-my-data")).content.decode()


def test_the_page_is_for_parents(week, owner_client, client):
    assert owner_client.get(reverse("family-my-data")).status_code == 302  # staff go to the admin
    client.force_login(week.teacher.user)
    assert client.get(reverse("family-my-data")).status_code == 404
