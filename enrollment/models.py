from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cedarheights.validators import no_control_characters
from scheduling.models import WeeklyWindow


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["teacher", "status"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def clean(self) -> None:
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})


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

    student = models.ForeignKey(Student, related_name="enrollments", on_delete=models.PROTECT)
    instrument = models.ForeignKey("scheduling.Instrument", related_name="enrollments", on_delete=models.PROTECT)
    lesson_minutes = models.PositiveSmallIntegerField(choices=LessonMinutes.choices, default=LessonMinutes.THIRTY)
    tuition_plan = models.ForeignKey(
        "billing.TuitionPlan", null=True, blank=True, related_name="enrollments", on_delete=models.PROTECT
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
