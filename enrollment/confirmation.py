"""Keys and links a family's browser holds: made and signed by the server, so no one can choose another's.

The form's submission key is random and signed when the page is rendered; the confirmation page (and its
calendar files) is reached through a signed, timestamped link that expires after seven days.
"""

import uuid
from datetime import timedelta

from django.core import signing
from django.urls import reverse

from enrollment.errors import ConfirmationExpired

SUBMISSION_SALT = "enrollment.submission-key"
CONFIRMATION_SALT = "enrollment.confirmation"
CONFIRMATION_VALID_FOR = timedelta(days=7)


def submission_key_sign() -> str:
    """A new form's submission key: a random UUID, signed."""
    return signing.dumps(str(uuid.uuid4()), salt=SUBMISSION_SALT)


def submission_key_read(signed: str) -> uuid.UUID:
    """The key a rendered form was given; `signing.BadSignature` when the client made it up or changed it."""
    return uuid.UUID(signing.loads(signed, salt=SUBMISSION_SALT))


def confirmation_token_make(*, submission_key: uuid.UUID) -> str:
    return signing.dumps(str(submission_key), salt=CONFIRMATION_SALT)


def confirmation_path(submission_key: uuid.UUID) -> str:
    """The confirmation page of a submission, through a signed link that expires."""
    return reverse("enroll-done", args=[confirmation_token_make(submission_key=submission_key)])


def confirmation_token_read(*, token: str) -> uuid.UUID:
    """The submission a confirmation link is for; `ConfirmationExpired` once it is too old, `signing.BadSignature`
    when it was not made here."""
    try:
        return uuid.UUID(signing.loads(token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_VALID_FOR))
    except signing.SignatureExpired as error:
        raise ConfirmationExpired("This confirmation link has expired.") from error
