"""The owner's money figures (the admin's dashboard and `GET /api/v1/dashboard/`): what came in each month, what
recurs, what is owed and how old it is. Each figure is one query, whatever the school's size, in the school's
currency and its zone's months."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, F, IntegerField, Q, Sum, When
from django.db.models.functions import Coalesce

from billing.models import Payment, PaymentFailure, TuitionSubscription
from cedarheights.money import default_currency
from cedarheights.periods import Period, local_midnight
from cedarheights.selectors import school_settings_get
from enrollment.lesson_prices import WEEKS_PER_MONTH
from enrollment.models import TuitionPlan

# Money that came in: a payment that succeeded, whatever was refunded of it since.
COLLECTED = (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED)
# Subscriptions Stripe is charging: past due still bills (its retries run), a trial has not started.
BILLING = (TuitionSubscription.Status.ACTIVE, TuitionSubscription.Status.PAST_DUE)


@dataclass(frozen=True)
class MonthAmount:
    month: date
    cents: int


def revenue_collected_by_month(*, months: list[Period]) -> list[MonthAmount]:
    """Each month's payments that succeeded, less what was refunded of them, by the month they were paid in (the
    school's zone): a refund lowers the month of the payment it returns. One query."""
    net = F("amount_cents") - F("amount_refunded_cents")
    sums = Payment.objects.filter(
        status__in=COLLECTED,
        currency=default_currency(),
        paid_at__gte=months[0].start_at,
        paid_at__lt=months[-1].end_at,
    ).aggregate(
        **{
            f"m{n}": Coalesce(Sum(net, filter=Q(paid_at__gte=month.start_at, paid_at__lt=month.end_at)), 0)
            for n, month in enumerate(months)
        }
    )
    return [MonthAmount(month.first, sums[f"m{n}"]) for n, month in enumerate(months)]


def monthly_recurring_revenue_from_plans() -> int:
    """Monthly recurring revenue: the monthly amount of every subscription Stripe is charging, in cents. Until
    billing's tuition (`billing.tuition.enrollment_monthly_cents`) answers per enrollment, it is read from the plans:
    a fixed monthly price as it is; a weekly price, a per-lesson price or a term-priced plan's lesson rate × 52 ÷ 12.
    One query (a sum in SQL, never a loop over subscriptions)."""
    plan = "tuition_plan__"
    by_the_week = (
        Q(**{f"{plan}interval": TuitionPlan.Interval.WEEK})
        | Q(**{f"{plan}basis": TuitionPlan.Basis.PER_LESSON})
        | Q(**{f"{plan}lesson_rate_cents__isnull": False})
    )
    weekly_price = Case(
        When(
            Q(**{f"{plan}basis": TuitionPlan.Basis.FLAT, f"{plan}interval": TuitionPlan.Interval.MONTH}),
            then=F(f"{plan}lesson_rate_cents"),
        ),
        default=F(f"{plan}price_cents"),
        output_field=IntegerField(),
    )
    sums = TuitionSubscription.objects.filter(status__in=BILLING, tuition_plan__currency=default_currency()).aggregate(
        monthly=Coalesce(Sum(f"{plan}price_cents", filter=~by_the_week), 0),
        weekly=Coalesce(Sum(weekly_price, filter=by_the_week), 0),
    )
    # A plan priced by the week or the lesson (one a week) recurs 52 ÷ 12 times a month.
    return sums["monthly"] + round(sums["weekly"] * WEEKS_PER_MONTH)


@dataclass(frozen=True)
class AgedAmount:
    label: str
    count: int
    cents: int


# Ages in days of money owed, by the day it was charged: 0–30, 31–60 and over 60.
AGE_BUCKETS = (("0–30 days", 0, 30), ("31–60 days", 31, 60), ("over 60 days", 61, None))


@dataclass(frozen=True)
class Receivables:
    aged: list[AgedAmount]
    in_retry_count: int
    in_retry_cents: int

    @property
    def outstanding_cents(self) -> int:
        return sum(bucket.cents for bucket in self.aged)


def receivables_aged(*, today: date) -> Receivables:
    """Money charged that never arrived: every failed payment not since recovered (retrying, or given up on), aged by
    the day it was charged in the school's zone; and of them, those Stripe is still retrying (an open failure). One
    query."""
    zone = school_settings_get().zone

    def charged_between(youngest: int, oldest: int | None) -> Q:
        # Aged `youngest` to `oldest` days: charged on or after the midnight `oldest` days ago, before `youngest - 1`'s.
        window = Q(created_at__lt=_midnight_days_ago(today, youngest - 1, zone))
        return window & Q(created_at__gte=_midnight_days_ago(today, oldest, zone)) if oldest is not None else window

    aggregates = {}
    for n, (_, youngest, oldest) in enumerate(AGE_BUCKETS):
        window = charged_between(youngest, oldest)
        aggregates[f"count{n}"] = Count("id", filter=window)
        aggregates[f"cents{n}"] = Coalesce(Sum("amount_cents", filter=window), 0)
    in_retry = Q(failure__status=PaymentFailure.Status.OPEN)
    sums = Payment.objects.filter(status=Payment.Status.FAILED, currency=default_currency()).aggregate(
        **aggregates,
        retry_count=Count("id", filter=in_retry),
        retry_cents=Coalesce(Sum("amount_cents", filter=in_retry), 0),
    )
    return Receivables(
        aged=[AgedAmount(label, sums[f"count{n}"], sums[f"cents{n}"]) for n, (label, _, _) in enumerate(AGE_BUCKETS)],
        in_retry_count=sums["retry_count"],
        in_retry_cents=sums["retry_cents"],
    )


def _midnight_days_ago(today: date, days: int, zone) -> datetime:
    return local_midnight(today - timedelta(days=days), zone)
