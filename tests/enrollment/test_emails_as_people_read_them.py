"""What a family reads: names as typed in plain-text emails and subjects, escaped in HTML, safe file names."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from cedarheights.models import EmailLog
from enrollment.confirmation import confirmation_path
from enrollment.pipelines import enrollment_submit
from tests.factories import EnrollmentInputFactory, ParentFactory

pytestmark = pytest.mark.django_db

SEVEN_YEARS_AGO = timezone.localdate() - timedelta(days=7 * 365)


def enroll(ready, capture, *, first_name: str, last_name: str, parent_last_name: str = "Lopez"):
    with capture(execute=True):
        return enrollment_submit(
            form=EnrollmentInputFactory(
                children__0__first_name=first_name,
                children__0__last_name=last_name,
                children__0__date_of_birth=SEVEN_YEARS_AGO,
                parent_last_name=parent_last_name,
            ),
            idempotency_key=uuid.uuid4(),
            site_url="https://school.example",
        )


def test_plain_text_emails_and_subjects_read_names_literally_and_html_escapes_them(
    school_ready, django_capture_on_commit_callbacks
):
    """Failed before the fix: the subject read `New student: &lt;b&gt;Ciara&lt;/b&gt; O&#x27;Brien &amp; Co`."""
    enroll(
        school_ready,
        django_capture_on_commit_callbacks,
        first_name="<b>Ciara</b>",
        last_name="O'Brien & Co",
        parent_last_name="O'Brien & Co",
    )

    teacher_email = next(m for m in mail.outbox if m.to == [school_ready["teacher"].user.email])
    assert teacher_email.subject == "New student: <b>Ciara</b> O'Brien & Co (Piano)"
    assert EmailLog.objects.get(template="welcome_teacher").subject == teacher_email.subject
    assert "<b>Ciara</b> O'Brien & Co (Piano, beginner" in teacher_email.body
    html = teacher_email.alternatives[0][0]
    assert "&lt;b&gt;Ciara&lt;/b&gt; O&#x27;Brien &amp; Co" in html and "<b>Ciara</b>" not in html
    welcome = next(m for m in mail.outbox if m.to == ["new.parent@example.com"])
    assert "<b>Ciara</b> (Piano) will have a free demo lesson" in welcome.body
    assert "&lt;b&gt;Ciara&lt;/b&gt;" in welcome.alternatives[0][0]


@pytest.mark.parametrize(
    ("first_name", "file_name"),
    [
        ("<script>alert('x')</script>", "demo-scriptalertxscript.ics"),
        ('Zoë "Z" ../../etc/passwd', "demo-zoe-z-etcpasswd.ics"),
        ("Lucia", "demo-lucia.ics"),
    ],
)
def test_a_childs_name_becomes_a_safe_file_name_in_the_attachment_and_the_download(
    school_ready, django_capture_on_commit_callbacks, first_name, file_name
):
    """Failed before the fix: the attachment was `demo-<script>alert('x')</script>.ics`."""
    enrollment = enroll(school_ready, django_capture_on_commit_callbacks, first_name=first_name, last_name="Lopez")[0]

    welcome = next(m for m in mail.outbox if m.to == ["new.parent@example.com"])
    teacher_email = next(m for m in mail.outbox if m.to == [school_ready["teacher"].user.email])
    assert [a[0] for a in welcome.attachments] == [file_name]
    assert [a[0] for a in teacher_email.attachments] == [file_name]
    download = Client().get(f"{confirmation_path(enrollment.submission_key)}lesson/{enrollment.demo_lesson_id}.ics")
    assert download["Content-Disposition"] == f'attachment; filename="{file_name}"'


def test_the_welcome_email_promises_only_pages_that_exist_and_links_them_absolutely(
    school_ready, django_capture_on_commit_callbacks, settings
):
    """Failed before the fix: it promised "lessons and billing online", and linked neither page."""
    settings.SITE_URL = "https://school.example"
    enroll(school_ready, django_capture_on_commit_callbacks, first_name="Lucia", last_name="Lopez")

    welcome = next(m for m in mail.outbox if m.to == ["new.parent@example.com"])
    assert "lessons and billing online" not in welcome.body
    for part in (welcome.body, welcome.alternatives[0][0]):
        assert "https://school.example/billing/" in part and "https://school.example/accounts/profile/" in part


def test_a_parents_profile_links_to_their_billing_and_a_teachers_does_not(school_ready):
    """Failed before the fix: the profile had no way to the billing page."""
    client = Client()
    client.force_login(ParentFactory())
    assert 'href="/billing/"' in client.get("/accounts/profile/").content.decode()
    client.force_login(school_ready["teacher"].user)
    assert 'href="/billing/"' not in client.get("/accounts/profile/").content.decode()
