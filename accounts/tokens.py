"""The tokens in set-password and reset links: Django's, also signed over the user's `password_link_nonce`.

Django's token already stops working once the password is set (it signs the password hash) or after
`PASSWORD_RESET_TIMEOUT`. The nonce adds: a newer set-password link (a resent welcome email) makes every
earlier link stop working, without touching the password, the sessions or the API tokens.
"""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class PasswordLinkTokenGenerator(PasswordResetTokenGenerator):
    def _make_hash_value(self, user, timestamp: int) -> str:
        value = super()._make_hash_value(user, timestamp)
        # No nonce yet: the value Django's own generator signs, so links sent before the nonce existed still work.
        return value if user.password_link_nonce is None else f"{value}{user.password_link_nonce.hex}"


password_link_tokens = PasswordLinkTokenGenerator()
