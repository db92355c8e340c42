"""The email log as the owner sees it in the admin: a logged email, its pages, its resend button and action."""

from django.test import Client
from django.urls import reverse

from cedarheights.models import EmailLog

LIST_URL = reverse("admin:cedarheights_emaillog_changelist")
CALENDAR = ["demo-lucia.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"]


def logged_email(status: str = EmailLog.Status.UNCONFIRMED) -> EmailLog:
    """An email as `email_queue` logs it (its content stored), left in `status` by an earlier send."""
    return EmailLog.objects.create(
        recipient="ines@example.com",
        template="welcome_teacher",
        subject="New student: Lucia Lopez (Piano)",
        text_body="Hello Ines,\n\nLucia Lopez is joining you.\n",
        html_body="<p>Hello Ines,</p><p>Lucia Lopez is joining you.</p>",
        attachments=[CALENDAR],
        status=status,
    )


def page_url(log: EmailLog) -> str:
    return reverse("admin:cedarheights_emaillog_change", args=[log.pk])


def button_url(log: EmailLog) -> str:
    return reverse("admin:cedarheights_emaillog_resend", args=[log.pk])


def resend_action(client: Client, *logs: EmailLog):
    return client.post(
        LIST_URL, {"action": "resend_selected", "_selected_action": [log.pk for log in logs]}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
