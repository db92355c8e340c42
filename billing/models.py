from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from cedarheights.money import default_currency, format_cents
from cedarheights.validators import no_control_characters


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
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["family", "created_at"]),
            # The admin's list: newest first, its tie-breaker the id.
            models.Index(fields=["created_at", "id"], name="payment_created_order"),
        ]
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
    # Tuition: what Stripe's item holds (price and coupons, as our lines say them), and how often it was changed.
    item_terms = models.JSONField(
        default=dict, blank=True, help_text="The Stripe price and coupons its item was last set to."
    )
    item_syncs = models.PositiveIntegerField(default=0, help_text="How many times its item was brought up to date.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["created_at", "id"], name="subscription_created_order")]  # the list's order

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
        indexes = [
            models.Index(fields=["status", "posts_at"]),
            # The list's order and its `ordering=created_at`.
            models.Index(fields=["posts_at", "id"], name="lesson_fee_posts_order"),
            models.Index(fields=["created_at"], name="lesson_fee_created_order"),
        ]
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


# --- Fees: the registration fee and the late fee (services in billing/fees.py) ---


class FamilyFee(models.Model):
    """A fee charged to a family's account, not a lesson's: the school year's registration fee, or a late fee after
    an invoice's last payment retry failed. Written to the ledger when made and sent to Stripe as a pending invoice
    item (`FeeInvoiceItem`), so it joins the family's next invoice. The database keeps one per family and school
    year, and one per failed payment: a replay or a race claims the same row."""

    class Kind(models.TextChoices):
        REGISTRATION = "registration", "Registration fee"
        LATE = "late", "Late fee"

    class Status(models.TextChoices):
        CHARGED = "charged", "Charged"
        WAIVED = "waived", "Waived"

    family = models.ForeignKey("accounts.Family", related_name="fees", on_delete=models.PROTECT)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    academic_year = models.ForeignKey(
        "scheduling.AcademicYear", null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        related_name="late_fees",
        on_delete=models.PROTECT,
        help_text="The invoice's payment whose last retry failed (a late fee).",
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default=default_currency)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CHARGED)
    ledger_entry = models.OneToOneField(LedgerEntry, related_name="family_fee", on_delete=models.PROTECT)
    note = models.CharField(max_length=200, blank=True, help_text="Why it was waived.")
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    waived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_at", "id"], name="family_fee_created_order")]  # the list's order
        constraints = [
            models.UniqueConstraint(
                fields=["family", "academic_year"],
                condition=Q(kind="registration"),
                name="family_fee_registration_once",
            ),
            models.UniqueConstraint(fields=["payment"], condition=Q(kind="late"), name="family_fee_late_once"),
            models.CheckConstraint(
                condition=Q(kind="registration", academic_year__isnull=False, payment__isnull=True)
                | Q(kind="late", payment__isnull=False, academic_year__isnull=True),
                name="family_fee_kind_has_its_reason",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="family_fee_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.label} {format_cents(self.amount_cents, self.currency)} ({self.get_status_display()})"

    @property
    def label(self) -> str:
        """What the family reads: "Registration fee 2026–2027", "Late fee"."""
        if self.kind == self.Kind.REGISTRATION:
            return f"Registration fee {self.academic_year}"
        return self.get_kind_display()


class FeeInvoiceItem(models.Model):
    """One line a fee puts on the family's next Stripe invoice: the fee itself, or the negative line that takes it
    back when it is waived. Made with the fee (or its waiver) and sent to Stripe after commit; `stripe_invoice_id`
    is the invoice it joined, known when that invoice's payment is recorded (its ledger charge then leaves out
    what these lines already charged)."""

    class Kind(models.TextChoices):
        FEE = "fee", "Fee"
        WAIVER = "waiver", "Waiver"

    fee = models.ForeignKey(FamilyFee, related_name="invoice_items", on_delete=models.PROTECT)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    amount_cents = models.IntegerField(help_text="Positive for the fee, negative for its waiver.")
    stripe_invoice_item_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    stripe_invoice_id = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["fee", "kind"], name="fee_invoice_item_once_per_kind"),
            models.CheckConstraint(
                condition=Q(kind="fee", amount_cents__gt=0) | Q(kind="waiver", amount_cents__lt=0),
                name="fee_invoice_item_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} line of {self.fee}"


# --- Tuition: discounts, promotion codes, the month's charges, Stripe prices (billing/tuition/) ---


class FamilyDiscount(models.Model):
    """The owner's own discount for a family (a staff member's children, a hardship): a percent off each of the
    family's enrollments, after the multi-lesson and sibling discounts (billing.tuition)."""

    class Kind(models.TextChoices):
        FAMILY = "family", "Family discount"
        STAFF = "staff", "Staff discount"

    family = models.OneToOneField("accounts.Family", related_name="tuition_discount", on_delete=models.CASCADE)
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.FAMILY)
    percent = models.PositiveSmallIntegerField(help_text="1 to 100: percent off what the earlier discounts left.")
    note = models.CharField(max_length=200, blank=True, validators=[no_control_characters])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=1) & Q(percent__lte=100), name="family_discount_percent_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.percent} % for {self.family}"

    def clean(self) -> None:
        if self.percent is not None and not 1 <= self.percent <= 100:
            raise ValidationError({"percent": "Between 1 and 100."})


class PromotionCode(models.Model):
    """A code the owner hands out: a percent or an amount off, for one month, some months or for good; the last
    discount of a month, after the family's own (billing.tuition). Sent to Stripe as a coupon of the same terms."""

    class Duration(models.TextChoices):
        ONCE = "once", "One month"
        REPEATING = "repeating", "Several months"
        FOREVER = "forever", "Every month"

    code = models.CharField(
        max_length=40, unique=True, validators=[RegexValidator(r"^[A-Z0-9-]+$", "Capital letters, digits and -.")]
    )
    percent_off = models.PositiveSmallIntegerField(null=True, blank=True)
    amount_off_cents = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default=default_currency)
    duration = models.CharField(max_length=9, choices=Duration.choices, default=Duration.ONCE)
    duration_months = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Several months: how many.")
    valid_until = models.DateField(null=True, blank=True, help_text="The last day it can be applied.")
    max_redemptions = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(percent_off__isnull=False) & Q(amount_off_cents__isnull=True))
                | (Q(percent_off__isnull=True) & Q(amount_off_cents__isnull=False)),
                name="promotion_code_percent_or_amount",
            ),
            models.CheckConstraint(
                condition=Q(percent_off__isnull=True) | (Q(percent_off__gte=1) & Q(percent_off__lte=100)),
                name="promotion_code_percent_valid",
            ),
            models.CheckConstraint(
                condition=Q(amount_off_cents__isnull=True) | Q(amount_off_cents__gte=1),
                name="promotion_code_amount_positive",
            ),
            models.CheckConstraint(
                condition=~Q(duration="repeating") | Q(duration_months__gte=1),
                name="promotion_code_repeating_has_months",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        errors = {}
        if (self.percent_off is None) == (self.amount_off_cents is None):
            errors["percent_off"] = "Give a percent off or an amount off (one of the two)."
        elif self.percent_off is not None and not 1 <= self.percent_off <= 100:
            errors["percent_off"] = "Between 1 and 100."
        if self.duration == self.Duration.REPEATING and not self.duration_months:
            errors["duration_months"] = "Say for how many months."
        self.currency = (self.currency or "").lower()
        if len(self.currency) != 3 or not self.currency.isalpha():
            errors["currency"] = "Use a three-letter ISO currency code, e.g. cad."
        if errors:
            raise ValidationError(errors)

    @property
    def terms(self) -> str:
        off = f"{self.percent_off} %" if self.percent_off else format_cents(self.amount_off_cents, self.currency)
        spans = {"once": "for one month", "forever": "every month"}
        span = spans.get(self.duration, f"for {self.duration_months} months")
        return f"{off} off {span}"


class PromotionRedemption(models.Model):
    """A promotion code applied to a family from a month on (by the owner, the API or the parent): to each of the
    family's enrollments (a percent) or to its highest-priced one (an amount), or to the one named."""

    code = models.ForeignKey(PromotionCode, related_name="redemptions", on_delete=models.PROTECT)
    family = models.ForeignKey("accounts.Family", related_name="promotion_redemptions", on_delete=models.CASCADE)
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", null=True, blank=True, related_name="+", on_delete=models.CASCADE
    )
    first_month = models.DateField(help_text="The first day of the first month it takes money off.")
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["code", "family"], name="promotion_redemption_once_per_family"),
            models.CheckConstraint(condition=Q(first_month__day=1), name="promotion_redemption_month_first"),
        ]

    def __str__(self) -> str:
        return f"{self.code} for {self.family} from {self.first_month:%B %Y}"


class TuitionCharge(models.Model):
    """Money we added to a Stripe invoice for one enrollment and month, beside the subscription's own line: a
    first partial month by its lessons, a per-lesson month's lessons, a change's adjustment. One row per
    enrollment, month and kind (and change), written before Stripe is asked, so a replay adds nothing twice."""

    class Kind(models.TextChoices):
        FIRST_MONTH = "first_month", "First month (lessons left in it)"
        PER_LESSON = "per_lesson_adjust", "Lessons of the month (per-lesson plan)"
        CHANGE = "change_adjust", "Change of lessons"

    enrollment = models.ForeignKey("enrollment.Enrollment", related_name="tuition_charges", on_delete=models.PROTECT)
    family = models.ForeignKey("accounts.Family", related_name="tuition_charges", on_delete=models.PROTECT)
    month = models.DateField(help_text="The first day of the month it pays for.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    change_key = models.CharField(max_length=100, blank=True, help_text="A change's adjustment: which change.")
    lessons = models.IntegerField(default=0)
    base_cents = models.BigIntegerField(help_text="Before discounts (negative: money given back).")
    amount_cents = models.BigIntegerField(help_text="After the discounts, as Stripe's invoice line says.")
    currency = models.CharField(max_length=3, default=default_currency)
    coupons = models.JSONField(default=list, blank=True, help_text="The Stripe coupons on the line, in order.")
    description = models.CharField(max_length=255)
    stripe_invoice_id = models.CharField(max_length=255, blank=True)
    stripe_invoice_item_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["month", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "month", "kind", "change_key"], name="tuition_charge_once_per_month"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="tuition_charge_month_first"),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {format_cents(self.amount_cents, self.currency)}"


class TuitionPrice(models.Model):
    """A Stripe price of one monthly amount of a plan (a term-priced plan's fee changes with the term; a per-lesson
    plan's subscription line is 0, its lessons being added each month): made once per plan and amount."""

    tuition_plan = models.ForeignKey("enrollment.TuitionPlan", related_name="stripe_prices", on_delete=models.CASCADE)
    amount_cents = models.PositiveIntegerField()
    stripe_price_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tuition_plan", "amount_cents"], name="tuition_price_once_per_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.tuition_plan}: {format_cents(self.amount_cents, self.tuition_plan.currency)} a month"


# --- Lifecycle: what a withdrawal did at Stripe (billing/services/lifecycle.py) ---


class WithdrawalSettlement(models.Model):
    """How a withdrawal's tuition ends: the subscription stops at the end of the last lesson's month (`cancel_at`),
    and the lessons of that month after the last one are left out of a month not yet invoiced (its renewal invoice
    is brought to the month's bill, which counts lessons up to `ends_on`: billing/tuition), or given back for a month
    paid already, as a credit on the family's Stripe balance or a refund (the school's choice). Each Stripe id is
    stored as soon as Stripe answers; a retried task skips what is stored."""

    class Remainder(models.TextChoices):
        NONE = "none", "Nothing paid beyond the last lesson"
        RENEWAL = "renewal", "Left out of the last month's renewal invoice"
        # Withdrawals settled before the renewal billed the last month by its lessons: a negative invoice item.
        INVOICE_ITEM = "invoice_item", "Taken off the last month's invoice"
        CREDIT = "credit", "Credit on the family's account"
        REFUND = "refund", "Refund to the card"

    enrollment = models.OneToOneField(
        "enrollment.Enrollment", related_name="withdrawal_settlement", on_delete=models.PROTECT
    )
    subscription = models.ForeignKey(
        TuitionSubscription, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    ends_on = models.DateField()
    cancel_at = models.DateTimeField(null=True, blank=True, help_text="When Stripe stops the subscription.")
    unused_lessons = models.PositiveSmallIntegerField(default=0, help_text="Lessons of the last month after ends_on.")
    remainder = models.CharField(max_length=12, choices=Remainder.choices, default=Remainder.NONE)
    amount_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default=default_currency)
    stripe_cancel_set_at = models.DateTimeField(null=True, blank=True)
    stripe_object_id = models.CharField(
        max_length=255, blank=True, help_text="The invoice item, balance transaction or refund at Stripe."
    )
    ledger_entry = models.OneToOneField(LedgerEntry, null=True, blank=True, related_name="+", on_delete=models.PROTECT)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Withdrawal of {self.enrollment} ({self.get_remainder_display()})"


# --- Payroll: its models live in billing/payroll/models.py; imported here so they are billing's. ---
from billing.payroll.models import PayLine, PayPeriod, PayRate  # noqa: E402, F401
