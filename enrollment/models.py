from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from cedarheights.money import default_currency, format_cents
from cedarheights.validators import no_control_characters
from cedarheights.weekly import WeeklyWindow


class TuitionPlan(models.Model):
    class Interval(models.TextChoices):
        MONTH = "month", "Monthly"
        WEEK = "week", "Weekly"

    name = models.CharField(max_length=100, unique=True, validators=[no_control_characters])
    instrument = models.ForeignKey(
        "scheduling.Instrument",
        null=True,
        blank=True,
        related_name="tuition_plans",
        on_delete=models.PROTECT,
        help_text="Leave empty for a plan that fits every instrument.",
    )
    lesson_minutes = models.PositiveSmallIntegerField(default=30)
    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.MONTH)
    price_cents = models.PositiveIntegerField(help_text="Price per interval, in cents.")
    currency = models.CharField(max_length=3, default=default_currency)
    description = models.CharField(max_length=255, blank=True, validators=[no_control_characters])
    active = models.BooleanField(default=True)
    stripe_product_id = models.CharField(max_length=255, blank=True)
    stripe_price_id = models.CharField(max_length=255, blank=True, help_text="Set by billing_sync_catalog.")
    djstripe_price = models.ForeignKey(
        "djstripe.Price",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Stripe's price, as dj-stripe mirrors it.",
    )

    class Meta:
        ordering = ["instrument__name", "lesson_minutes", "interval"]
        constraints = [
            models.CheckConstraint(condition=Q(lesson_minutes__in=[30, 45, 60]), name="tuition_plan_minutes_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def price_display(self) -> str:
        return format_cents(self.price_cents, self.currency)

    def clean(self) -> None:
        self.currency = (self.currency or "").lower()
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValidationError({"currency": "Use a three-letter ISO currency code, e.g. cad."})


class Enrollment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        WAITLISTED = "waitlisted", "Waitlisted"
        PAUSED = "paused", "Paused (payment)"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"

    class Source(models.TextChoices):
        WEB = "web", "Online form"
        ADMIN = "admin", "Admin"
        API = "api", "API"

    class LessonMinutes(models.IntegerChoices):
        THIRTY = 30, "30 minutes"
        FORTY_FIVE = 45, "45 minutes"
        SIXTY = 60, "60 minutes"

    student = models.ForeignKey("scheduling.Student", related_name="enrollments", on_delete=models.PROTECT)
    instrument = models.ForeignKey("scheduling.Instrument", related_name="enrollments", on_delete=models.PROTECT)
    lesson_minutes = models.PositiveSmallIntegerField(choices=LessonMinutes.choices, default=LessonMinutes.THIRTY)
    tuition_plan = models.ForeignKey(
        TuitionPlan, null=True, blank=True, related_name="enrollments", on_delete=models.PROTECT
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.UUIDField(unique=True, help_text="A replayed submission returns this same enrollment.")
    submission_key = models.UUIDField(
        null=True, blank=True, db_index=True, help_text="The form submission it came from (siblings share it)."
    )
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.WEB)
    demo_lesson = models.OneToOneField(
        "scheduling.Lesson", null=True, blank=True, related_name="demo_for_enrollment", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(lesson_minutes__in=[30, 45, 60]), name="enrollment_lesson_minutes_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} — {self.instrument} ({self.get_status_display()})"


class PreferredWindow(WeeklyWindow):
    """A weekly window in which the family can come."""

    enrollment = models.ForeignKey(Enrollment, related_name="preferred_windows", on_delete=models.CASCADE)

    class Meta:
        ordering = ["enrollment", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="preferred_window_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="preferred_window_weekday_valid"),
        ]
