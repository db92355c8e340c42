"""Sign-in by API token (`Authorization: Token <key>`) in one query per request."""

import binascii
from hmac import compare_digest

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

INVALID_TOKEN = "Invalid token."


class TokenAuthentication(auth.TokenAuthentication):
    """knox's token sign-in in one query: the token with its user and the user's teacher (the roles ask for
    `user.teacher` on every request). knox also read all the user's tokens on every request to delete the expired
    ones; they are swept here when the token's expiry is renewed (saved at most once a MIN_REFRESH_INTERVAL).

    Nothing is cached: a revoked token is a deleted row, so the next request with it is refused."""

    def authenticate_credentials(self, token: bytes):
        key = token.decode("utf-8")
        try:
            digest = hash_token(key)
        except (TypeError, binascii.Error) as error:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN) from error
        candidates = AuthToken.objects.filter(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related(
            "user", "user__teacher"
        )
        for auth_token in candidates:
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=auth_token.user.get_username(), source="auth_token")
                break
            if knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(INVALID_TOKEN)

    def renew_token(self, auth_token) -> None:
        stored_expiry = auth_token.expiry
        super().renew_token(auth_token)
        if (auth_token.expiry - stored_expiry).total_seconds() > knox_settings.MIN_REFRESH_INTERVAL:  # knox saved it
            AuthToken.objects.filter(user_id=auth_token.user_id, expiry__lt=timezone.now()).delete()


class TokenScheme(KnoxTokenScheme):
    """The schema documents it as knox's own scheme: the same header, the same name."""

    target_class = "cedarheights.authentication.TokenAuthentication"
