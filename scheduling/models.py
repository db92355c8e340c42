import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.fields import DateRangeField, DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Func, Q
from django.db.models.functions import Lower
from django.utils import timezone

from cedarheights.validators import no_control_characters
from cedarheights.weekly import Weekday, WeeklyWindow
from scheduling.constraints import CoveringIndex, PostgresExclusionConstraint
from scheduling.outcomes import CANCELLING, Outcome, flags_table_text


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class InclusiveDateRange(Func):
    function = "DATERANGE"
    template = "%(function)s(%(expressions)s, '[]')"
    output_field = DateRangeField()


class Instrument(models.Model):
    name = models.CharField(max_length=50, validators=[no_control_characters])
    active = models.BooleanField(default=True, help_text="Offered on the enrollment form.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="instrument_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class TeacherManager(models.Manager):
    def get_queryset(self):
        # A teacher is shown by their user's name everywhere (admin filters, autocomplete, lists).
        return super().get_queryset().select_related("user")


class Teacher(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, related_name="teacher", on_delete=models.PROTECT)
    instruments = models.ManyToManyField(Instrument, related_name="teachers")
    capacity = models.PositiveSmallIntegerField(default=25, help_text="The most active students this teacher takes.")
    bio = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    external_id = models.CharField(
        max_length=100,
        blank=True,
        validators=[no_control_characters],
        help_text="The teacher's id in the spreadsheet they were imported from: importing it again finds them.",
    )

    objects = TeacherManager()

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="teacher_external_id_unique"
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class WeeklyAvailability(WeeklyWindow):
    """A window in which a teacher teaches every week."""

    teacher = models.ForeignKey(Teacher, related_name="availability", on_delete=models.CASCADE)

    class Meta:
        ordering = ["teacher", "weekday", "start_time"]
        verbose_name_plural = "weekly availability"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="availability_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="availability_weekday_valid"),
            models.UniqueConstraint(fields=["teacher", "weekday", "start_time"], name="availability_unique_start"),
        ]


class Room(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[no_control_characters])
    notes = models.CharField(max_length=200, blank=True, validators=[no_control_characters])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _validate_date_order(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise ValidationError({"end_date": "The end date cannot be before the start date."})


class AcademicYear(models.Model):
    name = models.CharField(max_length=50, unique=True, help_text="e.g. 2026–2027", validators=[no_control_characters])
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="academic_year_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        _validate_date_order(self.start_date, self.end_date)


class Term(models.Model):
    academic_year = models.ForeignKey(AcademicYear, related_name="terms", on_delete=models.PROTECT)
    name = models.CharField(max_length=50, validators=[no_control_characters])
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="term_dates_ordered"),
            models.UniqueConstraint(fields=["academic_year", "name"], name="term_name_unique_in_year"),
            PostgresExclusionConstraint(
                name="term_no_overlap",
                expressions=[(InclusiveDateRange("start_date", "end_date"), RangeOperators.OVERLAPS)],
                violation_error_message="This term overlaps another term.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.academic_year})"

    def clean(self) -> None:
        _validate_date_order(self.start_date, self.end_date)


class Closure(models.Model):
    """Days without lessons: a holiday for the whole school, or one teacher's time off."""

    reason = models.CharField(max_length=200, validators=[no_control_characters])
    start_date = models.DateField()
    end_date = models.DateField(help_text="Inclusive: the last day without lessons.")
    teacher = models.ForeignKey(
        Teacher,
        null=True,
        blank=True,
        related_name="closures",
        on_delete=models.CASCADE,
        help_text="Leave empty for a closure of the whole school.",
    )
    term = models.ForeignKey(Term, null=True, blank=True, related_name="closures", on_delete=models.SET_NULL)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="closure_dates_ordered"),
        ]
        indexes = [models.Index(fields=["start_date", "end_date"])]

    def __str__(self) -> str:
        who = f" ({self.teacher})" if self.teacher_id else ""
        return f"{self.reason}{who}: {self.start_date:%Y-%m-%d} to {self.end_date:%Y-%m-%d}"

    def clean(self) -> None:
        _validate_date_order(self.start_date, self.end_date)


class Student(models.Model):
    class Level(models.TextChoices):
        BEGINNER = "beginner", "Beginner"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"

    class Status(models.TextChoices):
        PROSPECTIVE = "prospective", "Prospective"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    family = models.ForeignKey("accounts.Family", related_name="students", on_delete=models.PROTECT)
    first_name = models.CharField(max_length=100, validators=[no_control_characters])
    last_name = models.CharField(max_length=100, validators=[no_control_characters])
    date_of_birth = models.DateField()
    instrument = models.ForeignKey("scheduling.Instrument", related_name="students", on_delete=models.PROTECT)
    level = models.CharField(max_length=15, choices=Level.choices, default=Level.BEGINNER)
    teacher = models.ForeignKey(
        "scheduling.Teacher",
        null=True,
        blank=True,
        related_name="students",
        on_delete=models.PROTECT,
        help_text="The assigned teacher.",
    )
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.PROSPECTIVE)
    notes = models.TextField(blank=True)
    external_id = models.CharField(
        max_length=100,
        blank=True,
        validators=[no_control_characters],
        help_text="The child's id in the spreadsheet they were imported from: importing it again finds them.",
    )
    photos_allowed = models.BooleanField(
        default=False,
        editable=False,
        help_text="Whether a parent's consent to photos and recordings of this student's lessons is in force (set "
        "by enrollment's consent services with the consent, so a teacher's pages can say it).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["teacher", "status"]),
            models.Index(fields=["status"]),
            # The lists' orders (the API's default and each `ordering=`, the admin's): a page, not a sort of all.
            models.Index(fields=["last_name", "first_name", "id"], name="student_name_order"),
            models.Index(fields=["first_name"], name="student_first_name_order"),
            models.Index(fields=["date_of_birth"], name="student_birth_order"),
            models.Index(fields=["created_at"], name="student_created_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="student_external_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def clean(self) -> None:
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})


# A lesson's notes are a few paragraphs at most: a page, not a document.
NOTE_LENGTH = 4000

# Bounds the search for overlapping lessons: a lesson overlapping [a, b) starts after a - LONGEST_LESSON.
LONGEST_LESSON = timedelta(hours=4)


class Lesson(models.Model):
    class Kind(models.TextChoices):
        DEMO = "demo", "Demo"
        REGULAR = "regular", "Regular"
        MAKEUP = "makeup", "Make-up"
        DROP_IN = "drop_in", "Drop-in"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    class PaymentStatus(models.TextChoices):
        INCLUDED = "included", "Included in tuition"
        DUE = "due", "Due"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"
        REFUNDED = "refunded", "Refunded"
        WAIVED = "waived", "Waived"

    Outcome = Outcome

    teacher = models.ForeignKey(Teacher, related_name="lessons", on_delete=models.PROTECT)
    student = models.ForeignKey(Student, related_name="lessons", on_delete=models.PROTECT)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REGULAR)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    room = models.ForeignKey(Room, null=True, blank=True, related_name="lessons", on_delete=models.SET_NULL)
    term = models.ForeignKey(Term, null=True, blank=True, related_name="lessons", on_delete=models.SET_NULL)
    notes = models.TextField(blank=True, max_length=NOTE_LENGTH, help_text="The teacher's notes on the lesson.")
    payment_status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.INCLUDED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        help_text="Who cancelled the lesson; empty when the school's own work did (an enrollment paused).",
    )
    cancellation_reason = models.CharField(max_length=200, blank=True, validators=[no_control_characters])
    outcome = models.CharField(
        max_length=24,
        choices=Outcome.choices,
        blank=True,
        help_text="How the lesson ended; empty while it is still to come. " + flags_table_text(),
    )
    outcome_set_at = models.DateTimeField(null=True, blank=True, help_text="When the outcome was recorded.")
    outcome_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        help_text="Who recorded the outcome (a parent, the teacher, the owner); empty for the school's own jobs.",
    )
    family_note = models.TextField(
        blank=True,
        max_length=NOTE_LENGTH,
        validators=[no_control_characters],
        help_text="The teacher's note to the family, shown in their portal.",
    )
    weekly_lesson = models.ForeignKey(
        "scheduling.WeeklyLesson",
        null=True,
        blank=True,
        related_name="lessons",
        on_delete=models.SET_NULL,
        help_text="The standing weekly time this lesson is one week of.",
    )
    # Calendars (issue 16): one event per lesson, the same wherever it is shown (feeds, .ics files).
    uid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The lesson's calendar identity, for its life."
    )
    revision = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised by the services on every change of time, length, teacher, room, kind or status: calendars "
        "replace an event only when this rises (its SEQUENCE).",
    )
    revised_at = models.DateTimeField(
        default=timezone.now, editable=False, help_text="When the revision last rose (booked, if never)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_at"]
        indexes = [
            # Covering: the free-slot finder reads a teacher's lessons from the index alone.
            CoveringIndex(fields=["teacher", "start_at"], covering=["end_at", "status"], name="lesson_teacher_start"),
            models.Index(fields=["student", "start_at"]),
            # The lists' order by start with its tie-breaker (the API's, the owner's week, the admin's).
            models.Index(fields=["start_at", "id"], name="lesson_start_order"),
            # The list's filters in that order: a rare value (cancelled, make-up, due) is a probe and its page's
            # count an index read, not a scan of every lesson.
            models.Index(fields=["status", "start_at", "id"], name="lesson_status_start_order"),
            models.Index(fields=["kind", "start_at", "id"], name="lesson_kind_start_order"),
            models.Index(fields=["payment_status", "start_at", "id"], name="lesson_payment_start_order"),
            # The teachers' "still to mark" lists and reminders: lessons past and without an outcome.
            models.Index(fields=["teacher", "end_at"], condition=Q(outcome=""), name="lesson_unmarked"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(outcome="") & Q(status="scheduled"))
                | (Q(outcome=Outcome.ATTENDED) & Q(status="completed"))
                | (Q(outcome=Outcome.NO_SHOW) & Q(status="no_show"))
                | (Q(outcome__in=sorted(CANCELLING)) & Q(status="cancelled")),
                name="lesson_status_follows_outcome",
                violation_error_message="A lesson's status follows its outcome.",
            ),
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="lesson_ends_after_start"),
            models.CheckConstraint(
                condition=Q(end_at__lte=models.F("start_at") + LONGEST_LESSON),
                name="lesson_at_most_four_hours",
                violation_error_message="A lesson lasts at most four hours.",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled") | Q(cancelled_at__isnull=True),
                name="lesson_only_cancelled_has_cancelled_at",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled") | Q(cancelled_by__isnull=True),
                name="lesson_only_cancelled_has_cancelled_by",
            ),
            PostgresExclusionConstraint(
                name="lesson_no_teacher_overlap",
                expressions=[
                    (TsTzRange("start_at", "end_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("teacher", RangeOperators.EQUAL),
                ],
                condition=~Q(status="cancelled"),
                violation_error_message="The teacher already has a lesson at this time.",
            ),
            PostgresExclusionConstraint(
                name="lesson_no_student_overlap",
                expressions=[
                    (TsTzRange("start_at", "end_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("student", RangeOperators.EQUAL),
                ],
                condition=~Q(status="cancelled"),
                violation_error_message="The student already has a lesson at this time.",
            ),
            PostgresExclusionConstraint(
                name="lesson_no_room_overlap",
                expressions=[
                    (TsTzRange("start_at", "end_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("room", RangeOperators.EQUAL),
                ],
                condition=~Q(status="cancelled") & Q(room__isnull=False),
                violation_error_message="The room is already taken at this time.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} lesson, {self.student} with {self.teacher}"

    def clean(self) -> None:
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValidationError({"end_at": "The lesson must end after it starts."})


class TeacherSchedule(models.Model):
    """A stamp that changes whenever one of the teacher's lessons is added, removed, moved, given to another
    teacher or cancelled (or un-cancelled): the free-slot finder keeps a teacher's free time in the cache under
    this stamp. Written only by PostgreSQL triggers on the lesson table (migration 0004), from a sequence, so a
    stamp is never reused, even after a rollback; Django never saves it. A teacher without a row has had no
    lesson written since that migration."""

    teacher = models.OneToOneField(Teacher, primary_key=True, related_name="schedule", on_delete=models.CASCADE)
    stamp = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.teacher}'s schedule, stamp {self.stamp}"


class WeeklyLesson(models.Model):
    """A child's standing weekly time: a weekday and a local wall-clock time with a teacher. Its lessons are
    booked term by term (`weekly_lesson_book`, `term_rollover`) until it ends."""

    student = models.ForeignKey(Student, related_name="weekly_lessons", on_delete=models.PROTECT)
    teacher = models.ForeignKey(Teacher, related_name="weekly_lessons", on_delete=models.PROTECT)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    minutes = models.PositiveSmallIntegerField()
    room = models.ForeignKey(Room, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    starts_on = models.DateField(help_text="The first week.")
    ended_on = models.DateField(
        null=True, blank=True, help_text="Set when the family withdrew or the enrollment paused: no later lessons."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="weekly_lesson_weekday_valid"),
            models.CheckConstraint(
                condition=Q(minutes__gte=15) & Q(minutes__lte=240), name="weekly_lesson_minutes_valid"
            ),
            models.UniqueConstraint(
                fields=["student", "weekday", "start_time"],
                condition=Q(ended_on__isnull=True),
                name="weekly_lesson_one_standing_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student}, {self.get_weekday_display()}s at {self.start_time:%H:%M} with {self.teacher}"


class MakeupBlock(models.Model):
    """Time a teacher publishes for make-up lessons (it may lie outside their weekly hours)."""

    teacher = models.ForeignKey(Teacher, related_name="makeup_blocks", on_delete=models.CASCADE)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_at"]
        indexes = [models.Index(fields=["teacher", "start_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=models.F("start_at")), name="makeup_block_ends_after_start"),
            models.CheckConstraint(
                condition=Q(end_at__lte=models.F("start_at") + timedelta(hours=12)),
                name="makeup_block_at_most_twelve_hours",
            ),
            PostgresExclusionConstraint(
                name="makeup_block_no_overlap",
                expressions=[
                    (TsTzRange("start_at", "end_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("teacher", RangeOperators.EQUAL),
                ],
                violation_error_message="This block overlaps another make-up block of the teacher.",
            ),
        ]

    def __str__(self) -> str:
        return f"Make-up time, {self.teacher}, {timezone.localtime(self.start_at):%a %-d %b %H:%M}"


class TeacherCancellation(models.Model):
    """A teacher cancelled a lesson: the owner decides to send a substitute (the lesson is kept) or to let the
    family's credit stand. Until then the credit stands."""

    class Decision(models.TextChoices):
        PENDING = "pending", "Awaiting the owner"
        SUBSTITUTE = "substitute", "Substitute assigned"
        CREDIT = "credit", "Credit stands"

    lesson = models.ForeignKey(Lesson, related_name="teacher_cancellations", on_delete=models.CASCADE)
    teacher = models.ForeignKey(Teacher, related_name="cancellations", on_delete=models.PROTECT)
    reason = models.CharField(max_length=200, validators=[no_control_characters])
    reported_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    substitute = models.ForeignKey(
        Teacher, null=True, blank=True, related_name="substitutions", on_delete=models.PROTECT
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lesson"], condition=Q(decision="pending"), name="teacher_cancellation_one_pending"
            ),
            models.CheckConstraint(
                condition=Q(decision="substitute", substitute__isnull=False) | ~Q(decision="substitute"),
                name="teacher_cancellation_substitute_named",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.teacher} cancelled {self.lesson}"


class CalendarFeed(models.Model):
    """A calendar subscription's secret link (`/cal/<token>.ics`): a family's lessons (all its children), a
    teacher's, or the whole school's. Each person has at most one live link per kind; a new one revokes the old.
    Only the token's SHA-256 is kept: the link is shown once, when it is made."""

    class Scope(models.TextChoices):
        FAMILY = "family", "Family"
        TEACHER = "teacher", "Teacher"
        SCHOOL = "school", "Whole school"

    holder = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="calendar_feeds", on_delete=models.CASCADE)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    family = models.ForeignKey(
        "accounts.Family", null=True, blank=True, related_name="calendar_feeds", on_delete=models.CASCADE
    )
    teacher = models.ForeignKey(Teacher, null=True, blank=True, related_name="calendar_feeds", on_delete=models.CASCADE)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "scope"], condition=Q(revoked_at__isnull=True), name="calendar_feed_one_live"
            ),
            models.CheckConstraint(
                condition=(Q(scope="family") & Q(family__isnull=False) & Q(teacher__isnull=True))
                | (Q(scope="teacher") & Q(teacher__isnull=False) & Q(family__isnull=True))
                | (Q(scope="school") & Q(family__isnull=True) & Q(teacher__isnull=True)),
                name="calendar_feed_subject_follows_scope",
            ),
        ]

    def __str__(self) -> str:
        subject = self.family or self.teacher or "the whole school"
        return f"Calendar of {subject} for {self.holder}"


class CalendarStamp(models.Model):
    """A stamp per calendar subject (a teacher, a student; `school` 0 for the names every feed shows) that changes
    whenever what its feed shows may have: a feed answers `304 Not Modified` from these few rows without reading a
    lesson. Written only by PostgreSQL triggers (migration 0014) from a sequence, whatever road a write takes;
    Django never saves it. On SQLite there are no triggers, and a feed's validator is the hash of its text."""

    class Scope(models.TextChoices):
        TEACHER = "teacher", "Teacher"
        STUDENT = "student", "Student"
        SCHOOL = "school", "School"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    subject_id = models.BigIntegerField()
    stamp = models.BigIntegerField()
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "subject_id"], name="calendar_stamp_one_per_subject")]

    def __str__(self) -> str:
        return f"{self.scope} {self.subject_id}: stamp {self.stamp}"
