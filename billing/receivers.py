"""Billing's answers to the events of the layers below it (enrollment/signals.py)."""

from billing.services.customers import card_check
from billing.services.subscriptions import billing_start
from enrollment.signals import enrollment_booked, enrollment_card_offered


def card_offered_check(sender, *, payment_method_id: str, **kwargs) -> None:
    card_check(payment_method_id=payment_method_id)


def booked_enrollment_bill(sender, *, enrollment, payment_method_id: str, starts_at, **kwargs) -> None:
    billing_start(
        family=enrollment.student.family,
        tuition_plan=enrollment.tuition_plan,
        enrollment=enrollment,
        payment_method_id=payment_method_id,
        starts_at=starts_at,
    )


def receivers_connect() -> None:
    enrollment_card_offered.connect(card_offered_check, dispatch_uid="billing.card_offered_check")
    enrollment_booked.connect(booked_enrollment_bill, dispatch_uid="billing.booked_enrollment_bill")
