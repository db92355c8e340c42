"""The owner resends an unconfirmed or failed email in one click: a new log row linked to the old one, sent once.

Resent twice, by two owners at once, or beside its own pending retry: tests/reliability/test_email_replays.py.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from cedarheights.models import AuditEvent, EmailLog
from tests.cedarheights.email_log import (
    CALENDAR,
    LIST_URL,
    button_url,
    logged_email,
    messages_of,
    page_url,
    resend_action,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def front_desk_client() -> Client:
    """Staff who may read the email log but hold no permission to resend."""
    clerk = User.objects.create_user("desk@example.com", "a-clerk-password-1", is_staff=True, role=User.Role.ADMIN)
    clerk.user_permissions.add(Permission.objects.get(codename="view_emaillog"))
    client = Client()
    client.force_login(clerk)
    return client


@pytest.mark.django_db(transaction=True)
def test_the_owner_resends_an_unconfirmed_email_from_the_list_and_it_goes_once_as_it_was(owner_client):
    """Committed for real: the service's durable transaction, then the task on commit (django-q2 runs it inline)."""
    old = logged_email()

    response = resend_action(owner_client, old)

    new = EmailLog.objects.get(resend_of=old)
    assert messages_of(response) == [f"Email #{old.pk} to ines@example.com resent as #{new.pk}."]
    assert new.status == EmailLog.Status.SENT and new.sent_at is not None
    [sent] = mail.outbox
    assert (sent.to, sent.subject, sent.body) == (["ines@example.com"], old.subject, old.text_body)
    assert sent.alternatives[0][0] == old.html_body and [list(a) for a in sent.attachments] == [CALENDAR]
    old.refresh_from_db()
    assert old.status == EmailLog.Status.UNCONFIRMED  # the log stays a true record: nobody knows whether it went
    listing = owner_client.get(LIST_URL).content.decode()
    assert f"Resent as #{new.pk}</a>" in listing and f"Resend of #{old.pk}</a>" in listing
    assert AuditEvent.objects.get(object_id=str(new.pk)).changes == {"resend_of": [None, old.pk]}


def test_the_button_on_an_emails_page_resends_it_and_shows_the_new_one(
    owner_client, django_capture_on_commit_callbacks
):
    old = logged_email()
    assert button_url(old).encode() in owner_client.get(page_url(old)).content

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(button_url(old), follow=True)

    new = EmailLog.objects.get(resend_of=old)
    assert response.redirect_chain[-1][0] == page_url(new)
    assert f"Resend of #{old.pk}" in response.content.decode()
    assert len(mail.outbox) == 1 and new.status == EmailLog.Status.SENT
    old_page = owner_client.get(page_url(old)).content.decode()
    assert f"Resent as #{new.pk}" in old_page and button_url(old) not in old_page  # no second button


def test_staff_without_the_permission_cannot_resend(front_desk_client, django_capture_on_commit_callbacks):
    old = logged_email()
    assert front_desk_client.get(page_url(old)).status_code == 200
    assert button_url(old).encode() not in front_desk_client.get(page_url(old)).content

    with django_capture_on_commit_callbacks(execute=True):
        button = front_desk_client.post(button_url(old))
        action = resend_action(front_desk_client, old)

    assert button.status_code == 403
    assert action.status_code == 200 and "resend_selected" not in action.content.decode()  # no such action offered
    assert EmailLog.objects.count() == 1 and mail.outbox == []


@pytest.mark.parametrize("status", [EmailLog.Status.SENT, EmailLog.Status.QUEUED, EmailLog.Status.SENDING])
def test_an_email_that_was_sent_or_is_on_its_way_is_not_resent(owner_client, status):
    old = logged_email(status=status)

    response = resend_action(owner_client, old)

    assert messages_of(response) == [
        f"Email #{old.pk} is {old.get_status_display().lower()}: only an unconfirmed or failed email is resent."
    ]
    assert EmailLog.objects.count() == 1 and mail.outbox == []


def test_an_email_logged_before_emails_kept_their_content_is_refused_with_a_message(owner_client):
    old = EmailLog.objects.create(
        recipient="ines@example.com", template="welcome_teacher", subject="Old", status=EmailLog.Status.UNCONFIRMED
    )

    response = owner_client.post(button_url(old), follow=True)

    assert response.status_code == 200
    assert messages_of(response) == [f"Email #{old.pk} was logged before emails kept what they said: write it anew."]


def test_a_resend_of_an_email_that_does_not_exist_goes_back_to_the_list(owner_client):
    response = owner_client.post(reverse("admin:cedarheights_emaillog_resend", args=[987654]))

    assert response.status_code == 302 and response["Location"] == LIST_URL
