"""Failed sign-ins lock the pair (account, address), and an address trying many accounts; never a chosen account.

Failed before the fix (AXES_LOCKOUT_PARAMETERS = ["username"], the stock handler): 100 failures from one address
locked the account everywhere, the owner's right password included, and 105 failures across accounts from one
address went on unhindered.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.errors import LockedOut
from tests.factories import ParentFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"
ADDRESS_A, ADDRESS_B = "198.51.100.10", "198.51.100.20"


def page_sign_in(address: str, email: str, password: str):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": email, "password": password})


def api_token(address: str, email: str, password: str):
    return APIClient(REMOTE_ADDR=address).post("/api/v1/auth/token/", {"email": email, "password": password})


def test_100_failures_from_one_address_lock_that_pair_only_and_cool_off():
    owner, neighbour = ParentFactory(), ParentFactory()
    for _ in range(100):
        assert page_sign_in(ADDRESS_A, owner.email, "a-wrong-guess").status_code in {200, 429}

    locked = api_token(ADDRESS_A, owner.email, PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "locked_out"
    assert page_sign_in(ADDRESS_A, owner.email, PASSWORD).status_code == 429  # the page too, right password or not
    assert page_sign_in(ADDRESS_B, owner.email, PASSWORD).status_code == 302  # the owner, from elsewhere
    assert api_token(ADDRESS_A, neighbour.email, PASSWORD).status_code == 201  # another family behind address A

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1, minutes=1))
    assert api_token(ADDRESS_A, owner.email, PASSWORD).status_code == 201


def test_99_failures_do_not_lock():
    owner = ParentFactory()
    for _ in range(99):
        api_token(ADDRESS_A, owner.email, "a-wrong-guess")
    assert api_token(ADDRESS_A, owner.email, PASSWORD).status_code == 201


def test_an_address_failing_across_many_accounts_is_paused_whatever_account_it_names(settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 12
    families = [ParentFactory() for _ in range(3)]
    guesses = [family.email for family in families] + ["nobody@example.com"]
    for attempt in range(12):  # 3 an account: far under the pair's limit of 100
        page_sign_in(ADDRESS_A, guesses[attempt % len(guesses)], "a-wrong-guess")

    fresh = ParentFactory()
    assert page_sign_in(ADDRESS_A, fresh.email, PASSWORD).status_code == 429
    assert api_token(ADDRESS_A, "someone.else@example.com", "a-wrong-guess").json()["code"] == "locked_out"
    assert page_sign_in(ADDRESS_B, fresh.email, PASSWORD).status_code == 302


def test_a_change_of_case_in_the_address_counts_against_the_same_account(settings):
    settings.AXES_FAILURE_LIMIT = 3
    owner = ParentFactory(email="ann@example.com")
    for typed in ("ANN@example.com", " Ann@Example.com", "ann@EXAMPLE.com"):
        page_sign_in(ADDRESS_A, typed, "a-wrong-guess")
    assert page_sign_in(ADDRESS_A, owner.email, PASSWORD).status_code == 429


def test_an_unknown_account_is_answered_and_counted_as_a_known_one(settings):
    settings.AXES_FAILURE_LIMIT = 3
    known, unknown = ParentFactory().email, "nobody@example.com"

    def failed_answers(email: str) -> list:
        page = page_sign_in(ADDRESS_A, email, "a-wrong-guess")
        api = api_token(ADDRESS_A, email, "a-wrong-guess")
        body = api.json()
        return [page.status_code, page.context["form"].errors.as_json(), api.status_code, body["code"], body["message"]]

    assert failed_answers(known) == failed_answers(unknown)  # two failures each
    for email in (known, unknown):
        page_sign_in(ADDRESS_A, email, "a-wrong-guess")  # the third: both pairs pause

    def locked_answers(email: str) -> list:
        api = api_token(ADDRESS_A, email, PASSWORD)
        return [
            api.status_code,
            api.json()["code"],
            api.json()["message"],
            page_sign_in(ADDRESS_A, email, PASSWORD).status_code,
        ]

    assert locked_answers(known) == locked_answers(unknown)
    assert locked_answers(known)[:2] == [429, "locked_out"]


def test_a_pause_is_the_one_error_body_on_the_api_and_a_form_error_keeping_the_address_on_each_page(settings):
    """Made to fail first: the pages answered a separate "Sign-in paused" page, without the form or what was typed."""
    settings.AXES_FAILURE_LIMIT = 2
    owner = ParentFactory()
    for _ in range(2):
        page_sign_in(ADDRESS_A, owner.email, "a-wrong-guess")

    api = api_token(ADDRESS_A, owner.email, PASSWORD)
    assert api.status_code == 429
    assert api.json() == {
        "code": "locked_out",
        "message": LockedOut().message,
        "fields": {},
        "request_id": api["X-Request-ID"],
    }
    admin_page = Client(REMOTE_ADDR=ADDRESS_A).post("/admin/login/", {"username": owner.email, "password": PASSWORD})
    for page in (page_sign_in(ADDRESS_A, owner.email, PASSWORD), admin_page):
        assert page.status_code == 429
        assert [error.code for error in page.context["form"].non_field_errors().as_data()] == ["locked_out"]
        html = page.content.decode()
        assert LockedOut().message in html and f'value="{owner.email}"' in html
