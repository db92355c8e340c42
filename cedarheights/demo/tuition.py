"""The demo's tuition: flat monthly plans priced by the term's lessons, the Nguyen and Singh
families' sibling lines, a staff discount, a promotion code, and the per-lesson family (Piano 30 min, per lesson):
all on the parents' billing pages and the admin. Looked up first, so seeding again changes nothing."""

from datetime import date

from django.utils import timezone

from accounts.models import Family, User
from billing.models import FamilyDiscount, PromotionCode, TuitionCharge, TuitionSubscription
from billing.services.tuition_discounts import family_discount_set, promotion_code_apply
from billing.tuition import month_bill
from cedarheights.selectors import school_settings_get
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
    tuition_charges_tell()


def tuition_charges_tell() -> None:
    """Stripe's side of the demo's first months, faked as cedarheights.demo.fakes fakes the rest of the month of
    billing (the demo is seeded before the local Stripe server starts): each demo subscription's first month, by
    its lessons, as the pipeline records it, with a plainly fake item id (`ii_demo_…`)."""
    demo = TuitionSubscription.objects.filter(
        stripe_subscription_id__startswith="sub_demo_", enrollment__isnull=False, starts_at__isnull=False
    ).select_related("enrollment__student")
    for subscription in demo:
        month = month_first(timezone.localtime(subscription.starts_at, school_settings_get().zone).date())
        item = month_bill(family=subscription.family_id, month=month).of(subscription.enrollment_id)
        if item is None or item.base.amount_cents <= 0:
            continue
        TuitionCharge.objects.get_or_create(
            enrollment_id=subscription.enrollment_id,
            month=month,
            kind=TuitionCharge.Kind.FIRST_MONTH,
            change_key="",
            defaults={
                "family_id": subscription.family_id,
                "lessons": item.base.lessons or 0,
                "base_cents": item.base.amount_cents,
                "amount_cents": item.total_cents,
                "currency": item.currency,
                "coupons": item.coupons,
                "description": f"{item.enrollment.student.first_name}, {month:%B %Y}: {item.base.label}"[:255],
                "stripe_invoice_item_id": f"ii_demo_{subscription.pk}",
            },
        )
