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


class CreditNotUsable(DomainError):
    """The make-up credit cannot do this now: used, expired, held until the tuition is paid, or of another type."""

    code = "credit_not_usable"
    status = 409


class CreditAlreadyUsed(DomainError):
    """The lesson's credit was spent on a make-up, so the outcome that earned it cannot be taken back first."""

    code = "credit_already_used"
    status = 409


class NoCreditEarned(DomainError):
    """A reschedule needs the cancellation to earn a credit, and this one would not (the reason is given)."""

    code = "no_credit_earned"
    status = 409


class MakeupSlotNotOffered(DomainError):
    """The make-up time asked for is not one the school offers (taken, too soon, too far, not this teacher)."""

    code = "makeup_slot_not_offered"
    status = 409


# --- Lifecycle: pauses, withdrawals, changes ---


class NotActive(DomainError):
    """A pause, a withdrawal or a change asked of an enrollment that is not active (pending, waitlisted, unpaid,
    ended)."""

    code = "enrollment_not_active"
    status = 409


class PauseOverlaps(DomainError):
    """The enrollment is already on a vacation pause on some of those days."""

    code = "pause_overlaps"
    status = 409


class PauseNotLive(DomainError):
    """The vacation pause is over already."""

    code = "pause_not_live"
    status = 409


class AlreadyWithdrawn(DomainError):
    """Notice was given already: the last lesson date is set."""

    code = "already_withdrawn"
    status = 409


class ChangeConflicts(DomainError):
    """The new weekly time clashes in some weeks: nothing was changed. `fields["weeks"]` lists them."""

    code = "change_conflicts"
    status = 409
