"""The demo's tuition (issue 17 §1): flat monthly plans priced by the term's lessons, the Nguyen and Singh
families' sibling lines, a staff discount, a promotion code, and the per-lesson family (Piano 30 min, per lesson):
all on the parents' billing pages and the admin. Looked up first, so seeding again changes nothing."""

from datetime import date

from accounts.models import Family, User
from billing.models import FamilyDiscount, PromotionCode
from billing.services.tuition_discounts import family_discount_set, promotion_code_apply
from enrollment.models import TuitionPlan
from enrollment.services import tuition_plan_update
from enrollment.tuition import month_first

# A flat monthly plan with a lesson rate is term-priced: rate × the term's lessons ÷ its billing months.
LESSON_RATES = {
    "Piano 30 min, monthly": 3_500,
    "Piano 45 min, monthly": 4_800,
    "Guitar or bass 45 min, monthly": 4_500,
}
STAFF_FAMILY, STAFF_PERCENT = "Okonkwo family", 20
PROMOTION = "WELCOME-10"
PROMOTION_FAMILY = "Tremblay family"


def tuition_tell(*, today: date) -> None:
    owner = User.objects.filter(role=User.Role.ADMIN, is_superuser=True).order_by("pk").first()
    for name, rate in LESSON_RATES.items():
        plan = TuitionPlan.objects.filter(name=name).first()
        if plan is not None and plan.lesson_rate_cents != rate:
            tuition_plan_update(plan=plan, lesson_rate_cents=rate)
    staff = Family.objects.filter(name=STAFF_FAMILY).first()
    if staff is not None and not FamilyDiscount.objects.filter(family=staff).exists():
        family_discount_set(
            family=staff,
            kind="staff",
            percent=STAFF_PERCENT,
            note="Chidi teaches the Saturday theory class",
            actor=owner,
        )
    code, _ = PromotionCode.objects.get_or_create(
        code=PROMOTION, defaults={"percent_off": 10, "duration": PromotionCode.Duration.REPEATING, "duration_months": 3}
    )
    family = Family.objects.filter(name=PROMOTION_FAMILY).first()
    if family is not None and not code.redemptions.filter(family=family).exists():
        promotion_code_apply(code=code, family=family, actor=owner, on=month_first(today))
