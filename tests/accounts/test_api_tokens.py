"""API tokens (django-rest-knox): stored hashed, shown once, expiring, revocable one by one or all at once.

Failed before the fix (DRF's authtoken): the key was the table's primary key in clear, it never expired, and a
second sign-in returned the same key again.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import ParentFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"


def sign_in(user) -> dict:
    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 201
    return response.json()


def with_token(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_the_key_is_shown_once_and_only_its_digest_is_stored(settings):
    user = ParentFactory()
    first, second = sign_in(user), sign_in(user)
    assert first["token"] != second["token"]  # each sign-in its own token, each revocable alone
    stored = AuthToken.objects.filter(user=user).values_list("digest", "token_key")
    assert len(stored) == 2
    for digest, prefix in stored:  # a digest, and a prefix too short to sign in with
        assert first["token"] not in (digest, prefix) and len(prefix) < len(first["token"])
    assert with_token(first["token"]).get("/api/v1/auth/me/").json()["email"] == user.email

    ttl = settings.REST_KNOX["TOKEN_TTL"]
    expiry = AuthToken.objects.get(digest__in=[d for d, _ in stored], token_key=first["token"][:15]).expiry
    assert timezone.now() + ttl - timedelta(minutes=1) < expiry <= timezone.now() + ttl
    assert first["expiry"] and first["user"]["id"] == user.pk


def test_an_expired_token_is_refused_and_use_extends_a_live_one():
    user = ParentFactory()
    key = sign_in(user)["token"]
    token = AuthToken.objects.get(user=user)

    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() + timedelta(hours=1))
    assert with_token(key).get("/api/v1/auth/me/").status_code == 200
    token.refresh_from_db()
    assert token.expiry > timezone.now() + timedelta(days=1)  # refreshed on use

    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    refused = with_token(key).get("/api/v1/auth/me/")
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_delete_revokes_the_token_sent_and_only_that_one():
    user = ParentFactory()
    kept, revoked = sign_in(user)["token"], sign_in(user)["token"]
    assert with_token(revoked).delete("/api/v1/auth/token/").status_code == 204
    assert with_token(revoked).get("/api/v1/auth/me/").status_code == 401
    assert with_token(kept).get("/api/v1/auth/me/").status_code == 200


def test_signing_out_everywhere_revokes_every_token_of_the_user_only():
    user, neighbour = ParentFactory(), ParentFactory()
    one, two = sign_in(user)["token"], sign_in(user)["token"]
    theirs = sign_in(neighbour)["token"]
    assert with_token(one).delete("/api/v1/auth/tokens/").status_code == 204
    assert [with_token(key).get("/api/v1/auth/me/").status_code for key in (one, two, theirs)] == [401, 401, 200]


def test_a_plain_token_from_before_the_upgrade_keeps_working_hashed():
    """The data migration hashes DRF's clear keys into knox; the clear-text table is dropped."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("accounts.migrations.0003_api_tokens_hashed_into_knox")
    user = ParentFactory()
    old_key = "0123456789abcdef0123456789abcdef01234567"  # DRF's keys: 40 hex characters
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz, user_id bigint)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, user.pk])

    with connection.schema_editor() as schema_editor:
        migration.hash_plain_tokens_into_knox(apps, schema_editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    assert with_token(old_key).get("/api/v1/auth/me/").json()["id"] == user.pk
    assert not AuthToken.objects.filter(digest=old_key).exists()
