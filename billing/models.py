from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cedarheights.money import default_currency, format_cents


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    class Purpose(models.TextChoices):
        TUITION = "tuition", "Tuition"
        LESSON = "lesson", "Single lesson"
        OTHER = "other", "Other"

    family = models.ForeignKey("accounts.Family", related_name="payments", on_delete=models.PROTECT)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.TUITION)
    lesson = models.ForeignKey(
        "scheduling.Lesson", null=True, blank=True, related_name="payments", on_delete=models.PROTECT
    )
    amount_cents = models.PositiveIntegerField()
    amount_refunded_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default=default_currency)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_invoice_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    djstripe_invoice = models.ForeignKey(
        "djstripe.Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    djstripe_payment_intent = models.ForeignKey(
        "djstripe.PaymentIntent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"]), models.Index(fields=["family", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded_cents__lte=F("amount_cents")), name="payment_refund_not_above_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{format_cents(self.amount_cents, self.currency)} from {self.family} ({self.get_status_display()})"


class LedgerEntry(models.Model):
    """One line of a family's account. Balance owed = charges − payments + refunds − credits + adjustments."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        CREDIT = "credit", "Credit"
        ADJUSTMENT = "adjustment", "Adjustment"

    family = models.ForeignKey("accounts.Family", related_name="ledger_entries", on_delete=models.PROTECT)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount_cents = models.BigIntegerField(help_text="Positive, except an adjustment, which may be either sign.")
    currency = models.CharField(max_length=3, default=default_currency)
    description = models.CharField(max_length=255)
    reference = models.CharField(
        max_length=200, blank=True, help_text="What caused the entry (a Stripe id, a receipt); unique per kind."
    )
    payment = models.ForeignKey(Payment, null=True, blank=True, related_name="ledger_entries", on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["family", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="adjustment", amount_cents__lt=0) | Q(amount_cents__gt=0),
                name="ledger_amount_sign_matches_kind",
            ),
            # A webhook or task replayed cannot write the same entry twice.
            models.UniqueConstraint(
                fields=["kind", "reference"], condition=~Q(reference=""), name="ledger_reference_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_cents(self.amount_cents, self.currency)}: {self.description}"


class ReceiptSequence(models.Model):
    """The last receipt number given in a year; locked while the next is taken, so numbers have no gaps."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Receipt(models.Model):
    payment = models.OneToOneField(Payment, related_name="receipt", on_delete=models.PROTECT)
    family = models.ForeignKey("accounts.Family", related_name="receipts", on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default=default_currency)
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["-year", "-sequence"]
        constraints = [models.UniqueConstraint(fields=["year", "sequence"], name="receipt_number_unique")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.year}-{self.sequence:05d}"


class BillingProfile(models.Model):
    """A family's link to Stripe. The Stripe ids are stored the moment Stripe answers."""

    family = models.OneToOneField("accounts.Family", related_name="billing", on_delete=models.PROTECT)
    stripe_customer_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    djstripe_customer = models.ForeignKey(
        "djstripe.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_payment_method_id = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Billing of {self.family}"


class TuitionSubscription(models.Model):
    """A family's recurring tuition for one enrollment, mirrored from Stripe's subscription."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        TRIALING = "trialing", "Starts with the first lesson"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due (grace period)"
        UNPAID = "unpaid", "Unpaid"
        CANCELED = "canceled", "Canceled"

    family = models.ForeignKey("accounts.Family", related_name="subscriptions", on_delete=models.PROTECT)
    enrollment = models.OneToOneField(
        "enrollment.Enrollment", null=True, blank=True, related_name="subscription", on_delete=models.PROTECT
    )
    tuition_plan = models.ForeignKey("enrollment.TuitionPlan", related_name="subscriptions", on_delete=models.PROTECT)
    starts_at = models.DateTimeField(
        null=True, blank=True, help_text="The first regular lesson: billing starts then, its first period prorated."
    )
    payment_method_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The card given at enrollment (a Stripe payment method id), kept for the billing pipeline: "
        "billing that has to be started again still has it.",
    )
    billing_restarted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the sweeper last started billing that never reached the worker (see Pipeline runs, "
        "billing_sweep).",
    )
    stripe_subscription_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    djstripe_subscription = models.ForeignKey(
        "djstripe.Subscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INCOMPLETE)
    current_period_end = models.DateTimeField(null=True, blank=True)
    stripe_state_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When Stripe's newest state we applied was created: older events never overwrite it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.tuition_plan} for {self.family} ({self.get_status_display()})"


class PaymentFailure(models.Model):
    """A failed charge and its recovery: Stripe's reason, the retry schedule, who was told."""

    class Status(models.TextChoices):
        OPEN = "open", "Open (retrying)"
        RECOVERED = "recovered", "Recovered"
        GAVE_UP = "gave_up", "Gave up (enrollment paused)"

    family = models.ForeignKey("accounts.Family", related_name="payment_failures", on_delete=models.PROTECT)
    payment = models.OneToOneField(Payment, related_name="failure", on_delete=models.PROTECT)
    subscription = models.ForeignKey(
        TuitionSubscription, null=True, blank=True, related_name="failures", on_delete=models.PROTECT
    )
    reason = models.CharField(max_length=255)
    decline_code = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    attempts = models.PositiveSmallIntegerField(default=1)
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    owner_notified_at = models.DateTimeField(null=True, blank=True, help_text="When the daily digest mentioned it.")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.family}: {self.reason} ({self.get_status_display()})"


class StripeEvent(models.Model):
    """A webhook delivery from Stripe, stored before it is answered; its id makes a replay a no-op."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (type not handled)"
        FAILED = "failed", "Failed (will retry)"

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    created = models.DateTimeField(help_text="When Stripe created the event: orders events of one object.")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class LessonFee(models.Model):
    """A no-show or late-cancellation fee on a per-lesson plan. It waits in the owner's "Pending fees" until
    `posts_at`, when it becomes a ledger charge unless waived; it is never charged to a card by itself."""

    class Kind(models.TextChoices):
        NO_SHOW = "no_show", "No-show fee"
        LATE_CANCEL = "late_cancel", "Late-cancellation fee"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        POSTED = "posted", "Posted"
        WAIVED = "waived", "Waived"
        REVERSED = "reversed", "Reversed (outcome changed)"

    lesson = models.ForeignKey("scheduling.Lesson", related_name="fees", on_delete=models.PROTECT)
    family = models.ForeignKey("accounts.Family", related_name="lesson_fees", on_delete=models.PROTECT)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default=default_currency)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    posts_at = models.DateTimeField(help_text="When it posts to the family's ledger unless waived.")
    ledger_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, related_name="lesson_fee", on_delete=models.PROTECT
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why it was waived or reversed.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["posts_at", "pk"]
        indexes = [models.Index(fields=["status", "posts_at"])]
        constraints = [
            # One live fee per lesson: an outcome set twice, or changed and back, never charges twice.
            models.UniqueConstraint(
                fields=["lesson"], condition=Q(status__in=["pending", "posted"]), name="lesson_fee_one_live"
            ),
            models.CheckConstraint(
                condition=Q(status="posted", ledger_entry__isnull=False) | ~Q(status="posted"),
                name="lesson_fee_posted_has_entry",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {format_cents(self.amount_cents, self.currency)} ({self.get_status_display()})"
        )


# --- Payroll (issue 17 §2): its models live in billing/payroll/models.py; imported here so they are billing's. ---
from billing.payroll.models import PayLine, PayPeriod, PayRate  # noqa: E402, F401
