"""Issue 12, item 9: the public enrollment does not tell whether an address has an account.

Before the fix, an existing address got a 400 "This address cannot start a new account" on its email field.
"""

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from enrollment.models import Enrollment
from scheduling.models import Student
from tests.enrollment.test_api import URL, body
from tests.enrollment.test_page import page_data
from tests.factories import ParentFactory

pytestmark = pytest.mark.django_db


def test_the_api_answers_an_existing_address_as_a_new_one_and_emails_its_owner(
    school_ready, django_capture_on_commit_callbacks
):
    owner = ParentFactory(email="taken@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        new = APIClient().post(URL, body(school_ready, email="new@example.com"), format="json")
        known = APIClient().post(URL, body(school_ready, email="TAKEN@example.com"), format="json")

    assert new.status_code == known.status_code == 202
    assert new.json() == known.json()
    assert not Student.objects.filter(family=owner.family).exists()
    assert Enrollment.objects.filter(student__family__parents__email="new@example.com").count() == 2
    [told] = [m for m in mail.outbox if m.to == ["taken@example.com"]]
    assert "already has an account" in told.body and "/accounts/login/?next=/enroll/" in told.body
    assert "sign in and enroll from your account" in told.alternatives[0][0]


def without_nonces(page: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]*"', b"", page)


def test_the_page_answers_an_existing_address_as_a_new_one(school_ready, django_capture_on_commit_callbacks):
    ParentFactory(email="taken@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        new = Client().post("/enroll/", page_data(school_ready, email="new@example.com"), follow=True)
        known = Client().post("/enroll/", page_data(school_ready, email="taken@example.com"), follow=True)

    assert new.redirect_chain == known.redirect_chain == [("/enroll/check-your-email/", 302)]
    # Byte for byte, but for the Content-Security-Policy nonce every page gets afresh.
    assert without_nonces(new.content) == without_nonces(known.content)
    assert Enrollment.objects.count() == 1
    assert [m.to for m in mail.outbox if m.to == ["taken@example.com"]] == [["taken@example.com"]]
