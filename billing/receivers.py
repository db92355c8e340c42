"""Billing's answers to the events of the layers below it (enrollment/signals.py, scheduling/signals.py)."""

from billing.services.customers import card_check
from billing.services.ledger import makeup_credit_to_money
from billing.services.lesson_fees import lesson_fee_follow_outcome
from billing.services.lifecycle import pause_collection_schedule, withdrawal_settlement_open
from billing.services.makeup_credits import makeup_credit_hold_while_unpaid
from billing.services.subscriptions import billing_start
from billing.tuition.changes import change_money_apply, change_money_preview
from billing.tuition.stripe_sync import family_items_sync_enqueue
from enrollment.models import Enrollment
from enrollment.signals import (
    enrollment_booked,
    enrollment_card_offered,
    enrollment_change_quoted,
    enrollment_changed,
    enrollment_pause_ended,
    enrollment_paused,
    enrollment_withdrawn,
    makeup_credit_expired,
    makeup_credit_issued,
)
from scheduling.signals import lesson_outcome_changed


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


def lesson_outcome_fee(sender, *, lesson, actor, **kwargs) -> None:
    lesson_fee_follow_outcome(lesson=lesson, actor=actor)


def issued_credit_hold(sender, *, credit, **kwargs) -> None:
    makeup_credit_hold_while_unpaid(credit=credit)


def expired_credit_to_money(sender, *, credit, **kwargs) -> None:
    makeup_credit_to_money(credit=credit)


# --- Tuition: the money of a mid-cycle change, and the Stripe items following a change or a withdrawal ---


def changed_enrollment_adjust(sender, *, enrollment, effective_on, before=None, after=None, **kwargs) -> None:
    change_money_apply(enrollment=enrollment, effective_on=effective_on, before=before, after=after or {})


def change_quote(sender, *, enrollment, effective_on, after=None, **kwargs):
    # The preview rolled its change back: the enrollment as it stands is the "before" the money is counted from.
    return change_money_preview(
        enrollment=Enrollment.objects.select_related("tuition_plan").get(pk=enrollment.pk),
        effective_on=effective_on,
        after=after or {},
    )


def withdrawn_enrollment_items_sync(sender, *, enrollment, **kwargs) -> None:
    # A child leaving moves the siblings' discounts once their last month is past (each renewal syncs again too).
    family_items_sync_enqueue(family_id=enrollment.student.family_id)


def tuition_receivers_connect() -> None:
    enrollment_changed.connect(changed_enrollment_adjust, dispatch_uid="billing.changed_enrollment_adjust")
    enrollment_withdrawn.connect(withdrawn_enrollment_items_sync, dispatch_uid="billing.withdrawn_items_sync")
    enrollment_change_quoted.connect(change_quote, dispatch_uid="billing.change_quote")


def receivers_connect() -> None:
    tuition_receivers_connect()
    enrollment_card_offered.connect(card_offered_check, dispatch_uid="billing.card_offered_check")
    enrollment_booked.connect(booked_enrollment_bill, dispatch_uid="billing.booked_enrollment_bill")
    lesson_outcome_changed.connect(lesson_outcome_fee, dispatch_uid="billing.lesson_outcome_fee")
    makeup_credit_issued.connect(issued_credit_hold, dispatch_uid="billing.issued_credit_hold")
    makeup_credit_expired.connect(expired_credit_to_money, dispatch_uid="billing.expired_credit_to_money")
    lifecycle_receivers_connect()


# --- Lifecycle: vacation pauses and withdrawals (billing/services/lifecycle.py) ---


def pause_collection_follow(sender, *, pause, **kwargs) -> None:
    pause_collection_schedule(pause=pause)


def withdrawal_settle_open(sender, *, enrollment, unused_lessons: str, **kwargs) -> None:
    withdrawal_settlement_open(enrollment=enrollment, unused_lessons=unused_lessons)


def lifecycle_receivers_connect() -> None:
    enrollment_paused.connect(pause_collection_follow, dispatch_uid="billing.pause_collection_follow")
    enrollment_pause_ended.connect(pause_collection_follow, dispatch_uid="billing.pause_collection_resume")
    enrollment_withdrawn.connect(withdrawal_settle_open, dispatch_uid="billing.withdrawal_settle_open")
