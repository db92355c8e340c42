"""`email_send` sends an email at most once: claim (committed), send, record.

Made to fail first: with the claim, send and record in one transaction (as before), a record that fails
rolls the claim back and the retry sends a second copy; without the `sending` check, an interrupted claim
is sent again.
"""

import socket

import pytest
from django.core import mail
from django.db import DatabaseError, connection

from cedarheights.emails import email_send
from cedarheights.models import EmailLog

pytestmark = pytest.mark.django_db


def queued_email() -> EmailLog:
    """A logged email whose task has not run yet (as `email_queue` leaves it until the commit)."""
    return EmailLog.objects.create(
        recipient="maya@example.com",
        template="welcome_parent",
        subject="Welcome",
        text_body="Hello Maya",
        html_body="<p>Hello Maya</p>",
    )


def send(log: EmailLog) -> None:
    email_send(log.pk)


def test_an_email_is_sent_once_and_recorded_sent():
    log = queued_email()

    send(log)
    send(log)  # the task delivered twice

    log.refresh_from_db()
    assert log.status == EmailLog.Status.SENT and log.sent_at is not None
    assert [m.to for m in mail.outbox] == [["maya@example.com"]]


@pytest.fixture
def sent_cannot_be_recorded():
    """A database that refuses to record `sent`, as a locked or vanished database would."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_sent() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'recording refused'; END $$;
            CREATE TRIGGER refuse_sent BEFORE UPDATE ON cedarheights_emaillog
            FOR EACH ROW WHEN (NEW.status = 'sent') EXECUTE FUNCTION refuse_sent();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS refuse_sent ON cedarheights_emaillog; DROP FUNCTION refuse_sent();")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_retry_after_the_record_failed_does_not_send_again(sent_cannot_be_recorded):
    """The backend sent, then the database refused to record `sent`: the retry finds the claim, sends nothing."""
    log = queued_email()
    with pytest.raises(DatabaseError, match="recording refused"):
        send(log)
    assert len(mail.outbox) == 1

    send(log)  # django-q2's retry

    log.refresh_from_db()
    assert len(mail.outbox) == 1
    assert log.status == EmailLog.Status.UNCONFIRMED and "may have gone out" in log.error


def test_an_interrupted_claim_becomes_unconfirmed_and_is_not_resent():
    """A worker died between claiming and recording: nobody knows whether the email left."""
    log = queued_email()
    EmailLog.objects.filter(pk=log.pk).update(status=EmailLog.Status.SENDING)

    send(log)
    send(log)

    log.refresh_from_db()
    assert mail.outbox == []
    assert log.status == EmailLog.Status.UNCONFIRMED


def test_a_backend_failure_is_recorded_failed_and_the_retry_sends_once(settings):
    log = queued_email()
    with socket.socket() as probe:  # a port nothing listens on: the SMTP connection is refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port

    with pytest.raises(ConnectionRefusedError):
        send(log)
    log.refresh_from_db()
    assert log.status == EmailLog.Status.FAILED and "ConnectionRefusedError" in log.error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    send(log)
    send(log)

    log.refresh_from_db()
    assert log.status == EmailLog.Status.SENT and log.error == ""
    assert len(mail.outbox) == 1


def test_the_email_sent_is_the_one_stored_on_its_row():
    log = queued_email()

    send(log)

    [sent] = mail.outbox
    assert (sent.subject, sent.body, sent.alternatives[0][0]) == ("Welcome", "Hello Maya", "<p>Hello Maya</p>")


def test_a_task_queued_before_rows_kept_their_content_sends_its_arguments_once():
    """Deploy time: a task enqueued by the previous release carries the content; its row has none."""
    log = EmailLog.objects.create(recipient="maya@example.com", template="welcome_parent", subject="Welcome")
    calendar = ["demo.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"]

    email_send(log.pk, "Hello Maya", "<p>Hello Maya</p>", [calendar])
    email_send(log.pk, "Hello Maya", "<p>Hello Maya</p>", [calendar])

    [sent] = mail.outbox
    assert (sent.body, sent.alternatives[0][0], [list(a) for a in sent.attachments]) == (
        "Hello Maya",
        "<p>Hello Maya</p>",
        [calendar],
    )
