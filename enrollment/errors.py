"""Enrollment's domain errors: what the enrollment rules refuse, in words a person can act on.

The base class and the errors every app shares (`InvalidInput`, `TryAgain`, `ServiceUnavailable`) are in
`cedarheights.errors`; a field the family typed wrong is an `InvalidInput` naming the field.
"""

from cedarheights.errors import DomainError, InvalidInput


class AddressHasAccount(InvalidInput):
    """The owner, enrolling a family by phone, gave an address that already has an account. (A family enrolling
    online is never told: its answer does not say whether an address has an account.)"""

    code = "address_has_account"


class NotWaitlisted(DomainError):
    """A slot was offered to a child who is not, or no longer, on the waitlist."""

    code = "not_waitlisted"
    status = 409


class ConfirmationExpired(DomainError):
    """A genuine confirmation link, older than `CONFIRMATION_VALID_FOR`: the page says so (410)."""

    code = "link_expired"
    status = 410
