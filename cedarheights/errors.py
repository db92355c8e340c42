"""Domain errors: what a service refuses to do, in words a person can act on.

The shared base and the core's own errors live here; each app keeps its own in its `errors.py`. Interfaces turn
them into a form error (HTML, keeping what was typed) or the one JSON error body (cedarheights/error_body.py),
with the error's status and headers; never a 500.
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

    def body_extra(self) -> dict:
        """What the error body carries beside code, message and fields (the lesson clashed with, when to retry)."""
        return {}

    def headers(self) -> dict[str, str]:
        """HTTP headers of every answer to this error, whatever the interface."""
        return {}


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

    def body_extra(self) -> dict:
        return {"retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


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

    def body_extra(self) -> dict:
        return {"conflicting_lesson": self.conflicting_lesson_id}


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
