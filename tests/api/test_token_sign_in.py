"""Sign-in by API token reads nothing from a cache: a token revoked or expired is refused on its next request.

Made to fail first: with the expiry check taken out of TokenAuthentication, the expired token still signed in."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import tokens_revoke_all
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_in_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_revoked_token_is_refused_on_its_next_request(school):
    user = UserFactory()
    _, key = AuthToken.objects.create(user)
    client = signed_in_with(key)
    assert client.get("/api/v1/auth/me/").status_code == 200

    tokens_revoke_all(user=user)

    assert client.get("/api/v1/auth/me/").status_code == 401


def test_an_expired_token_is_refused_and_deleted(school):
    user = UserFactory()
    token, key = AuthToken.objects.create(user)
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    assert signed_in_with(key).get("/api/v1/auth/me/").status_code == 401
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_a_renewed_token_sweeps_the_users_expired_tokens(school):
    user = UserFactory()
    expired, _ = AuthToken.objects.create(user)
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    token, key = AuthToken.objects.create(user)
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() + timedelta(hours=1))  # due for renewal

    assert signed_in_with(key).get("/api/v1/auth/me/").status_code == 200

    assert list(AuthToken.objects.filter(user=user).values_list("pk", flat=True)) == [token.pk]
