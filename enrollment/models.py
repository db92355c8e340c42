from django.conf import settings
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Coalesce

from cedarheights.money import default_currency, format_cents
from cedarheights.validators import no_control_characters
from cedarheights.weekly import WeeklyWindow
from scheduling.constraints import PostgresExclusionConstraint


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

    class Basis(models.TextChoices):
        FLAT = "flat", "Flat tuition"
        PER_LESSON = "per_lesson", "Per lesson"

    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.MONTH)
    basis = models.CharField(
        max_length=10,
        choices=Basis.choices,
        default=Basis.FLAT,
        help_text="Flat tuition charges the interval's price whatever happens; per lesson charges each lesson "
        "taught (or missed without notice), and may carry no-show and late-cancellation fees.",
    )
    price_cents = models.PositiveIntegerField(
        help_text="Price per interval (per lesson on per-lesson plans), in cents."
    )
    lesson_rate_cents = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Flat monthly plans: the price of one lesson, from which each term's monthly fee is computed "
        "(this × the lessons planned in the term ÷ its billing months, closures and five-week months averaged "
        "in). Empty: the price above is a fixed monthly fee.",
    )
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
    activated_at = models.DateTimeField(
        null=True, blank=True, help_text="When it became active (a waitlisted enrollment: when a teacher was found)."
    )
    withdrawal_given_on = models.DateField(null=True, blank=True, help_text="When the family gave notice.")
    ends_on = models.DateField(
        null=True,
        blank=True,
        help_text="The last lesson's date of a withdrawal: later lessons and the weekly time are released then.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The admin's list: newest first, its tie-breaker the id.
            models.Index(fields=["created_at", "id"], name="enrollment_created_order"),
        ]
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


class MakeupCredit(models.Model):
    """The right to one make-up lesson of an instrument and length, held by an enrollment. What it is worth now is
    its ledger (`MakeupCreditEntry`), never a counter: balance = issued − redeemed + returned − expired − revoked,
    0 or 1, each entry carrying the balance after it (checked by the database)."""

    class Origin(models.TextChoices):
        NOTICE = "notice", "Cancelled with notice"
        SICK_PASS = "sick_pass", "Sick pass"
        TEACHER = "teacher", "Teacher cancelled"
        SCHOOL = "school", "School closed"
        OWNER = "owner", "Given by the school"
        GOODWILL = "goodwill", "Goodwill (not counted)"

    enrollment = models.ForeignKey(Enrollment, related_name="makeup_credits", on_delete=models.PROTECT)
    instrument = models.ForeignKey("scheduling.Instrument", related_name="+", on_delete=models.PROTECT)
    lesson_minutes = models.PositiveSmallIntegerField()
    origin = models.CharField(max_length=10, choices=Origin.choices)
    counts_toward_cap = models.BooleanField(
        help_text="A family's cancellation, or the owner's credit not marked goodwill."
    )
    missed_lesson = models.OneToOneField(
        "scheduling.Lesson",
        null=True,
        blank=True,
        related_name="makeup_credit",
        on_delete=models.PROTECT,
        help_text="The lesson it makes up for; empty for a credit the owner gave.",
    )
    term = models.ForeignKey("scheduling.Term", null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    expires_on = models.DateField(help_text="The last day a make-up can be booked with it (extended in its ledger).")
    held_until_paid = models.BooleanField(
        default=False, help_text="The missed lesson's tuition is unpaid: the credit can be used once it is paid."
    )
    reason = models.CharField(max_length=200, blank=True, validators=[no_control_characters])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_on", "pk"]
        indexes = [
            models.Index(fields=["enrollment", "term"]),
            # The list's order (soonest expiry, then id) and its `ordering=created_at`.
            models.Index(fields=["expires_on", "id"], name="makeup_credit_expiry_order"),
            models.Index(fields=["created_at"], name="makeup_credit_created_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lesson_minutes__gte=15) & Q(lesson_minutes__lte=240), name="makeup_credit_minutes_valid"
            ),
            models.CheckConstraint(
                condition=Q(origin__in=["owner", "goodwill"]) | Q(missed_lesson__isnull=False),
                name="makeup_credit_lesson_unless_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lesson_minutes}-minute {self.instrument} make-up for {self.enrollment.student}"


class MakeupCreditEntry(models.Model):
    """One line of a credit's ledger. Never updated: the next line follows it (`sequence`)."""

    class Kind(models.TextChoices):
        ISSUED = "issued", "Issued"
        REDEEMED = "redeemed", "Redeemed"
        RETURNED = "returned", "Returned"
        EXPIRED = "expired", "Expired"
        EXTENDED = "extended", "Extended"
        REVOKED = "revoked", "Revoked"

    credit = models.ForeignKey(MakeupCredit, related_name="entries", on_delete=models.PROTECT)
    sequence = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    change = models.SmallIntegerField(help_text="+1 issued or returned, −1 redeemed, expired or revoked, 0 extended.")
    balance_after = models.SmallIntegerField()
    lesson = models.ForeignKey(
        "scheduling.Lesson",
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        help_text="The make-up lesson it was redeemed for or returned from.",
    )
    expires_on = models.DateField(null=True, blank=True, help_text="The new expiry date of an extension.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=200, blank=True, validators=[no_control_characters])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["credit", "sequence"]
        verbose_name_plural = "make-up credit entries"
        constraints = [
            models.UniqueConstraint(fields=["credit", "sequence"], name="makeup_credit_entry_sequence_unique"),
            models.CheckConstraint(
                condition=(Q(kind__in=["issued", "returned"]) & Q(change=1))
                | (Q(kind__in=["redeemed", "expired", "revoked"]) & Q(change=-1))
                | (Q(kind="extended") & Q(change=0) & Q(expires_on__isnull=False)),
                name="makeup_credit_entry_change_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0) & Q(balance_after__lte=1), name="makeup_credit_balance_zero_or_one"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["redeemed", "returned"]) | Q(lesson__isnull=False),
                name="makeup_credit_entry_redemption_names_lesson",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.balance_after} left)"


# --- Lifecycle: vacation pauses and mid-cycle changes (enrollment/lifecycle/) ---


class PauseRange(Func):
    """The days a pause holds, [starts_on, its end): the day lessons resume is not paused."""

    function = "DATERANGE"
    template = "%(function)s(%(expressions)s, '[)')"
    output_field = DateRangeField()


class EnrollmentPause(models.Model):
    """A vacation: no lessons and no tuition from `starts_on` until `resumes_on` (Stripe's `pause_collection`). Not
    the PAUSED status, which is tuition left unpaid (`enrollment_pause_unpaid`): an enrollment on vacation stays
    active."""

    class Lessons(models.TextChoices):
        RELEASE = "release", "Released (the times go back to the teacher)"
        KEEP = "keep", "Kept (the times stay booked)"

    enrollment = models.ForeignKey(Enrollment, related_name="pauses", on_delete=models.PROTECT)
    starts_on = models.DateField()
    resumes_on = models.DateField(help_text="The first day lessons and tuition start again.")
    lessons = models.CharField(max_length=7, choices=Lessons.choices)
    lessons_released = models.PositiveSmallIntegerField(default=0)
    began_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its first day came and billing was told (Stripe's pause has no start date: it is set then).",
    )
    ended_on = models.DateField(
        null=True, blank=True, help_text="When it ended: its resume date, or earlier when the school ended it early."
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(resumes_on__gt=F("starts_on")), name="enrollment_pause_resumes_after"),
            # An early end shortens the pause: a later pause may then begin on its new end.
            PostgresExclusionConstraint(
                name="enrollment_pause_no_overlap",
                expressions=[
                    (PauseRange("starts_on", Coalesce("ended_on", "resumes_on")), RangeOperators.OVERLAPS),
                    ("enrollment", RangeOperators.EQUAL),
                ],
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=F("starts_on")),
                violation_error_message="This enrollment is already on a vacation pause then.",
            ),
        ]

    def __str__(self) -> str:
        return f"Vacation of {self.enrollment.student}, {self.starts_on:%-d %b} to {self.resumes_on:%-d %b %Y}"

    @property
    def live(self) -> bool:
        return self.ended_at is None


class EnrollmentChange(models.Model):
    """A change of an enrollment's weekly lesson from a date (its time, teacher, length or plan), as it was made:
    what was before and after, and the key that makes a replay return it instead of changing anything again."""

    enrollment = models.ForeignKey(Enrollment, related_name="changes", on_delete=models.PROTECT)
    effective_on = models.DateField()
    before = models.JSONField(help_text="weekday, start_time, teacher_id, lesson_minutes, tuition_plan_id")
    after = models.JSONField()
    lessons_released = models.PositiveSmallIntegerField(default=0)
    lessons_booked = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.UUIDField(unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Change of {self.enrollment.student}'s weekly lesson from {self.effective_on:%-d %b %Y}"


class ChildConsent(models.Model):
    """A guardian's consent for one child (PIPEDA: a guardian consents for a young child), kept as given: the notice
    version and the exact words shown, who gave it, when, and when it was withdrawn. Giving it again after a
    withdrawal is a new row, so the history stays."""

    class Purpose(models.TextChoices):
        LESSONS = "lessons", "Lessons and their records, as the privacy notice says"
        PHOTOS = "photos", "Photos and recordings of lessons"

    student = models.ForeignKey("scheduling.Student", related_name="consents", on_delete=models.CASCADE)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    notice = models.ForeignKey("cedarheights.PrivacyNotice", related_name="+", on_delete=models.PROTECT)
    text_shown = models.TextField(help_text="The words the guardian agreed to, as they were shown.")
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL)
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["student", "purpose", "-given_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=F("given_at")),
                name="child_consent_withdrawn_after_given",
            ),
            models.CheckConstraint(condition=~Q(text_shown=""), name="child_consent_text_shown"),
            models.UniqueConstraint(
                fields=["student", "purpose"],
                condition=Q(withdrawn_at__isnull=True),
                name="child_consent_one_in_force",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student}: {self.get_purpose_display()} (notice v{self.notice.version})"
