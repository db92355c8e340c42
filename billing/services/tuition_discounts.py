"""Promotion codes applied to a family and the family's own discount (by the owner in the admin or the API, a code
also by a parent on the billing page; the rules are here, once). Each change brings the family's Stripe
subscription items to the new lines once it commits."""

from datetime import date

from django.db import IntegrityError, transaction

from accounts.models import Family
from billing.errors import PromotionCodeRefused
from billing.models import FamilyDiscount, PromotionCode, PromotionRedemption
from billing.tuition.stripe_sync import family_items_sync_enqueue
from cedarheights.errors import InvalidInput
from cedarheights.model_validation import model_validate
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_today
from cedarheights.services import audit_record, audited_create, audited_update
from enrollment.models import Enrollment
from enrollment.tuition import month_first, next_month_first


def promotion_code_check(
    *, code: PromotionCode, family: Family, on: date, enrollment: Enrollment | None = None
) -> None:
    """Raise `PromotionCodeRefused` unless the code can be applied to the family (and its enrollment) on `on`."""
    if enrollment is not None and enrollment.student.family_id != family.pk:
        raise PromotionCodeRefused("That enrollment is another family's.", fields={"enrollment": ["Not theirs."]})
    refusal = None
    if not code.active:
        refusal = f"The code {code.code} is no longer offered."
    elif code.valid_until is not None and on > code.valid_until:
        refusal = f"The code {code.code} could be used until {code.valid_until:%B %-d, %Y}."
    elif code.max_redemptions is not None and code.redemptions.count() >= code.max_redemptions:
        refusal = f"The code {code.code} has been used as often as it may be."
    elif code.redemptions.filter(family=family).exists():
        refusal = f"{family} already uses the code {code.code}."
    if refusal:
        raise PromotionCodeRefused(refusal, fields={"code": [refusal]})


@transaction.atomic
def promotion_code_apply(
    *, code: PromotionCode, family: Family, actor, enrollment: Enrollment | None = None, on: date | None = None
) -> PromotionRedemption:
    """Apply the code to the family from the next month to be invoiced (this month if applied on its 1st): checked
    under the code's lock, so two last redemptions cannot both pass; audited."""
    on = on or school_today()
    code = PromotionCode.objects.select_for_update().get(pk=code.pk)
    promotion_code_check(code=code, family=family, on=on, enrollment=enrollment)
    first = month_first(on) if on.day == 1 else next_month_first(on)
    try:
        with transaction.atomic():
            redemption = PromotionRedemption.objects.create(
                code=code, family=family, enrollment=enrollment, first_month=first, applied_by=actor
            )
    except IntegrityError as error:
        raise PromotionCodeRefused(f"{family} already uses the code {code.code}.") from error
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=redemption, changes={"code": ["", code.code]})
    family_items_sync_enqueue(family_id=family.pk)
    return redemption


@transaction.atomic
def promotion_redemption_remove(*, redemption: PromotionRedemption, actor) -> None:
    """The owner takes a code off a family (from its next invoice); audited."""
    audit_record(
        actor=actor, action=AuditEvent.Action.DELETE, obj=redemption, changes={"code": [redemption.code.code, ""]}
    )
    family_id = redemption.family_id
    redemption.delete()
    family_items_sync_enqueue(family_id=family_id)


@transaction.atomic
def family_discount_set(*, family: Family, kind: str, percent: int, note: str, actor) -> FamilyDiscount:
    """The family's own discount (one per family), made or changed; audited."""
    discount = FamilyDiscount.objects.filter(family=family).first()
    before = {"kind": discount.kind, "percent": discount.percent} if discount else {}
    discount = discount or FamilyDiscount(family=family)
    discount.kind, discount.percent, discount.note = kind, percent, note
    model_validate(discount)
    discount.save()
    changes = {name: [before.get(name, ""), getattr(discount, name)] for name in ("kind", "percent")}
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE,
        obj=discount,
        changes=changes,
    )
    family_items_sync_enqueue(family_id=family.pk)
    return discount


@transaction.atomic
def family_discount_remove(*, discount: FamilyDiscount, actor) -> None:
    """The family's own discount ended (from its next invoice); audited."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        obj=discount,
        changes={"kind": [discount.kind, ""], "percent": [discount.percent, ""]},
    )
    family_id = discount.family_id
    discount.delete()
    family_items_sync_enqueue(family_id=family_id)


# What a code takes off is fixed once made: its Stripe coupon (`cedar-promo-<id>`) cannot change its terms.
PROMOTION_CODE_CHANGEABLE = ("active", "valid_until", "max_redemptions")


def promotion_code_create(*, actor, **fields) -> PromotionCode:
    """A new promotion code, validated (its model's rules), audited."""
    return audited_create(actor=actor, model=PromotionCode, **fields)


def promotion_code_update(*, code: PromotionCode, actor, **fields) -> PromotionCode:
    """Offer a code or stop offering it, its last day, how often it may be used; audited. What it takes off stays."""
    if fixed := sorted(set(fields) - set(PROMOTION_CODE_CHANGEABLE)):
        raise InvalidInput(
            "What a code takes off cannot change once it is made: make a new code.",
            fields={name: ["Fixed once the code is made."] for name in fixed},
        )
    return audited_update(actor=actor, obj=code, **fields)


def promotion_code_redeem(*, code_text: str, family: Family, actor) -> PromotionRedemption:
    """A parent enters a code on their billing page: found by its text (any case, spaces around ignored), then
    applied as the owner would (`promotion_code_apply`): the same checks, the same refusals."""
    text = code_text.strip().upper()
    code = PromotionCode.objects.filter(code=text).first()
    if code is None:
        refusal = f"We do not know the code {text}. Please check it and try again."
        raise PromotionCodeRefused(refusal, fields={"code": [refusal]})
    return promotion_code_apply(code=code, family=family, actor=actor)
