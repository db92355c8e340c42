"""Domain errors: what a service refuses to do, in words a person can act on, and the codes every error answer
carries (`ERROR_CODES`).

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


class EmailNotResendable(DomainError):
    """The owner asked to resend an email that may not go again (sent, still queued, already resent) or that
    can no longer be rebuilt (what it was about was deleted)."""

    code = "email_not_resendable"
    status = 409


# Every `code` an error answer can carry, each once: its HTTP status and what it means. The domain errors of every
# layer, the codes the API's handlers give (cedarheights/api_errors.py, error_handlers.py) and DRF's own; the
# README points here, and tests/cedarheights/test_error_codes.py keeps the three in step.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid": (400, "Some input is invalid: `fields` names each field (or `non_field_errors`) and what is wrong."),
    "promotion_code_refused": (
        400,
        "The promotion code cannot be applied: unknown, ended, past its last day, used up, or used by the family.",
    ),
    "bad_request": (400, "The request is malformed; it was refused before any view read it (e.g. too many fields)."),
    "parse_error": (400, "The body is not JSON the API reads (malformed, or nested too deep)."),
    "idempotency_key_reused": (400, "This `Idempotency-Key` was already used by you for a different request."),
    "invalid_credentials": (400, "That email and password do not match an account."),
    "no_token": (400, "`DELETE auth/token/` without the token to revoke in the `Authorization` header."),
    "invalid_link": (400, "A password link that expired, was used, or was replaced by a newer one."),
    "status_not_allowed": (
        400,
        "That outcome (or status) is not yours to record now: the reason under `fields.outcome` or `fields.status`.",
    ),
    "card_refused": (400, "Stripe would not take the card: the reason under `fields.payment_method_id`."),
    "not_an_event": (400, "The Stripe webhook's signed body is not a Stripe event."),
    "bad_signature": (400, "The Stripe webhook's `Stripe-Signature` does not match the body."),
    "address_has_account": (400, "The owner enrolling by phone gave an address that has an account: enroll from it."),
    "not_authenticated": (401, "Sign in, or send `Authorization: Token <key>`."),
    "authentication_failed": (401, "The token sent is unknown, revoked or expired."),
    "permission_denied": (403, "Your role may not do this, or you have no part in this record."),
    "csrf_failed": (403, "A session request without the CSRF token from `GET /api/v1/auth/csrf/` (`X-CSRFToken`)."),
    "not_found": (404, "No such record (or not one you may see), or no such endpoint."),
    "method_not_allowed": (405, "The endpoint does not take this method."),
    "not_acceptable": (406, "The API answers JSON only: ask for `application/json`."),
    "conflict": (409, "The change clashes with data already stored."),
    "in_use": (409, "Other records still use this one (named in `message`): remove or move those first."),
    "try_again": (409, "Concurrent work won every attempt; nothing was kept: send the same request again."),
    "lesson_conflict": (409, "The lesson overlaps another of its teacher, student or room: `conflicting_lesson`."),
    "closed": (409, "The school is closed then."),
    "access_request_refused": (
        409,
        "The access request cannot do this now: already answered, already extended, or past its first 30 days.",
    ),
    "export_gone": (410, "The data export's link was already used once, or it expired: ask for a new export."),
    "privacy_notice_published": (409, "A published privacy notice never changes: write a new version instead."),
    "news_already_sent": (409, "This school news email was sent already: it goes once."),
    "outside_availability": (409, "The time is outside the teacher's availability."),
    "too_late": (409, "Too late for that cancellation: the lesson started, or the notice window makes it a late one."),
    "no_sick_pass_left": (409, "The enrollment has used every sick pass of the term."),
    "cancellation_decided": (409, "The owner already answered this teacher's cancellation."),
    "credit_not_usable": (409, "The make-up credit cannot do this now: used, expired, held until paid, or mismatched."),
    "credit_already_used": (409, "The lesson's make-up credit was spent on a make-up: cancel that make-up first."),
    "no_credit_earned": (
        409,
        "A reschedule needs a credit; this cancellation earns none (`message` says why).",
    ),
    "makeup_block_overlap": (409, "The make-up block overlaps another make-up block of the same teacher."),
    "makeup_block_in_use": (409, "A make-up lesson is booked inside the block: it stays while that lesson does."),
    "makeup_slot_not_offered": (409, "That make-up time is not offered (taken, too soon, too far, another teacher)."),
    "term_overlap": (409, "The term's dates share a day with another term's."),
    "weekly_time_taken": (409, "The student already has a standing weekly lesson on that weekday at that time."),
    "not_waitlisted": (409, "The child is no longer on the waitlist: nothing to offer."),
    "fee_settled": (409, "The lesson fee was reversed when the lesson's outcome changed: nothing is left to waive."),
    "stripe_refused": (409, "Stripe refused the request (an unknown invoice or payment, or one already settled)."),
    "plan_not_in_stripe": (409, "The tuition plan has no Stripe price yet: run `billing_sync_catalog`."),
    "email_not_resendable": (409, "The email may not go again (sent, queued, resent already) or cannot be rebuilt."),
    # An enrollment's life after it starts: vacation pauses, withdrawals, changes from a date.
    "enrollment_not_active": (
        409,
        "The enrollment is not active (pending, waitlisted, unpaid or ended): nothing to do.",
    ),
    "pause_overlaps": (409, "The enrollment is already on a vacation pause on some of those days."),
    "pause_not_live": (409, "The vacation pause is over already."),
    "already_withdrawn": (409, "Notice was given already: the last lesson date is set."),
    "change_conflicts": (409, "The new weekly time clashes in some weeks (listed in `fields.weeks`): nothing changed."),
    # Payroll: closing a pay period, changing a rate that paid a closed one.
    "lessons_unmarked": (409, "The pay period has lessons without an outcome (listed in `lessons`): mark them first."),
    "pay_period_not_closable": (
        409,
        "The pay period cannot close yet: not over, an earlier one open, or paid lessons without a rate (`lessons`).",
    ),
    "pay_rate_in_use": (
        409,
        "The pay rate paid lessons of a closed pay period: add a rate from a later day instead of changing it.",
    ),
    "link_expired": (410, "The enrollment's confirmation link has expired: the family's email has the details."),
    "too_large": (413, "The request body is over the size the API reads."),
    "unsupported_media_type": (415, "Send the body as `application/json`."),
    "throttled": (429, "Too many requests from you in a short time: wait the seconds the message names."),
    "locked_out": (429, "Too many failed sign-ins for this account from here, or from here: try again in an hour."),
    "server_error": (500, "An error on our side; it was logged: quote `request_id` when reporting it."),
    "service_unavailable": (503, "Stripe could not be reached; nothing was kept: retry after `retry_after` seconds."),
    "unavailable": (503, "Our database could not be reached; nothing was kept: retry after `retry_after` seconds."),
}


class PrivacyNoticeNotEditable(DomainError):
    """A published privacy notice is a record of what families read: a change is a new version."""

    code = "privacy_notice_published"
    status = 409
