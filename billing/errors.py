"""Billing's domain errors: what its services refuse, in words a person can act on, and Stripe out of reach.

The shared base and codes are in `cedarheights/errors.py`; every interface answers these through the one error
body (API: JSON, with `retry_after` and a `Retry-After` header for a 503; pages and the admin: a message).
"""

from cedarheights.errors import DomainError, InvalidInput, ServiceUnavailable


class GatewayUnavailable(ServiceUnavailable):
    """Stripe could not be reached or answered with a server error: try again after `retry_after` seconds.

    Its code stays the core's `service_unavailable`, the one the API schema documents for Stripe."""


class CardRefused(DomainError):
    """Stripe would not take the card (declined at attach, unknown or expired payment method)."""

    code = "card_refused"


class StripeRefused(DomainError):
    """Stripe answered, and refused the request: the invoice, payment or customer it names is unknown to Stripe
    or no longer in a state for it (an invoice already paid, a payment fully refunded)."""

    code = "stripe_refused"
    status = 409


class NoCardOnFile(InvalidInput):
    """Billing needs a card: the family has none on file, and none was given."""

    def __init__(self, message: str = "No card on file: the parent adds one on their billing page."):
        super().__init__(message, fields={"payment_method_id": ["The family has no card on file."]})


class PlanNotInStripe(DomainError):
    """A tuition plan is billed before `billing_sync_catalog` gave it a Stripe price."""

    code = "plan_not_in_stripe"
    status = 409


class SignatureRefused(DomainError):
    """A webhook delivery whose Stripe signature does not hold (tampered, another secret, too old, from the future)."""

    code = "bad_signature"


class NotAStripeEvent(InvalidInput):
    """A signed webhook body that is not a Stripe event (id, type, created and data.object)."""

    code = "not_an_event"

    def __init__(self):
        super().__init__("The body is not a Stripe event (id, type, created and data.object).")


class LessonFeeSettled(DomainError):
    """The fee was reversed (the lesson's outcome changed): there is nothing left to waive."""

    code = "fee_settled"
    status = 409


# --- Tuition: promotion codes ---


class PromotionCodeRefused(InvalidInput):
    """The promotion code cannot be applied: unknown, inactive, past its last day, used up, or already used by the
    family."""

    code = "promotion_code_refused"
