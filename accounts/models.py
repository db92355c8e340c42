import hashlib
from datetime import date, datetime, timedelta

import pgtrigger
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper

from accounts.breaches import real_risk_of_significant_harm
from cedarheights import roles
from cedarheights.selectors import school_today
from cedarheights.validators import no_control_characters


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True, role=User.Role.ADMIN)
        return self._create_user(email, password, **fields)

    def get_by_natural_key(self, username: str):
        return self.get(email__iexact=username)


def normalize_email(email: str) -> str:
    """One spelling per mailbox: addresses are compared and stored lower-cased."""
    return email.strip().lower()


class User(AbstractUser):
    """A person who signs in with an email address: the owner and staff, a teacher, or a parent."""

    Role = roles.Role

    username = None
    email = models.EmailField("email address", unique=True)
    first_name = models.CharField("first name", max_length=150, blank=True, validators=[no_control_characters])
    last_name = models.CharField("last name", max_length=150, blank=True, validators=[no_control_characters])
    phone = models.CharField(max_length=32, blank=True, validators=[no_control_characters])
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.PARENT)
    family = models.ForeignKey(
        "accounts.Family", null=True, blank=True, related_name="parents", on_delete=models.PROTECT
    )
    # Signed into every set-password and reset link (accounts.tokens) and replaced by each new set-password
    # link, so only the newest link works. Empty until the first such link: earlier links keep working.
    password_link_nonce = models.UUIDField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            # UPPER, as Django's iexact compiles on PostgreSQL: sign-in, password reset and enrollment's
            # "already has an account" look an address up through this index instead of reading every user.
            models.UniqueConstraint(Upper("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(family__isnull=True) | models.Q(role="parent"),
                name="accounts_user_only_parents_have_family",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)


class Family(models.Model):
    """A household: one or more parents, their children, one bill."""

    name = models.CharField(
        max_length=200,
        help_text="How the school refers to the household, e.g. “Nguyen family”.",
        validators=[no_control_characters],
    )
    street = models.CharField(max_length=200, blank=True, validators=[no_control_characters])
    city = models.CharField(max_length=100, blank=True, validators=[no_control_characters])
    province = models.CharField(
        max_length=2, blank=True, help_text="Two-letter code, e.g. ON.", validators=[no_control_characters]
    )
    postal_code = models.CharField(max_length=10, blank=True, validators=[no_control_characters])
    emergency_contact_name = models.CharField(max_length=200, blank=True, validators=[no_control_characters])
    emergency_contact_phone = models.CharField(max_length=32, blank=True, validators=[no_control_characters])
    notes = models.TextField(blank=True)
    external_id = models.CharField(
        max_length=100,
        blank=True,
        validators=[no_control_characters],
        help_text="The family's id in the spreadsheet it was imported from: importing it again finds this family.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the retention job replaced the family's names and contacts (its records past their period).",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "families"
        # The lists' orders (the API's default and each `ordering=`, the admin's): a page, not a sort of all.
        indexes = [
            models.Index(fields=["name", "id"], name="family_name_order"),
            models.Index(fields=["created_at"], name="family_created_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~models.Q(external_id=""), name="family_external_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ConsentRecord(models.Model):
    """A parent's own consent (marketing email), kept as PIPEDA asks: the notice version and the words shown, who,
    when, withdrawn when. A child's consents are enrollment's `ChildConsent`. Giving it again after a withdrawal is
    a new row, so the history stays."""

    class Purpose(models.TextChoices):
        MARKETING = "marketing", "School news and offers by email"

    family = models.ForeignKey(Family, related_name="consents", on_delete=models.CASCADE)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    notice = models.ForeignKey("cedarheights.PrivacyNotice", related_name="+", on_delete=models.PROTECT)
    text_shown = models.TextField(help_text="The words the parent agreed to, as they were shown.")
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    given_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["family", "purpose", "-given_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | models.Q(withdrawn_at__gte=models.F("given_at")),
                name="consent_withdrawn_after_given",
            ),
            models.CheckConstraint(condition=~models.Q(text_shown=""), name="consent_text_shown"),
            models.UniqueConstraint(
                fields=["given_by", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="consent_one_in_force_per_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_by}: {self.get_purpose_display()} (notice v{self.notice.version})"


class ReminderPreference(models.Model):
    """A person's choice about one kind of reminder email, and when they made it. No row: the reminder is on.
    Notices of a change to a lesson close to its time are not reminders: they always go."""

    class Kind(models.TextChoices):
        LESSONS_TOMORROW = "lessons_tomorrow", "The evening before: my family's lessons of the next day"
        TEACHING_TOMORROW = "teaching_tomorrow", "The evening before: my teaching day ahead"
        CANCEL_WINDOW = "cancel_window", "Six hours before the free-cancellation window of a lesson closes"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="reminder_preferences", on_delete=models.CASCADE)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    enabled = models.BooleanField()
    changed_at = models.DateTimeField(help_text="When the person last made this choice.")

    class Meta:
        ordering = ["user", "kind"]
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="reminder_preference_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} {'on' if self.enabled else 'off'}"


class AccessRequest(models.Model):
    """A family's request for the personal information the school holds about them (PIPEDA principle 9): answered
    within 30 days of receipt, or within 60 once, with notice to the family, the clock extended."""

    ANSWER_DAYS = 30
    EXTENSION_DAYS = 30
    WARN_AFTER_DAYS = 20

    class Channel(models.TextChoices):
        PORTAL = "portal", "Through the family portal"
        EMAIL = "email", "By email"
        PHONE = "phone", "By phone"
        MAIL = "mail", "By mail"
        IN_PERSON = "in_person", "In person"

    family = models.ForeignKey(Family, related_name="access_requests", on_delete=models.PROTECT)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="access_requests_made",
        on_delete=models.PROTECT,
        help_text="The parent who asked in the portal.",
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="access_requests_logged",
        on_delete=models.PROTECT,
        help_text="The staff member who logged a request received otherwise.",
    )
    received_on = models.DateField(help_text="The day the school received it: the 30 days run from here.")
    details = models.TextField(blank=True, validators=[no_control_characters])
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True, validators=[no_control_characters])
    answered_on = models.DateField(null=True, blank=True)
    answer_note = models.TextField(blank=True, validators=[no_control_characters])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answered_on", "received_on", "pk"]
        indexes = [
            models.Index(fields=["family"], condition=models.Q(answered_on__isnull=True), name="access_request_open")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answered_on__isnull=True) | models.Q(answered_on__gte=models.F("received_on")),
                name="access_request_answered_after_received",
            ),
            models.CheckConstraint(
                condition=models.Q(extended_at__isnull=True) | ~models.Q(extension_reason=""),
                name="access_request_extension_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Access request from {self.family} received {self.received_on:%Y-%m-%d}"

    def clean(self) -> None:
        if self.received_on and self.received_on > school_today():
            raise ValidationError({"received_on": "A request is logged once received: not a day in the future."})

    @property
    def due_on(self) -> date:
        """The answer's last day: calendar days from receipt, so a request received on 31 January is due on
        2 March (1 March in a leap year), whatever the month's length."""
        days = self.ANSWER_DAYS + (self.EXTENSION_DAYS if self.extended_at else 0)
        return self.received_on + timedelta(days=days)

    @property
    def last_day_to_extend(self) -> date:
        """The extension's notice must reach the family within the first 30 days."""
        return self.received_on + timedelta(days=self.ANSWER_DAYS)

    def days_left(self, today: date) -> int:
        """Days until the answer is due (0: due today; negative: overdue)."""
        return (self.due_on - today).days

    def needs_warning(self, today: date) -> bool:
        """Open with the last 10 days of its period left (day 20 on; day 50 on once extended): the owner is warned."""
        warn_when_left = self.ANSWER_DAYS - self.WARN_AFTER_DAYS
        return self.answered_on is None and self.days_left(today) <= warn_when_left

    def is_overdue(self, today: date) -> bool:
        return self.answered_on is None and today > self.due_on


class DataExport(models.Model):
    """A family's data as one zip (cedarheights/privacy_export.py builds it in the background), downloadable once
    through a link that expires: only the link's hash is kept, and the zip is dropped once downloaded."""

    EXPIRES_AFTER_DAYS = 7

    family = models.ForeignKey(Family, related_name="data_exports", on_delete=models.PROTECT)
    access_request = models.ForeignKey(
        AccessRequest, null=True, blank=True, related_name="exports", on_delete=models.PROTECT
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    content = models.BinaryField(blank=True, default=b"", editable=False)
    size_bytes = models.PositiveIntegerField(default=0)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(built_at__isnull=True) | models.Q(expires_at__isnull=False),
                name="data_export_built_expires",
            ),
        ]

    def __str__(self) -> str:
        return f"Data export of {self.family} ({self.created_at:%Y-%m-%d})"

    @property
    def file_name(self) -> str:
        return f"cedar-heights-family-{self.family_id}-data-{self.created_at:%Y-%m-%d}.zip"

    def is_downloadable(self, now: datetime) -> bool:
        return self.built_at is not None and self.downloaded_at is None and now < self.expires_at

    def is_spent(self, now: datetime) -> bool:
        """Built, and downloaded already or past its link's expiry: the family may ask for a new copy."""
        return self.built_at is not None and not self.is_downloadable(now)

    @staticmethod
    def link_token_hash(token: str) -> str:
        """Only this is kept of the emailed link's token."""
        return hashlib.sha256(token.encode()).hexdigest()


class CorrectionRequest(models.Model):
    """A family's request to correct something they cannot change themselves (PIPEDA principle 9). A request the
    school does not accept is kept with the family's disagreement annotated on the record, never dropped."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CORRECTED = "corrected", "Corrected"
        ANNOTATED = "annotated", "Not changed: the disagreement is annotated"

    family = models.ForeignKey(Family, related_name="correction_requests", on_delete=models.PROTECT)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    about = models.CharField(
        max_length=200, validators=[no_control_characters], help_text="Which record or detail, in the family's words."
    )
    requested_change = models.TextField(validators=[no_control_characters])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    annotation = models.TextField(
        blank=True,
        validators=[no_control_characters],
        help_text="What was corrected, or the family's disagreement as it will stay on their record.",
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", resolved_at__isnull=True)
                | (~models.Q(status="open") & models.Q(resolved_at__isnull=False) & ~models.Q(annotation="")),
                name="correction_request_resolved_with_note",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family}: correct {self.about}"


class Breach(models.Model):
    """A breach of security safeguards, as the Breach of Security Safeguards Regulations ask it be recorded: kept at
    least 24 months from its discovery (the admin and a PostgreSQL trigger refuse an earlier delete), whether or not
    it posed a real risk of significant harm. The retention job never touches it."""

    KEEP_MONTHS = 24

    class Level(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    summary = models.CharField(max_length=200, validators=[no_control_characters], help_text="What happened, briefly.")
    circumstances = models.TextField(blank=True, help_text="How it happened.")
    occurred_on = models.DateField(null=True, blank=True, help_text="Empty while unknown.")
    occurred_until = models.DateField(null=True, blank=True, help_text="The last day, when it lasted a period.")
    discovered_on = models.DateField()
    contained_on = models.DateField(null=True, blank=True)
    information_involved = models.TextField(help_text="Which personal information (names, birth dates, card data…).")
    people_involved = models.TextField(help_text="Whose information: which families, children, staff.")
    affected_families = models.ManyToManyField(Family, blank=True, related_name="breaches")
    people_affected_estimate = models.PositiveIntegerField(help_text="How many people, as best known.")
    sensitivity = models.CharField(max_length=6, choices=Level.choices)
    sensitivity_factors = models.TextField(help_text="Why: children's data, financial data, what can be done with it.")
    probability = models.CharField(max_length=6, choices=Level.choices, help_text="Probability of misuse.")
    probability_factors = models.TextField(
        help_text="Why: who had it, for how long, malicious or accidental, recovered, encrypted.",
    )
    actions_taken = models.TextField(blank=True, help_text="To contain it, reduce the harm, prevent another.")
    commissioner_notified_on = models.DateField(null=True, blank=True)
    commissioner_notice = models.TextField(blank=True, help_text="The report to the Privacy Commissioner, as sent.")
    people_notified_on = models.DateField(null=True, blank=True)
    people_notice = models.TextField(blank=True, help_text="The notice to the affected people, as sent.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-discovered_on", "-pk"]
        verbose_name = "breach of security safeguards"
        verbose_name_plural = "breaches of security safeguards"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(occurred_on__isnull=True) | models.Q(occurred_on__lte=models.F("discovered_on")),
                name="breach_occurred_before_discovered",
            ),
            models.CheckConstraint(
                condition=models.Q(contained_on__isnull=True) | models.Q(contained_on__gte=models.F("occurred_on")),
                name="breach_contained_after_occurred",
            ),
            models.CheckConstraint(
                condition=models.Q(commissioner_notified_on__isnull=True) | ~models.Q(commissioner_notice=""),
                name="breach_commissioner_notice_kept",
            ),
            models.CheckConstraint(
                condition=models.Q(people_notified_on__isnull=True) | ~models.Q(people_notice=""),
                name="breach_people_notice_kept",
            ),
        ]
        triggers = [
            # The database has the last word, whatever road a delete takes (the admin refuses it first).
            pgtrigger.Protect(
                name="breach_kept_24_months",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition("OLD.discovered_on > CURRENT_DATE - INTERVAL '24 months'"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.summary} (discovered {self.discovered_on:%Y-%m-%d})"

    def clean(self) -> None:
        """The constraints above, said on their fields (the database's own message names the constraint)."""
        errors = {}
        if self.occurred_on and self.discovered_on and self.occurred_on > self.discovered_on:
            errors["occurred_on"] = "A breach is discovered on or after the day it occurred."
        if self.contained_on and self.occurred_on and self.contained_on < self.occurred_on:
            errors["contained_on"] = "A breach is contained on or after the day it occurred."
        if self.commissioner_notified_on and not self.commissioner_notice.strip():
            errors["commissioner_notice"] = "Keep the notice sent to the Commissioner."
        if self.people_notified_on and not self.people_notice.strip():
            errors["people_notice"] = "Keep the notice sent to the people affected."
        if errors:
            raise ValidationError(errors)

    @property
    def kept_until(self) -> date:
        """The first day the admin lets it be deleted: 24 months and a day after its discovery. The trigger above
        counts the 24 months from the database's date (UTC), which is a day off the school's around midnight: the
        day's margin keeps the admin from offering a delete the database refuses."""
        return self.discovered_on + relativedelta(months=self.KEEP_MONTHS) + timedelta(days=1)

    @property
    def real_risk_of_significant_harm(self) -> bool:
        return real_risk_of_significant_harm(sensitivity=self.sensitivity, probability=self.probability)


class SchoolNews(models.Model):
    """An owner's news email to families: it goes only to parents who opted in to the school's news, and each email
    asks again when it is sent (a parent who withdraws meanwhile gets nothing)."""

    subject = models.CharField(max_length=200, validators=[no_control_characters])
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "school news"
        verbose_name_plural = "school news"

    def __str__(self) -> str:
        return self.subject
