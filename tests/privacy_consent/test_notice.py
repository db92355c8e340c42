"""The privacy notice as versioned pages (issue 18 §1): a published version never changes, a change is a new
version, the public page shows the current one with the officer and the Commissioner, and lists the others."""

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.test import Client

from cedarheights.errors import InvalidInput, PrivacyNoticeNotEditable
from cedarheights.models import PrivacyNotice
from cedarheights.selectors import privacy_notice_current
from cedarheights.services import privacy_notice_draft_save, privacy_notice_publish
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def second_version(owner=None) -> PrivacyNotice:
    draft = privacy_notice_draft_save(actor=owner, title="Our privacy notice", body="Version two.\n\nIt says more.")
    return privacy_notice_publish(actor=owner, notice=draft)


def test_the_school_ships_a_published_first_version_that_covers_what_pipeda_asks():
    first = privacy_notice_current()

    assert first.version == 1 and first.published_at is not None
    for subject in ("What we collect", "Why we collect it", "Who sees it", "How long we keep it", "Your choices"):
        assert subject in first.body
    assert "30 days" in first.body and "priv.gc.ca" in first.body


def test_a_published_version_is_refused_by_the_service_and_by_postgresql():
    """Made to fail: without the trigger the raw UPDATE went through."""
    first = privacy_notice_current()

    with pytest.raises(PrivacyNoticeNotEditable):
        privacy_notice_draft_save(actor=None, title="x", body="Rewritten.", draft=first)
    with pytest.raises(DatabaseError), transaction.atomic():
        PrivacyNotice.objects.filter(pk=first.pk).update(body="Rewritten behind the service's back.")
    with pytest.raises(DatabaseError), transaction.atomic():
        PrivacyNotice.objects.filter(pk=first.pk).delete()

    first.refresh_from_db()
    assert "Rewritten" not in first.body


def test_editing_makes_the_next_version_and_publishing_makes_it_current_leaving_the_first_as_it_was():
    owner = UserFactory(role="admin", is_staff=True)
    first = privacy_notice_current()
    body_before = first.body

    draft = privacy_notice_draft_save(actor=owner, title="Draft", body="First words.")
    draft = privacy_notice_draft_save(actor=owner, title="Our notice", body="Better words.", draft=draft)
    assert draft.version == 2 and privacy_notice_current() == first  # a draft is nobody's notice yet

    privacy_notice_publish(actor=owner, notice=draft)

    assert privacy_notice_current().pk == draft.pk and privacy_notice_current().body == "Better words."
    first.refresh_from_db()
    assert first.body == body_before
    with pytest.raises(PrivacyNoticeNotEditable):
        privacy_notice_publish(actor=owner, notice=draft)


def test_one_draft_at_a_time_in_the_service_and_in_the_database():
    privacy_notice_draft_save(actor=None, title="Draft", body="One.")

    with pytest.raises(InvalidInput):
        privacy_notice_draft_save(actor=None, title="Draft", body="Two.")
    with pytest.raises(IntegrityError), transaction.atomic():
        PrivacyNotice.objects.create(version=9, title="Draft", body="Two.")


def test_an_empty_body_is_a_field_error():
    with pytest.raises(InvalidInput) as refused:
        privacy_notice_draft_save(actor=None, title="Draft", body="   ")

    assert refused.value.fields == {"body": ["Write the notice."]}


def test_the_public_page_shows_the_current_version_the_officer_the_commissioner_and_earlier_versions(school):
    second_version()

    page = Client().get("/privacy/")
    earlier = Client().get("/privacy/v1/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Version 2" in html and "It says more." in html and "priv.gc.ca" in html
    assert 'href="/privacy/v1/"' in html  # the earlier version is listed
    assert f"{school.retain_financial_years} years" in html  # the retention schedule, from School settings
    assert earlier.status_code == 200 and "This is an earlier version" in earlier.content.decode()
    assert Client().get("/privacy/v7/").status_code == 404


def test_the_owner_writes_a_draft_and_publishes_it_in_the_admin_and_a_published_one_opens_read_only(owner_client):
    first = privacy_notice_current()
    added = owner_client.post(
        "/admin/cedarheights/privacynotice/add/", {"title": "Our notice", "body": "Written in the admin."}
    )
    draft = PrivacyNotice.objects.get(published_at=None)
    published = owner_client.post(
        "/admin/cedarheights/privacynotice/",
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )

    assert added.status_code == 302 and draft.version == first.version + 1
    assert published.status_code == 302 and privacy_notice_current().pk == draft.pk
    refused = owner_client.post(
        f"/admin/cedarheights/privacynotice/{draft.pk}/change/", {"title": "Changed", "body": "Changed."}
    )
    assert refused.status_code == 403
    draft.refresh_from_db()
    assert draft.body == "Written in the admin."
