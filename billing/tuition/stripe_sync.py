"""Stripe's invoices made to say what our lines say (billing.tuition.bill).

- A subscription's item: the plan's price (a fixed monthly fee), a price of the term's monthly fee (term-priced,
  one Stripe price per plan and amount: `TuitionPrice`), or 0 (per lesson: each month's lessons are added to its
  renewal invoice); its discounts are coupons with our own ids, in the school's order.
- The first partial month: an invoice item of the lessons left in it, with the same coupons, joining the invoice
  Stripe makes at the first lesson (the days before the 1st are free: proration "none").
- A renewal, during its draft window (`invoice.created`): an item brings the draft to the month's bill (the
  per-lesson month's lessons, a new term's fee), and one gives back last month's lessons charged in advance that
  are no longer charged (cancelled with notice on a per-lesson plan).

Every item has a `TuitionCharge` row (unique per enrollment, month, kind and change) written before Stripe is asked,
and a Stripe idempotency key from our ids: a replayed event or a retried step adds nothing twice.
"""

from datetime import UTC, date, datetime

from django.db import transaction
from django.utils import timezone

from billing import stripe_gateway
from billing.models import BillingProfile, PromotionCode, TuitionCharge, TuitionPrice, TuitionSubscription
from billing.tuition.bill import EnrollmentMonth, month_bill
from billing.tuition.lines import Discount, LineKind, discounts_apply, lines_total
from cedarheights.outbox import task_enqueue_with_commit
from cedarheights.selectors import school_settings_get, school_today
from enrollment.models import TuitionPlan
from enrollment.tuition import is_term_priced, month_first, next_month_first

PROMOTION_PREFIX = "cedar-promo-"


def _coupon_discount(coupon_id: str) -> tuple[Discount, PromotionCode | None]:
    """What one of our coupon ids means: `cedar-<kind>-<percent>` or `cedar-promo-<code id>`."""
    if coupon_id.startswith(PROMOTION_PREFIX):
        code = PromotionCode.objects.get(pk=int(coupon_id.removeprefix(PROMOTION_PREFIX)))
        return Discount(LineKind.PROMOTION, code.code, coupon_id, code.percent_off, code.amount_off_cents), code
    kind, percent = coupon_id.removeprefix("cedar-").rsplit("-", 1)
    return Discount(kind.replace("multi", LineKind.MULTI_LESSON), coupon_id, coupon_id, int(percent)), None


def coupons_ensure(*, coupons: list[str]) -> list[str]:
    """Each coupon made at Stripe if it is not there yet (its terms from our own id)."""
    for coupon_id in coupons:
        discount, code = _coupon_discount(coupon_id)
        stripe_gateway.coupon_ensure(
            coupon_id=coupon_id,
            name=code.code if code else coupon_id.removeprefix("cedar-").replace("-", " ") + " %",
            percent_off=discount.percent,
            amount_off_cents=discount.amount_off_cents,
            currency=code.currency if code else "",
            duration=code.duration if code else "forever",
            duration_in_months=code.duration_months if code else None,
        )
    return coupons


def discounted_cents(*, base_cents: int, coupons: list[str]) -> int:
    """What a line of `base_cents` with these coupons comes to (as Stripe computes it)."""
    discounts = [_coupon_discount(coupon)[0] for coupon in coupons]
    return base_cents + lines_total(discounts_apply(base_cents=base_cents, discounts=discounts))


def tuition_price_ensure(*, plan: TuitionPlan, amount_cents: int) -> str:
    """The Stripe price of `amount_cents` a month for the plan: the one we hold, or one made now."""
    if found := TuitionPrice.objects.filter(tuition_plan=plan, amount_cents=amount_cents).first():
        return found.stripe_price_id
    _, price_id = stripe_gateway.product_and_price_create(
        plan_id=plan.pk,
        name=plan.name,
        amount_cents=amount_cents,
        currency=plan.currency,
        interval=TuitionPlan.Interval.MONTH,
        existing_product_id=plan.stripe_product_id,
    )
    price, _ = TuitionPrice.objects.get_or_create(
        tuition_plan=plan, amount_cents=amount_cents, defaults={"stripe_price_id": price_id}
    )
    return price.stripe_price_id


def _is_per_lesson_month(plan: TuitionPlan) -> bool:
    return plan.basis == TuitionPlan.Basis.PER_LESSON and plan.interval == TuitionPlan.Interval.MONTH


def _month_of(subscription: TuitionSubscription, month: date) -> EnrollmentMonth | None:
    return month_bill(family=subscription.family_id, month=month).of(subscription.enrollment_id)


def _first_whole_month(subscription: TuitionSubscription) -> date:
    """The first month the subscription's item bills in full: the month after the first lesson's, or this one when
    billing started at once."""
    start = timezone.localtime(subscription.starts_at or timezone.now(), school_settings_get().zone).date()
    return next_month_first(start) if subscription.starts_at else month_first(start)


def _item_terms(subscription: TuitionSubscription, month: EnrollmentMonth | None) -> tuple[str, list[str]]:
    plan = month.enrollment.tuition_plan if month else subscription.tuition_plan  # a change of plan: the new one
    coupons = coupons_ensure(coupons=month.coupons) if month else []
    if _is_per_lesson_month(plan):
        return tuition_price_ensure(plan=plan, amount_cents=0), coupons
    if is_term_priced(plan) and month is not None and month.base.kind == LineKind.BASE:
        return tuition_price_ensure(plan=plan, amount_cents=month.base.amount_cents), coupons
    return plan.stripe_price_id, coupons


def subscription_item_terms(*, subscription: TuitionSubscription) -> tuple[str, list[str]]:
    """The Stripe price and coupons of a subscription's item, for its first whole month. A plan without an
    enrollment, or billed weekly, keeps the plan's price and no coupons."""
    plan = subscription.tuition_plan
    if subscription.enrollment_id is None or plan.interval != TuitionPlan.Interval.MONTH:
        return plan.stripe_price_id, []
    return _item_terms(subscription, _month_of(subscription, _first_whole_month(subscription)))


def charge_add(
    *,
    subscription: TuitionSubscription,
    month: date,
    kind: str,
    base_cents: int,
    lessons: int,
    coupons: list[str],
    description: str,
    change_key: str = "",
    invoice_id: str = "",
) -> TuitionCharge:
    """One invoice item for the enrollment and month: its row first, then Stripe (a retry finds the row, and the same
    key gets the same item back)."""
    charge = charge_record(
        subscription=subscription,
        month=month,
        kind=kind,
        base_cents=base_cents,
        lessons=lessons,
        coupons=coupons,
        description=description,
        change_key=change_key,
        invoice_id=invoice_id,
    )
    return charge_send(charge=charge, subscription=subscription)


def charge_record(
    *,
    subscription: TuitionSubscription,
    month: date,
    kind: str,
    base_cents: int,
    lessons: int,
    coupons: list[str],
    description: str,
    change_key: str = "",
    invoice_id: str = "",
) -> TuitionCharge:
    """The row of one invoice item (unique per enrollment, month, kind and change): the same asked twice is one."""
    plan = subscription.tuition_plan
    charge, _ = TuitionCharge.objects.get_or_create(
        enrollment_id=subscription.enrollment_id,
        month=month,
        kind=kind,
        change_key=change_key,
        defaults={
            "family_id": subscription.family_id,
            "lessons": lessons,
            "base_cents": base_cents,
            "amount_cents": discounted_cents(base_cents=base_cents, coupons=coupons),
            "currency": plan.currency,
            "coupons": coupons,
            "description": description[:255],
            "stripe_invoice_id": invoice_id,
        },
    )
    return charge


def charge_send(*, charge: TuitionCharge, subscription: TuitionSubscription) -> TuitionCharge:
    """The charge's invoice item at Stripe, once: its id is stored, and its key is the row's own."""
    if charge.stripe_invoice_item_id:
        return charge
    month, kind, change_key, invoice_id = charge.month, charge.kind, charge.change_key, charge.stripe_invoice_id
    coupons_ensure(coupons=charge.coupons)
    customer_id = BillingProfile.objects.get(family_id=subscription.family_id).stripe_customer_id
    key = f"billing:enrollment:{subscription.enrollment_id}:month:{month:%Y-%m}:{kind}"
    item_id = stripe_gateway.invoice_item_create(
        key=f"{key}:{change_key}" if change_key else key,
        customer_id=customer_id,
        amount_cents=charge.base_cents,
        currency=charge.currency,
        description=charge.description,
        invoice_id=invoice_id or None,
        subscription_id=None if invoice_id else subscription.stripe_subscription_id,
        metadata={"enrollment_id": str(subscription.enrollment_id), "month": f"{month:%Y-%m}", "kind": kind},
        coupons=charge.coupons,
    )
    TuitionCharge.objects.filter(pk=charge.pk).update(stripe_invoice_item_id=item_id)
    charge.stripe_invoice_item_id = item_id
    return charge


def first_month_charge(*, subscription: TuitionSubscription) -> TuitionCharge | None:
    """The lessons left in the month of the first lesson, × the lesson rate, with the month's discounts: a pending
    item that joins the invoice Stripe makes at the first lesson. None when billing started at once (Stripe charged
    a whole month) or there is nothing to charge."""
    plan = subscription.tuition_plan
    if subscription.enrollment_id is None or subscription.starts_at is None:
        return None
    if plan.interval != TuitionPlan.Interval.MONTH:
        return None
    month = month_first(timezone.localtime(subscription.starts_at, school_settings_get().zone).date())
    item = _month_of(subscription, month)
    if item is None or item.base.amount_cents <= 0:
        return None
    return charge_add(
        subscription=subscription,
        month=month,
        kind=TuitionCharge.Kind.FIRST_MONTH,
        base_cents=item.base.amount_cents,
        lessons=item.base.lessons or 0,
        coupons=item.coupons,
        description=f"{item.enrollment.student.first_name}, {month:%B %Y}: {item.base.label}",
    )


def _subscription_line_cents(invoice: dict) -> int:
    lines = (invoice.get("lines") or {}).get("data") or []
    return sum(line.get("amount") or 0 for line in lines if line.get("type") == "subscription")


def _invoice_month(invoice: dict) -> date:
    """The month a renewal bills: its subscription line's period starts on its 1st (else: when it was made)."""
    lines = (invoice.get("lines") or {}).get("data") or []
    starts = [line["period"]["start"] for line in lines if line.get("type") == "subscription" and line.get("period")]
    stamp = starts[0] if starts else invoice.get("created") or int(timezone.now().timestamp())
    moment = datetime.fromtimestamp(int(stamp), tz=UTC)
    return month_first(timezone.localtime(moment, school_settings_get().zone).date())


def renewal_invoice_adjust(*, subscription: TuitionSubscription, invoice: dict) -> list[TuitionCharge]:
    """A renewal in its draft window (`invoice.created`): items that bring it to the month's bill, and give back last
    month's lessons charged in advance that are no longer charged. Idempotent (rows unique per month and kind)."""
    if subscription.enrollment_id is None or subscription.tuition_plan.interval != TuitionPlan.Interval.MONTH:
        return []
    month = _invoice_month(invoice)
    charges = []
    # The invoice made when the first lesson ends the trial carries that month's lessons already (the pending
    # FIRST_MONTH item): it is not a renewal to bring to the month's fee.
    first_month_billed = TuitionCharge.objects.filter(
        enrollment_id=subscription.enrollment_id, month=month, kind=TuitionCharge.Kind.FIRST_MONTH
    ).exists()
    item = None if first_month_billed else _month_of(subscription, month)
    if item is not None and (missing := item.base.amount_cents - _subscription_line_cents(invoice)):
        per_lesson = _is_per_lesson_month(subscription.tuition_plan)
        charges.append(
            charge_add(
                subscription=subscription,
                month=month,
                kind=TuitionCharge.Kind.PER_LESSON if per_lesson else TuitionCharge.Kind.CHANGE,
                change_key="" if per_lesson else "month-fee",
                base_cents=missing,
                lessons=item.base.lessons or 0,
                coupons=item.coupons if missing > 0 else [],
                description=f"{item.enrollment.student.first_name}, {month:%B %Y}: {item.base.label}",
                invoice_id=invoice["id"],
            )
        )
    previous = month_first(month - date.resolution)
    charged = TuitionCharge.objects.filter(
        enrollment_id=subscription.enrollment_id,
        month=previous,
        kind__in=[TuitionCharge.Kind.FIRST_MONTH, TuitionCharge.Kind.PER_LESSON],
    )
    if _is_per_lesson_month(subscription.tuition_plan) and charged:
        before = _month_of(subscription, previous)
        over = sum(c.amount_cents for c in charged) - (before.total_cents if before else 0)
        if over > 0:
            charges.append(
                charge_add(
                    subscription=subscription,
                    month=previous,
                    kind=TuitionCharge.Kind.CHANGE,
                    change_key="not-charged",
                    base_cents=-over,
                    lessons=0,
                    coupons=[],
                    description=f"{previous:%B %Y}: lessons charged in advance, not charged after all",
                    invoice_id=invoice["id"],
                )
            )
    return charges


# --- Keeping each subscription's item true: its price and coupons follow our lines when they change (a sibling joins
# or leaves, a family or staff discount, a promotion code, a new term's fee, a change of plan) ---

ITEMS_SYNC_TASK = "billing.tasks.tuition_items_sync"


def _next_invoiced_month(subscription: TuitionSubscription) -> date:
    """The month the subscription's next invoice bills: next month (a renewal on the 1st bills its own month), or
    its first whole month while that is later."""
    return max(next_month_first(school_today()), _first_whole_month(subscription))


def subscription_item_sync(*, subscription_id: int) -> bool:
    """Set the subscription's Stripe item to the price and coupons of the month its next invoice bills (proration
    none: nothing is charged now), when they differ from what it holds. Under the row's lock, so two syncs take
    turns; each change has its own idempotency key (`…:item:<n>`), so a retried task gets Stripe's first answer and
    a later change back is still made. True when Stripe was asked."""
    with transaction.atomic():
        subscription = (
            TuitionSubscription.objects.select_for_update(of=("self",))
            .select_related("tuition_plan")
            .get(pk=subscription_id)
        )
        plan = subscription.tuition_plan
        if (
            not subscription.stripe_subscription_id
            or subscription.status == TuitionSubscription.Status.CANCELED
            or subscription.enrollment_id is None
            or plan.interval != TuitionPlan.Interval.MONTH
        ):
            return False
        month = _month_of(subscription, _next_invoiced_month(subscription))
        if month is None:
            return False  # not billed that month (its last lesson comes before): nothing to renew
        price_id, coupons = _item_terms(subscription, month)
        terms = {"price": price_id, "coupons": coupons}
        if subscription.item_terms == terms:
            return False
        plan_id = month.enrollment.tuition_plan_id  # the item bills the enrollment's plan (changed from a date)
        syncs = subscription.item_syncs + 1
        item_id = stripe_gateway.subscription_item_update(
            stripe_subscription_id=subscription.stripe_subscription_id,
            price_id=price_id,
            coupons=coupons,
            key=f"billing:subscription:{subscription.pk}:item:{syncs}",
        )
        if item_id is None:
            return False  # Stripe has no such subscription (the demo's are made up): nothing to bring up to date
        TuitionSubscription.objects.filter(pk=subscription.pk).update(
            item_terms=terms, item_syncs=syncs, tuition_plan_id=plan_id
        )
    return True


def family_items_sync(*, family_id: int) -> int:
    """Bring each of the family's live subscriptions' items to our lines (siblings' discounts move between them);
    the number changed at Stripe."""
    live = (
        TuitionSubscription.objects.filter(family_id=family_id)
        .exclude(stripe_subscription_id=None)
        .exclude(status=TuitionSubscription.Status.CANCELED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(subscription_item_sync(subscription_id=pk) for pk in live)


def family_items_sync_enqueue(*, family_id: int) -> None:
    """`family_items_sync` in the worker once the current transaction commits (nothing if it rolls back)."""
    task_enqueue_with_commit(ITEMS_SYNC_TASK, family_id)
