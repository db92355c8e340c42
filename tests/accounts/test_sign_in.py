"""Sign-in, sessions, reset links and throttling, through the real pages and API."""

import re

import pytest
from django.core import mail
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import set_password_link_build, token_issue
from tests.factories import ParentFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"
NEW_PASSWORD = "a-brand-new-passphrase-2"


def login_page(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


class TestSessions:
    def test_the_session_id_is_replaced_at_login_and_dropped_at_logout(self):
        user = ParentFactory()
        client = Client()
        client.get("/accounts/login/")
        client.session["before"] = True
        anonymous_key = client.session.session_key or client.cookies.get("sessionid")
        assert login_page(client, user.email, PASSWORD).status_code == 302
        signed_in_key = client.session.session_key
        assert signed_in_key and signed_in_key != anonymous_key
        assert client.get("/accounts/profile/").status_code == 200

        client.post("/accounts/logout/")
        stolen = Client()
        stolen.cookies["sessionid"] = signed_in_key
        assert stolen.get("/accounts/profile/").status_code == 302  # the old session no longer signs anyone in

    def test_api_session_login_needs_csrf_and_cycles_the_session(self):
        user = ParentFactory()
        client = APIClient(enforce_csrf_checks=True)
        refused = client.post("/api/v1/auth/login/", {"email": user.email, "password": PASSWORD}, format="json")
        assert refused.status_code == 403
        client.get("/api/v1/auth/csrf/")
        token = client.cookies["csrftoken"].value
        response = client.post(
            "/api/v1/auth/login/", {"email": user.email, "password": PASSWORD}, format="json", HTTP_X_CSRFTOKEN=token
        )
        assert response.status_code == 200 and response.json()["email"] == user.email
        assert client.get("/api/v1/auth/me/").json()["id"] == user.pk
        client.post("/api/v1/auth/logout/", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
        assert client.get("/api/v1/auth/me/").status_code == 401  # `WWW-Authenticate: Token`

    def test_a_password_change_signs_out_every_other_session_and_token(self):
        user = ParentFactory()
        here, elsewhere = Client(), Client()
        login_page(here, user.email, PASSWORD)
        login_page(elsewhere, user.email, PASSWORD)
        other_token, _ = token_issue(user=user)

        response = here.post(
            "/accounts/password/change/",
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert response.status_code == 302

        assert here.get("/accounts/profile/").status_code == 200
        assert elsewhere.get("/accounts/profile/").status_code == 302
        assert not AuthToken.objects.filter(pk=other_token.pk).exists()


def test_the_api_changes_a_password_and_keeps_only_the_calling_token():
    user = ParentFactory()
    calling, key = token_issue(user=user)
    token_issue(user=ParentFactory())  # someone else's token is none of this change's business
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    other_client = Client()
    login_page(other_client, user.email, PASSWORD)
    response = api.post(
        "/api/v1/auth/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 204
    assert api.get("/api/v1/auth/me/").status_code == 200
    assert other_client.get("/accounts/profile/").status_code == 302
    assert list(AuthToken.objects.filter(user=user)) == [calling]
    assert AuthToken.objects.count() == 2


def test_public_and_auth_endpoints_are_rate_limited_per_address(monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"public": "3/minute", "auth": "2/minute"})
    client = APIClient()
    assert [client.get("/api/v1/public/pricing/").status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = client.get("/api/v1/public/pricing/")
    assert limited.json()["code"] == "throttled"
    statuses = [
        client.post("/api/v1/auth/password/reset/", {"email": "x@example.com"}, format="json").status_code
        for _ in range(3)
    ]
    assert statuses == [202, 202, 429]


class TestResetLinks:
    def test_the_answer_is_the_same_whether_or_not_the_account_exists(self):
        user = ParentFactory()
        known = Client().post("/accounts/password/reset/", {"email": user.email})
        unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
        assert known.status_code == unknown.status_code == 302 and known.url == unknown.url
        api_known = APIClient().post("/api/v1/auth/password/reset/", {"email": user.email}, format="json")
        api_unknown = APIClient().post("/api/v1/auth/password/reset/", {"email": "nobody@example.com"}, format="json")
        assert (api_known.status_code, api_known.json()) == (api_unknown.status_code, api_unknown.json())
        assert [m.to for m in mail.outbox] == [[user.email], [user.email]]
        assert PASSWORD not in mail.outbox[0].body

    def test_a_reset_link_works_once(self):
        user = ParentFactory()
        Client().post("/accounts/password/reset/", {"email": user.email})
        link = link_in(mail.outbox[0])
        client = Client()
        form_url = client.get(link, follow=True).redirect_chain[-1][0]
        done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert done.status_code == 302
        assert login_page(Client(), user.email, NEW_PASSWORD).status_code == 302

        again = Client().get(link, follow=True)
        assert again.context["validlink"] is False

    def test_a_reset_link_expires(self, settings):
        user = ParentFactory()
        APIClient().post("/api/v1/auth/password/reset/", {"email": user.email}, format="json")
        _, uid, token = link_in(mail.outbox[0]).rstrip("/").rsplit("/", 2)
        settings.PASSWORD_RESET_TIMEOUT = -1  # as if three days had passed
        expired = APIClient().post(
            "/api/v1/auth/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
            format="json",
        )
        assert expired.status_code == 400 and expired.json()["code"] == "invalid_link"
        settings.PASSWORD_RESET_TIMEOUT = 3600
        ok = APIClient().post(
            "/api/v1/auth/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
            format="json",
        )
        assert ok.status_code == 204
        reused = APIClient().post(
            "/api/v1/auth/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": NEW_PASSWORD + "z"},
            format="json",
        )
        assert reused.status_code == 400

    def test_weak_passwords_are_refused_with_the_reason(self):
        user = UserFactory()
        api = APIClient()
        api.force_authenticate(user)
        response = api.post(
            "/api/v1/auth/password/change/", {"old_password": PASSWORD, "new_password": "password123"}, format="json"
        )
        assert response.status_code == 400
        assert any("too short" in m or "too common" in m for m in response.json()["fields"]["new_password"])


def test_a_new_parent_sets_a_password_from_the_welcome_link_and_is_signed_in():
    parent = ParentFactory(password=None)
    parent.set_unusable_password()
    parent.save()
    path = set_password_link_build(user=parent, base_url="https://school.example").removeprefix(
        "https://school.example"
    )
    client = Client()
    form_url = client.get(path, follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/profile/"
    assert response.context["user"] == parent
    assert Client().get(path, follow=True).context["validlink"] is False


class TestEmailAddresses:
    def test_one_account_per_address_whatever_its_case(self):
        from django.db import IntegrityError, transaction

        from accounts.models import User

        UserFactory(email="ann@example.test")
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.bulk_create([User(email="ANN@example.test")])  # bulk_create skips save()'s lower-casing

    @pytest.mark.postgres
    def test_a_case_blind_lookup_reads_the_unique_index(self):
        """Sign-in, password reset and enrollment find an address with iexact: an index, not every user."""
        from django.db import connection, transaction

        from accounts.models import User

        UserFactory(email="ann@example.test")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be read whole anyway
            plan = User.objects.filter(email__iexact="Ann@Example.test").explain()
            assert "accounts_user_email_ci_unique" in plan, plan
            assert User.objects.get_by_natural_key("ANN@example.test").email == "ann@example.test"


@pytest.mark.django_db
def test_the_sign_in_page_shows_a_new_family_the_way_to_enroll():
    page = Client().get("/accounts/login/").content.decode()
    assert 'href="/enroll/"' in page
