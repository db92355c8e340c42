"""What a family reads: names as typed in plain-text emails and subjects, escaped in HTML, safe file names."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cedarheights.models import EmailLog
from enrollment.pipelines import ChildInput, enrollment_submit
from tests.enrollment.conftest import form_for

pytestmark = pytest.mark.django_db

SEVEN_YEARS_AGO = timezone.localdate() - timedelta(days=7 * 365)


def enroll(ready, capture, *, first_name: str, last_name: str, parent_last_name: str = "Lopez"):
    child = ChildInput(first_name, last_name, SEVEN_YEARS_AGO, ready["piano"].pk)
    with capture(execute=True):
        return enrollment_submit(
            form=form_for(ready, children=[child], parent_last_name=parent_last_name),
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
