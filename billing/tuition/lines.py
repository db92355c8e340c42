"""A month's tuition as lines: the base (lessons × rate, or a monthly fee), then each discount in the school's fixed
order, each taking its share of what the ones before it left (../shared/notes/school-policies.md, "Tuition").

Pure arithmetic on integer cents: the same function gives the billing page's lines, the receipts', the admin's and
the amounts sent to Stripe, whose coupons apply the same way (scripts/local_stripe.py mirrors it for the local
server).
"""

from dataclasses import dataclass


class LineKind:
    BASE = "base"
    FIRST_MONTH = "first_month"
    LAST_MONTH = "last_month"
    MULTI_LESSON = "multi_lesson"
    SIBLING = "sibling"
    FAMILY = "family"
    STAFF = "staff"
    PROMOTION = "promotion"
    ADJUSTMENT = "adjustment"


DISCOUNT_ORDER = (LineKind.MULTI_LESSON, LineKind.SIBLING, LineKind.FAMILY, LineKind.STAFF, LineKind.PROMOTION)


@dataclass(frozen=True)
class MoneyLine:
    """One line of money. A discount is negative and names the Stripe coupon that says it there."""

    kind: str
    label: str
    amount_cents: int
    lessons: int | None = None
    rate_cents: int | None = None
    coupon: str = ""

    @property
    def is_discount(self) -> bool:
        return self.kind in DISCOUNT_ORDER


@dataclass(frozen=True)
class Discount:
    """A discount to apply: a percent of what is left, or an amount off (never more than is left)."""

    kind: str
    label: str
    coupon: str
    percent: int | None = None
    amount_off_cents: int | None = None


def percent_of(cents: int, percent: int) -> int:
    """`percent` % of `cents`, rounded half away from zero to the cent (as Stripe rounds a coupon's amount)."""
    magnitude = (abs(cents) * percent + 50) // 100
    return magnitude if cents >= 0 else -magnitude


def discounts_apply(*, base_cents: int, discounts: list[Discount]) -> list[MoneyLine]:
    """The discount lines for `base_cents`, in the order given: each takes its percent of what the ones before it
    left, or its amount; what is left never goes below zero. Nothing is taken off a negative base (money given
    back is given back in full)."""
    lines, left = [], base_cents
    for discount in sorted(discounts, key=lambda d: DISCOUNT_ORDER.index(d.kind)):
        if left <= 0:
            off = 0
        elif discount.percent is not None:
            off = percent_of(left, discount.percent)
        else:
            off = min(discount.amount_off_cents or 0, left)
        lines.append(MoneyLine(kind=discount.kind, label=discount.label, amount_cents=-off, coupon=discount.coupon))
        left -= off
    return lines


def lines_total(lines: list[MoneyLine] | tuple[MoneyLine, ...]) -> int:
    return sum(line.amount_cents for line in lines)
