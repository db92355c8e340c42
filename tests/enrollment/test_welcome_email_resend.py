"""A resent welcome email carries a fresh set-password link, and only the newest link works.

Made to fail first: with Django's own token generator (links signed over the password and the last sign-in
only), the first link still worked after the resend.
"""

import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from accounts.models import User
from cedarheights.models import EmailLog
from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from tests.factories import EnrollmentFactory, EnrollmentInputFactory, ParentFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-password-42"
SET_PASSWORD_LINK = re.compile(r"https?://\S+/welcome/\S+/\S+/")


@pytest.fixture
def unconfirmed_welcome(school_ready, django_capture_on_commit_callbacks) -> EmailLog:
    """A new parent enrolled; the worker died between sending the welcome email and recording it."""
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_submit(
            form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4(), site_url="https://school.example"
        )
    welcome = EmailLog.objects.get(template="welcome_parent")
    EmailLog.objects.filter(pk=welcome.pk).update(status=EmailLog.Status.UNCONFIRMED)
    return welcome


def link_in(message) -> str:
    """The set-password link's path in an email, or "" when it has none."""
    found = SET_PASSWORD_LINK.search(message.body)
    return urlsplit(found.group()).path if found else ""


def resend(client: Client, log: EmailLog, capture):
    with capture(execute=True):
        return client.post(reverse("admin:cedarheights_emaillog_resend", args=[log.pk]), follow=True)


def open_link(path: str) -> tuple[Client, object]:
    """A browser opening a link: Django moves the token into its session, then shows the form (or says no)."""
    browser = Client()
    return browser, browser.get(path, follow=True)


def choose_password(browser: Client, page):
    return browser.post(
        page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )


def test_a_resent_welcome_email_has_a_new_link_and_the_old_one_no_longer_works(
    unconfirmed_welcome, owner_client, django_capture_on_commit_callbacks
):
    parent = User.objects.get(email="new.parent@example.com")
    account_before = model_to_dict(parent)
    first_link = link_in(next(m for m in mail.outbox if m.to == [parent.email]))
    mail.outbox.clear()

    resend(owner_client, unconfirmed_welcome, django_capture_on_commit_callbacks)

    [resent] = mail.outbox
    new_link = link_in(resent)
    assert first_link and new_link and new_link != first_link
    assert "Lucia (Piano) will have a free demo lesson" in resent.body and resent.attachments  # still the welcome
    _, old_page = open_link(first_link)
    assert old_page.context["validlink"] is False
    assert "a newer link was emailed to you since" in old_page.content.decode()
    parent.refresh_from_db()
    account_after = model_to_dict(parent)
    # model_to_dict leaves out the link nonce (not editable), the one thing a new link changes
    assert {k: v for k, v in account_after.items() if account_before[k] != v} == {}
    browser, new_page = open_link(new_link)
    assert new_page.context["validlink"] is True
    done = choose_password(browser, new_page)
    assert done.redirect_chain[-1][0] == reverse("profile") and done.context["user"] == parent


def test_a_resend_does_not_lock_out_a_parent_who_already_chose_a_password(
    unconfirmed_welcome, owner_client, django_capture_on_commit_callbacks
):
    first_link = link_in(mail.outbox[0] if mail.outbox[0].to == ["new.parent@example.com"] else mail.outbox[1])
    choose_password(*open_link(first_link))
    mail.outbox.clear()

    resend(owner_client, unconfirmed_welcome, django_capture_on_commit_callbacks)

    [resent] = mail.outbox
    assert link_in(resent) == "" and "Choose your password" not in resent.body
    signed_in = Client().post("/accounts/login/", {"username": "new.parent@example.com", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def unconfirmed_welcome_about(enrollment) -> EmailLog:
    """A welcome email to the enrollment's parent, logged about it and left unconfirmed by a killed worker."""
    return EmailLog.objects.create(
        recipient=enrollment.student.family.parents.get().email,
        template="welcome_parent",
        subject="Welcome to Cedar Heights Music Academy",
        text_body="Hello",
        html_body="<p>Hello</p>",
        related_type=ContentType.objects.get_for_model(enrollment),
        related_id=str(enrollment.pk),
        status=EmailLog.Status.UNCONFIRMED,
    )


def test_a_welcome_email_whose_enrollment_was_deleted_gives_the_owner_a_message(
    owner_client, django_capture_on_commit_callbacks
):
    enrollment = EnrollmentFactory(student__family=ParentFactory().family)
    log = unconfirmed_welcome_about(enrollment)
    enrollment.delete()

    response = resend(owner_client, log, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        f"Email #{log.pk} was about an enrollment that has been deleted, so it cannot be rebuilt: not resent."
    ]
    assert EmailLog.objects.count() == 1 and mail.outbox == []


def test_a_welcome_email_about_a_child_with_no_demo_lesson_is_resent_without_a_calendar_file(
    owner_client, django_capture_on_commit_callbacks
):
    """Made to fail first (the browser trial): the rebuild read the demo lesson of every booked child, and a child
    the office enrolled (or whose demo lesson was deleted) has none: the resend answered 500."""
    enrollment = EnrollmentFactory(
        student__family=ParentFactory().family, demo_lesson=None, status=Enrollment.Status.ACTIVE
    )
    log = unconfirmed_welcome_about(enrollment)

    response = resend(owner_client, log, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    [resent] = mail.outbox
    student = enrollment.student
    assert f"{student.first_name} ({enrollment.instrument}) is enrolled for weekly lessons with" in resent.body
    assert "demo lesson" not in resent.body and resent.attachments == []
