import datetime
import zoneinfo

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from cedarheights.validators import no_control_characters

# The lesson week's policies, in the groups the owner sees them (the admin's fieldsets, the settings API).
CANCELLATION_POLICIES = (
    "cancellation_notice_hours",
    "sick_passes_per_term",
    "makeup_credits_per_term",
    "family_credit_days",
    "school_credit_grace_days",
    "makeup_notice_hours",
    "makeup_horizon_days",
    "makeup_any_teacher",
)
FEE_POLICIES = (
    "lesson_fees_enabled",
    "no_show_fee_percent",
    "late_cancel_fee_percent",
    "first_late_cancel_waived",
    "fee_review_hours",
)
REMINDER_SETTINGS = ("reminder_time", "cancel_window_reminder")
# The admin's "Tuition, discounts and withdrawals" and "Payroll" sections of School settings.
TUITION_SETTINGS = (
    "multi_lesson_discount_percent",
    "sibling_second_discount_percent",
    "sibling_further_discount_percent",
    "registration_fee_cents",
    "late_fee_cents",
    "withdrawal_notice_days",
    "withdrawal_unused_lessons",
    "pause_lessons",
)
PAYROLL_SETTINGS = (
    "pay_period",
    "pay_attended",
    "pay_no_show",
    "pay_late_cancel",
    "pay_late_cancel_sick",
    "pay_cancelled_with_notice",
    "pay_teacher_cancelled",
    "pay_school_closed",
)
# The admin's "Privacy" section: who answers for the school's personal information, and how long it is kept.
PRIVACY_SETTINGS = (
    "privacy_officer_name",
    "privacy_officer_title",
    "privacy_officer_email",
    "retain_financial_years",
    "retain_lesson_years",
    "retain_inactive_months",
    "retain_failed_signin_days",
)


class SchoolSettings(models.Model):
    """The one row of school-wide settings the owner edits in the admin."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    name = models.CharField(max_length=200, default="Cedar Heights Music Academy", validators=[no_control_characters])
    contact_email = models.EmailField(default="office@cedarheights.test")
    time_zone = models.CharField(
        max_length=64,
        default=settings.TIME_ZONE,
        help_text="Weekly lessons are wall-clock times in this zone; daylight saving never moves them.",
    )
    minimum_age_years = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(99)])
    demo_lesson_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(15), MaxValueValidator(120)]
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=24,
        help_text="How far ahead a lesson must be booked (enrollment's lessons). Cancelling has its own notice below.",
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How far ahead families can book.",
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(60)], help_text="Free time a teacher keeps between two lessons."
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(60)],
        help_text="Offered lesson times start on this grid (15 → :00, :15, :30, :45).",
    )
    # The week of lessons: cancellations, make-up credits, lesson fees (defaults: ../shared/notes/school-policies.md).
    cancellation_notice_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(168)],
        help_text="A family cancelling at least this many hours before a lesson's start gets a make-up credit; "
        "later is a late cancellation (0–168).",
    )
    sick_passes_per_term = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(20)],
        help_text="Late cancellations for illness per enrollment per term that still earn a make-up credit.",
    )
    makeup_credits_per_term = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(20)],
        help_text="Credits a family's own cancellations earn per enrollment per term. Teacher cancellations and "
        "school closures never count; an owner's credit counts unless marked goodwill.",
    )
    family_credit_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A credit from a family's cancellation expires this many days after the missed lesson.",
    )
    school_credit_grace_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text="A credit from a teacher's cancellation or a school closure lasts to the term's end plus this "
        "many days, then becomes money on the family's account.",
    )
    makeup_notice_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MaxValueValidator(168)], help_text="How far ahead a make-up must be booked."
    )
    makeup_horizon_days = models.PositiveSmallIntegerField(
        default=45,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
        help_text="How far out a make-up may be booked.",
    )
    makeup_any_teacher = models.BooleanField(
        default=False,
        help_text="Offer make-ups with any teacher of the instrument, not only the child's own teacher.",
    )
    lesson_fees_enabled = models.BooleanField(
        default=False,
        help_text="Charge no-show and late-cancellation fees on per-lesson plans (never on flat tuition, where the "
        "forfeited credit is the penalty). A fee waits in “Pending fees” before it posts, and is never charged to "
        "a card by itself.",
    )
    no_show_fee_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MaxValueValidator(100)], help_text="Of the lesson's price."
    )
    late_cancel_fee_percent = models.PositiveSmallIntegerField(
        default=50, validators=[MaxValueValidator(100)], help_text="Of the lesson's price."
    )
    first_late_cancel_waived = models.BooleanField(
        default=True, help_text="Waive the fee of an enrollment's first late cancellation in a term."
    )
    fee_review_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(168)],
        help_text="How long a fee waits in “Pending fees”, where the owner may waive it, before it posts.",
    )
    # Calendars and reminders (issue 16).
    reminder_time = models.TimeField(
        default=datetime.time(17, 0),
        # The reminders' job runs every quarter hour: a later time could leave it no run before midnight.
        validators=[MaxValueValidator(datetime.time(23, 0))],
        help_text="Local time of the evening reminders: each family's lessons of the next day, and each teacher's "
        "next day (23:00 at the latest). Nobody gets one for a day without lessons.",
    )
    cancel_window_reminder = models.BooleanField(
        default=True,
        help_text="Remind families 6 hours before a lesson's free-cancellation window closes (the cancellation "
        "notice above).",
    )
    # Tuition: discounts apply in this order, each to what the one before left.
    multi_lesson_discount_percent = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(100)],
        help_text="Off each further weekly lesson of one child (a second instrument, a second lesson a week).",
    )
    sibling_second_discount_percent = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(100)],
        help_text="Off the second child of a family (the lower-priced enrollments get the discounts).",
    )
    sibling_further_discount_percent = models.PositiveSmallIntegerField(
        default=15, validators=[MaxValueValidator(100)], help_text="Off each child after the second."
    )
    registration_fee_cents = models.PositiveIntegerField(
        default=5000, help_text="Once per family per school year, in cents (0: no registration fee)."
    )
    late_fee_cents = models.PositiveIntegerField(
        default=0,
        help_text="Charged once per invoice after its last payment retry failed, in cents (0: no late fee). The "
        "owner can waive it.",
    )
    withdrawal_notice_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(120)],
        help_text="A withdrawal's last lesson is the last one on or before this many days after notice is given.",
    )

    class UnusedLessons(models.TextChoices):
        CREDIT = "credit", "Credit on the family's account"
        REFUND = "refund", "Refund to the card"

    withdrawal_unused_lessons = models.CharField(
        max_length=6,
        choices=UnusedLessons.choices,
        default=UnusedLessons.CREDIT,
        help_text="What lessons paid for after a withdrawal's last lesson become (the owner may choose otherwise "
        "for one withdrawal).",
    )

    class PauseLessons(models.TextChoices):
        RELEASE = "release", "Release them (the times go back to the teacher)"
        KEEP = "keep", "Keep them booked"

    pause_lessons = models.CharField(
        max_length=7,
        choices=PauseLessons.choices,
        default=PauseLessons.RELEASE,
        help_text="What a vacation pause does to the lessons inside it (the owner may choose otherwise for one pause).",
    )

    # Payroll: how often teachers are paid, and which lesson outcomes pay them.
    class PayPeriod(models.TextChoices):
        WEEKLY = "weekly", "Weekly (Monday to Sunday)"
        SEMI_MONTHLY = "semi_monthly", "Twice a month (1st–15th, 16th–end)"
        MONTHLY = "monthly", "Monthly"

    pay_period = models.CharField(max_length=12, choices=PayPeriod.choices, default=PayPeriod.SEMI_MONTHLY)
    pay_attended = models.BooleanField(default=True, help_text="Pay the teacher for an attended lesson.")
    pay_no_show = models.BooleanField(default=True, help_text="Pay the teacher when the student did not come.")
    pay_late_cancel = models.BooleanField(default=True, help_text="Pay the teacher for a late cancellation.")
    pay_late_cancel_sick = models.BooleanField(
        default=True, help_text="Pay the teacher for a late cancellation on a sick pass."
    )
    pay_cancelled_with_notice = models.BooleanField(
        default=False, help_text="Pay the teacher for a lesson the family cancelled with notice."
    )
    pay_teacher_cancelled = models.BooleanField(
        default=False,
        help_text="Pay a teacher for a lesson they cancelled (a substitute who takes it is paid as its teacher).",
    )
    pay_school_closed = models.BooleanField(default=False, help_text="Pay the teacher for a lesson the school closed.")

    # Privacy (PIPEDA): the person who answers for the school's handling of personal information, and how long
    # each kind of record is kept before the retention job anonymises it.
    privacy_officer_name = models.CharField(
        max_length=200,
        blank=True,
        validators=[no_control_characters],
        help_text="Shown in every page's footer, the privacy notice and every email. Blank: the school's owner.",
    )
    privacy_officer_title = models.CharField(
        max_length=100, default="Privacy officer", validators=[no_control_characters]
    )
    privacy_officer_email = models.EmailField(blank=True, help_text="Blank: the school's contact email.")
    retain_financial_years = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(6), MaxValueValidator(20)],
        help_text="Ledger, payments and receipts: years after the end of the year they belong to (tax law asks "
        "for six).",
    )
    retain_lesson_years = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Lesson records and notes: years after a family's last lesson.",
    )
    retain_inactive_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Families who never had a regular lesson (waitlisted, or a demo lesson only): months after "
        "their last activity.",
    )
    retain_failed_signin_days = models.PositiveSmallIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Records of failed sign-ins: days.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "school settings"
        verbose_name_plural = "school settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="school_settings_single_row"),
            models.CheckConstraint(condition=models.Q(slot_step_minutes__gte=5), name="school_settings_step_min"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": f"“{self.time_zone}” is not a known time zone (e.g. America/Toronto)."})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class PrivacyNotice(models.Model):
    """One version of the privacy notice families read and consent to. A draft is edited; once published a version
    is never changed nor deleted (PostgreSQL refuses it): a change is a new draft, with the next version number."""

    version = models.PositiveIntegerField(unique=True, editable=False)
    title = models.CharField(max_length=200, default="How Cedar Heights handles your family's information")
    body = models.TextField(
        help_text="Plain text; a blank line starts a paragraph. The privacy officer's contact and the right to "
        "complain to the Privacy Commissioner are added below it on the page."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(condition=models.Q(version__gte=1), name="privacy_notice_version_from_one"),
            # One draft at a time: the owner edits it until it is published.
            # (An index of a constant over the drafts: SQLite has no NULLS NOT DISTINCT, so the embedded default
            # holds the rule too.)
            models.UniqueConstraint(
                models.Value(True), condition=models.Q(published_at__isnull=True), name="privacy_notice_one_draft"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="privacy_notice_published_frozen",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__published_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        state = "" if self.published_at else " (draft)"
        return f"Privacy notice v{self.version}{state}"

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.body.replace("\r\n", "\n").split("\n\n") if part.strip()]


class EmailLog(models.Model):
    """Every email the school sends, whatever happened to it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # A send was begun and never recorded (the worker died, or recording failed): it may have gone out.
        UNCONFIRMED = "unconfirmed", "Unconfirmed: may have been sent"
        WITHDRAWN = "withdrawn", "Not sent: its consent was withdrawn"

    recipient = models.EmailField()
    template = models.CharField(max_length=100)
    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    dedupe_key = models.CharField(
        max_length=200,
        unique=True,
        null=True,
        blank=True,
        help_text="What this email is about, once: the same email is never queued twice for it.",
    )
    related_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    related_id = models.CharField(max_length=64, blank=True)
    related_object = GenericForeignKey("related_type", "related_id")
    # What is sent, as rendered when the email was queued: the task reads it from here, and a resend copies it.
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True, help_text="[filename, content, MIME type] each.")
    resend_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        related_name="resent_as",
        on_delete=models.PROTECT,
        help_text="The email the owner resent as this one; one resend per email, so two clicks send once.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["related_type", "related_id"])]
        permissions = [("resend_emaillog", "Can resend an unconfirmed or failed email")]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient} ({self.status})"


class AuditEvent(models.Model):
    """Who read or changed a family's or a child's record, what changed, and when."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        VIEW = "view", "Viewed"
        EXPORT = "export", "Exported"

    # PROTECT: the table is append-only, so a person whose reads are on record is anonymised, never deleted.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)
    # Whose record it was, as plain ids (the core points to no app): a family's export and the admin's filter by
    # child read them. A list page read writes one event with the ids it showed in `changes`.
    family_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    student_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True, help_text="The request's X-Request-ID.")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        triggers = [
            pgtrigger.Protect(name="audit_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class PipelineRun(models.Model):
    """One run of a pipeline (enrollment, billing), written by `cedarheights.pipeline.run_pipeline`."""

    Status = Outcome

    pipeline = models.CharField(max_length=50, db_index=True)
    reference = models.CharField(max_length=200, blank=True, help_text="What the run was about, e.g. enrollment:42.")
    status = models.CharField(max_length=10, choices=Status.choices)
    failed_step = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.FloatField()
    note = models.TextField(
        blank=True,
        help_text="Anything unusual about this record, e.g. written late because the database was unavailable.",
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.pipeline} {self.reference} {self.status}"


class StepRun(models.Model):
    Status = Outcome

    run = models.ForeignKey(PipelineRun, related_name="steps", on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices)
    duration_ms = models.FloatField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="step_run_position_unique")]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class WorkerHeartbeat(models.Model):
    """When the background cluster last ran a task; `/health/ready` reads it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="worker_heartbeat_single_row")]

    def __str__(self) -> str:
        return f"worker seen at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class IdempotencyRecord(models.Model):
    """The first response to a creating POST sent with an `Idempotency-Key`, replayed for the same key."""

    scope = models.CharField(max_length=50, help_text="Whose key it is: user:<id>, or anonymous.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique_per_scope")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class TaskOutbox(models.Model):
    """A task for the worker, written in the transaction that needs it, when the broker (Redis) cannot join that
    transaction: relayed to the broker after the commit, or by the scheduled relay if a crash came first."""

    func = models.CharField(max_length=200, help_text="The task's dotted path, e.g. billing.tasks.billing_pipeline.")
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    relayed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it was last handed to the broker; the row goes once the task has run, and is handed over "
        "again if it has not run within django-q2's retry time (its worker was lost).",
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = "task waiting for the broker"
        verbose_name_plural = "tasks waiting for the broker"

    def __str__(self) -> str:
        return f"{self.func}{tuple(self.args)}"
