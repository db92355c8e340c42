"""Promotion codes applied to a family (by the owner in the admin; the rule is here, once)."""

from datetime import date

from django.db import IntegrityError, transaction

from accounts.models import Family
from billing.errors import PromotionCodeRefused
from billing.models import FamilyDiscount, PromotionCode, PromotionRedemption
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_today
from cedarheights.services import audit_record
from enrollment.models import Enrollment
from enrollment.tuition import month_first, next_month_first


def promotion_code_check(*, code: PromotionCode, family: Family, on: date) -> None:
    """Raise `PromotionCodeRefused` unless the code can be applied to the family on `on`."""
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
    promotion_code_check(code=code, family=family, on=on)
    if enrollment is not None and enrollment.student.family_id != family.pk:
        raise PromotionCodeRefused("That enrollment is another family's.", fields={"enrollment": ["Not theirs."]})
    first = month_first(on) if on.day == 1 else next_month_first(on)
    try:
        with transaction.atomic():
            redemption = PromotionRedemption.objects.create(
                code=code, family=family, enrollment=enrollment, first_month=first, applied_by=actor
            )
    except IntegrityError as error:
        raise PromotionCodeRefused(f"{family} already uses the code {code.code}.") from error
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=redemption, changes={"code": ["", code.code]})
    return redemption


@transaction.atomic
def family_discount_set(*, family: Family, kind: str, percent: int, note: str, actor) -> FamilyDiscount:
    """The family's own discount (one per family), made or changed; audited."""
    discount = FamilyDiscount.objects.filter(family=family).first()
    before = {"kind": discount.kind, "percent": discount.percent} if discount else {}
    discount = discount or FamilyDiscount(family=family)
    discount.kind, discount.percent, discount.note = kind, percent, note
    discount.full_clean()
    discount.save()
    changes = {name: [before.get(name, ""), getattr(discount, name)] for name in ("kind", "percent")}
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE,
        obj=discount,
        changes=changes,
    )
    return discount
