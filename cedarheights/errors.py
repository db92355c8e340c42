"""Domain errors: what a service refuses to do, in words a person can act on.

Interfaces turn them into a form error (HTML) or one JSON error body (API); never a 500.
"""


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class InvalidInput(DomainError):
    code = "invalid"


class TryAgain(DomainError):
    """Concurrent work won every attempt (PostgreSQL ended ours: deadlock, serialization failure); nothing was
    kept, and sending the same request again (the same idempotency key) is safe."""

    code = "try_again"
    status = 409


class ServiceUnavailable(DomainError):
    """A service we depend on (Stripe) could not be reached: nothing was kept; try again after `retry_after`
    seconds."""

    code = "service_unavailable"
    status = 503
    retry_after = 30


class DatabaseUnavailable(ServiceUnavailable):
    """Our database (and the task broker on it) could not be reached, or was restarting: what the request did
    was not kept, and sending it again (the same Idempotency-Key) after `retry_after` seconds is safe."""

    code = "unavailable"
    retry_after = 5  # a PostgreSQL restart or a failover takes seconds


class LessonConflict(DomainError):
    """The lesson would overlap another lesson of the same teacher, student or room."""

    code = "lesson_conflict"
    status = 409

    def __init__(self, message: str, *, conflicting_lesson_id: int | None = None):
        super().__init__(message)
        self.conflicting_lesson_id = conflicting_lesson_id


class ClosureConflict(DomainError):
    code = "closed"
    status = 409


class OutsideAvailability(DomainError):
    code = "outside_availability"
    status = 409


class EmailNotResendable(DomainError):
    """The owner asked to resend an email that may not go again (sent, still queued, already resent) or that
    can no longer be rebuilt (what it was about was deleted)."""

    code = "email_not_resendable"
    status = 409
