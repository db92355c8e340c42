"""An email resent twice, by two owners at the same instant, or beside its own pending retry: one new copy.

Made to fail first: without the `resend_of` check in `email_resend`, a second click (or a second thread) sent a
second copy; without the same check in `_email_claim`, a failed email's pending retry sent it beside its resend.
"""

import pytest
from django.core import mail

from accounts.models import User
from cedarheights.emails import email_resend, email_send
from cedarheights.models import EmailLog
from tests.cedarheights.email_log import button_url, logged_email, messages_of, resend_action
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db


def test_resending_the_same_email_twice_sends_it_once(owner_client, django_capture_on_commit_callbacks):
    old = logged_email()

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(button_url(old))
        again = resend_action(owner_client, old)  # a second click, from the list this time

    new = EmailLog.objects.get(resend_of=old)
    assert EmailLog.objects.count() == 2 and len(mail.outbox) == 1
    assert messages_of(again)[-1] == f"Email #{old.pk} was already resent as #{new.pk}."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_resends_at_once_send_once():
    """Two owners click at the same moment: the row lock makes the second see the first's resend."""
    old = logged_email()
    owner = User.objects.create_superuser("owner@example.com", "an-owner-password-1")
    outcomes = at_once(lambda: email_resend(email_log=old, actor=owner))

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["EmailLog", "EmailNotResendable"]
    assert EmailLog.objects.filter(resend_of=old).count() == 1 and len(mail.outbox) == 1


def test_a_failed_email_resent_is_not_sent_again_by_its_pending_retry(owner_client, django_capture_on_commit_callbacks):
    old = logged_email(status=EmailLog.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(button_url(old))

    email_send(old.pk)  # django-q2's retry of the old row's task, still pending

    old.refresh_from_db()
    assert old.status == EmailLog.Status.FAILED and len(mail.outbox) == 1
    assert EmailLog.objects.get(resend_of=old).status == EmailLog.Status.SENT
