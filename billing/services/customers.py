"""A family at Stripe: its customer (made in one place), the card on file, and a card checked before it is used."""

from django.utils import timezone

from accounts.models import Family
from billing import stripe_gateway
from billing.errors import GatewayUnavailable
from billing.models import BillingProfile, PaymentFailure


def card_check(*, payment_method_id: str) -> None:
    """Before anything is booked on a card: Stripe must know it and accept it for later charges (`CardRefused`,
    an error on `payment_method_id`); Stripe out of reach is a "try again" (`GatewayUnavailable`, a 503), said
    in the words of someone enrolling."""
    try:
        stripe_gateway.card_verify(payment_method_id=payment_method_id)
    except GatewayUnavailable as error:
        raise GatewayUnavailable(
            "We could not check your card just now. Nothing was saved: please try again in a minute."
        ) from error


def billing_profile_customer_ensure(*, family: Family) -> BillingProfile:
    """The family's billing profile with its Stripe customer: the one stored, or one made now and stored the
    moment Stripe answers. The idempotency key is the family's (`billing:family:<id>:customer`), so a call
    retried after Stripe answered and before the id was stored gets the same customer back. Stripe is called
    outside any lock or transaction."""
    profile, _ = BillingProfile.objects.get_or_create(family=family)
    if profile.stripe_customer_id:
        return profile
    parent = family.parents.order_by("id").first()
    customer_id = stripe_gateway.customer_create(
        family_id=family.pk, email=parent.email if parent else "", name=family.name
    )
    BillingProfile.objects.filter(pk=profile.pk).update(stripe_customer_id=customer_id)
    profile.stripe_customer_id = customer_id
    return profile


def billing_profile_card_attach(*, profile: BillingProfile, payment_method_id: str) -> BillingProfile:
    """Attach a card to the family's Stripe customer and keep it as the default for every invoice and charge."""
    card = stripe_gateway.payment_method_attach(
        family_id=profile.family_id, customer_id=profile.stripe_customer_id, payment_method_id=payment_method_id
    )
    profile.default_payment_method_id = payment_method_id
    profile.card_brand, profile.card_last4 = card.brand, card.last4
    profile.card_exp_month, profile.card_exp_year = card.exp_month, card.exp_year
    profile.save(
        update_fields=["default_payment_method_id", "card_brand", "card_last4", "card_exp_month", "card_exp_year"]
    )
    return profile


def billing_profile_card_refresh(
    *, payment_method_id: str, brand: str, last4: str, exp_month: int | None, exp_year: int | None
) -> int:
    """Stripe says a card changed (a new expiry): the profiles whose default it is show it; returns how many."""
    return BillingProfile.objects.filter(default_payment_method_id=payment_method_id).update(
        card_brand=brand, card_last4=last4, card_exp_month=exp_month, card_exp_year=exp_year
    )


def payment_method_update(*, family: Family, payment_method_id: str) -> BillingProfile:
    """The parent's new card becomes the default for every invoice and charge; open failures retry on it."""
    profile = billing_profile_customer_ensure(family=family)
    profile = billing_profile_card_attach(profile=profile, payment_method_id=payment_method_id)
    # Due now: the next retry run tries the new card instead of waiting for the schedule.
    PaymentFailure.objects.filter(family=family, status=PaymentFailure.Status.OPEN).update(next_retry_at=timezone.now())
    return profile
