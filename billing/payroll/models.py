"""Payroll's tables (issue 17 §2). A closed period and its lines never change: PostgreSQL refuses it
(triggers in migration 0014_payroll_*), and no service writes them."""

from django.conf import settings
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Q

from cedarheights.money import default_currency, format_cents
from scheduling.constraints import PostgresExclusionConstraint
from scheduling.models import InclusiveDateRange
from scheduling.outcomes import Outcome

# The lesson lengths a fixed rate may name: as long as a lesson may last (scheduling's bound of four hours).
RATE_MINUTES_MIN, RATE_MINUTES_MAX = 5, 240


class PayRate(models.Model):
    """What a teacher earns: fixed per lesson of one length, or hourly (prorated by the minutes taught), from a
    date. A lesson is paid at the rate in force on its local date (`billing.payroll.rules.rate_in_force`)."""

    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed per lesson"
        HOURLY = "hourly", "Hourly"

    teacher = models.ForeignKey("scheduling.Teacher", related_name="pay_rates", on_delete=models.PROTECT)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    lesson_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The lesson length a fixed rate pays (e.g. 30, 45, 60); empty when hourly."
    )
    amount_cents = models.PositiveIntegerField(help_text="In cents: per lesson (fixed) or per hour (hourly).")
    currency = models.CharField(max_length=3, default=default_currency)
    effective_from = models.DateField(help_text="The first day (the school's local date) the rate pays.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["teacher", "kind", "lesson_minutes", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="fixed", lesson_minutes__isnull=False)
                    & Q(lesson_minutes__gte=RATE_MINUTES_MIN, lesson_minutes__lte=RATE_MINUTES_MAX)
                    | Q(kind="hourly", lesson_minutes__isnull=True)
                ),
                name="pay_rate_minutes_follow_kind",
                violation_error_message="A fixed rate names its lesson length (5 to 240 minutes); an hourly one none.",
            ),
            # One rate per teacher, kind (and length) and first day: two would leave the lesson's rate to chance.
            models.UniqueConstraint(
                fields=["teacher", "lesson_minutes", "effective_from"],
                condition=Q(kind="fixed"),
                name="pay_rate_one_fixed_from",
                violation_error_message="This teacher already has a fixed rate for this length from that day.",
            ),
            models.UniqueConstraint(
                fields=["teacher", "effective_from"],
                condition=Q(kind="hourly"),
                name="pay_rate_one_hourly_from",
                violation_error_message="This teacher already has an hourly rate from that day.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher}: {self.describe()} from {self.effective_from:%Y-%m-%d}"

    def describe(self) -> str:
        money = format_cents(self.amount_cents, self.currency)
        return f"{money} an hour" if self.kind == self.Kind.HOURLY else f"{money} a {self.lesson_minutes}-min lesson"


class PayPeriod(models.Model):
    """A stretch of days teachers are paid for (the school's `pay_period`: weekly, semi-monthly, monthly), made as
    needed. Closing it freezes its lines; a later change to one of its lessons is an adjustment in the next one."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    start = models.DateField()
    end = models.DateField(help_text="Inclusive: the period's last day.")
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="pay_period_dates_ordered"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | Q(status="closed", closed_at__isnull=False),
                name="pay_period_closed_has_closed_at",
            ),
            models.UniqueConstraint(fields=["start"], name="pay_period_one_per_start"),
            PostgresExclusionConstraint(
                name="pay_period_no_overlap",
                expressions=[(InclusiveDateRange("start", "end"), RangeOperators.OVERLAPS)],
                violation_error_message="This pay period overlaps another.",
            ),
        ]

    def __str__(self) -> str:
        return f"Pay period {self.start:%-d %b %Y} to {self.end:%-d %b %Y}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class PayLine(models.Model):
    """One lesson's pay to one teacher in one period: `regular` for a lesson of the period, `adjustment` for the
    difference a later change made to a lesson already paid (or a lesson of a closed period marked since), which
    may be negative. Stored when the period closes; an open period's lines are computed (same shape, unsaved)."""

    class Kind(models.TextChoices):
        REGULAR = "regular", "Regular"
        ADJUSTMENT = "adjustment", "Adjustment"

    period = models.ForeignKey(PayPeriod, related_name="lines", on_delete=models.PROTECT)
    teacher = models.ForeignKey("scheduling.Teacher", related_name="pay_lines", on_delete=models.PROTECT)
    lesson = models.ForeignKey("scheduling.Lesson", related_name="pay_lines", on_delete=models.PROTECT)
    student = models.ForeignKey("scheduling.Student", related_name="+", on_delete=models.PROTECT)
    date = models.DateField(help_text="The lesson's local date.")
    minutes = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=24, choices=Outcome.choices, blank=True)
    paid = models.BooleanField(help_text="The school pays this outcome (its settings).")
    rate_kind = models.CharField(max_length=6, choices=PayRate.Kind.choices, blank=True)
    rate_cents = models.PositiveIntegerField(null=True, blank=True, help_text="The rate applied (per lesson or hour).")
    amount_cents = models.IntegerField()
    currency = models.CharField(max_length=3, default=default_currency)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REGULAR)

    class Meta:
        ordering = ["period", "teacher", "date", "lesson", "pk"]
        indexes = [models.Index(fields=["teacher", "period"]), models.Index(fields=["lesson", "teacher"])]
        constraints = [
            # A lesson is paid once as a lesson of its period; each later change is one adjustment per period.
            models.UniqueConstraint(fields=["lesson"], condition=Q(kind="regular"), name="pay_line_one_regular"),
            models.UniqueConstraint(fields=["period", "lesson", "teacher"], name="pay_line_one_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} pay, {self.teacher}, {self.date:%Y-%m-%d}: {self.amount}"

    @property
    def amount(self) -> str:
        return format_cents(self.amount_cents, self.currency)

    @property
    def rate(self) -> str:
        if self.rate_cents is None:
            return ""
        money = format_cents(self.rate_cents, self.currency)
        return f"{money}/h" if self.rate_kind == PayRate.Kind.HOURLY else money

    @property
    def rate_missing(self) -> bool:
        """A paid outcome without a rate in force: the owner adds one before the period closes."""
        return self.paid and self.rate_cents is None
