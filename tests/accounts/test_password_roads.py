"""Every road that changes a password revokes the user's API tokens, signs out their other sessions and lifts
their sign-in lockouts, through one service (accounts.services.password_set).

Failed before the fix: the web reset, the welcome link and the admin's change-password page left the tokens
alive (and nothing lifted a lockout); seen again with `form_class = SetPasswordForm` and the admin's
`change_password_form` removed.
"""

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import set_password_link_build, token_issue
from tests.factories import ParentFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"
NEW_PASSWORD = "a-brand-new-passphrase-2"
ATTACKER_ADDRESS = "203.0.113.7"


def signed_in(user, **client_defaults) -> Client:
    client = Client(**client_defaults)
    assert client.post("/accounts/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def token_client(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def form_page(client: Client, link: str) -> str:
    """Django's link pages move the token into the session and redirect to the form: the form's address."""
    return client.get(link, follow=True).redirect_chain[-1][0]


def web_reset(user, here):
    Client().post("/accounts/password/reset/", {"email": user.email})
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)
    client = Client()
    return client.post(form_page(client, link), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def welcome_link(user, here):
    user.refresh_from_db()  # the link signs the last sign-in time too
    path = set_password_link_build(user=user, base_url="https://school.example").removeprefix("https://school.example")
    client = Client()
    return client.post(form_page(client, path), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def api_reset_confirm(user, here):
    APIClient().post("/api/v1/auth/password/reset/", {"email": user.email}, format="json")
    _, uid, token = re.search(r"https?://\S+", mail.outbox[-1].body).group(0).rstrip("/").rsplit("/", 2)
    return APIClient().post(
        "/api/v1/auth/password/reset/confirm/", {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    )


def web_change(user, here):
    return here.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def api_change(user, here):
    return here.post("/api/v1/auth/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD})


def admin_sets(user, here):
    owner = UserFactory(role="admin", is_staff=True, is_superuser=True)
    return signed_in(owner).post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def admin_disables_password(user, here):
    owner = UserFactory(role="admin", is_staff=True, is_superuser=True)
    return signed_in(owner).post(
        f"/admin/accounts/user/{user.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )


# road, the client the user changes from (None: not signed in), whether that client stays signed in
ROADS = [
    (web_reset, None),
    (welcome_link, None),
    (api_reset_confirm, None),
    (web_change, "session"),
    (api_change, "token"),
    (admin_sets, None),
    (admin_disables_password, None),
]


@pytest.mark.parametrize(("road", "own"), ROADS, ids=[road.__name__ for road, _ in ROADS])
def test_every_password_road_revokes_tokens_other_sessions_and_lockouts(settings, road, own):
    settings.AXES_FAILURE_LIMIT = 3
    user = ParentFactory()
    _, old_key = token_issue(user=user)
    elsewhere = signed_in(user)
    here = {"session": lambda: signed_in(user), "token": lambda: token_client(token_issue(user=user)[1])}.get(
        own, lambda: None
    )()
    attacker = Client(REMOTE_ADDR=ATTACKER_ADDRESS)
    for _ in range(3):
        attacker.post("/accounts/login/", {"username": user.email, "password": "a-wrong-guess"})
    locked = attacker.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert locked.status_code == 429  # the pair (account, attacker's address) is locked

    response = road(user, here)
    assert response.status_code in {204, 302}, getattr(response, "content", b"")[:500]

    assert token_client(old_key).get("/api/v1/auth/me/").status_code == 401
    assert elsewhere.get("/accounts/profile/").status_code == 302  # sent to sign in
    if own == "session":
        assert here.get("/accounts/profile/").status_code == 200
    if own == "token":
        assert here.get("/api/v1/auth/me/").status_code == 200
    if road is not admin_disables_password:  # the lockout is lifted: the right password works from there again
        attempt = Client(REMOTE_ADDR=ATTACKER_ADDRESS)
        assert attempt.post("/accounts/login/", {"username": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_the_admin_changing_their_own_password_stays_signed_in_there_only():
    owner = UserFactory(role="admin", is_staff=True, is_superuser=True)
    _, key = token_issue(user=owner)
    here, elsewhere = signed_in(owner), signed_in(owner)
    response = here.post(
        f"/admin/accounts/user/{owner.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302
    assert token_client(key).get("/api/v1/auth/me/").status_code == 401
