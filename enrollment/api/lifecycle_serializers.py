"""An enrollment's life after it starts in the API (`/api/v1/enrollments/{id}/…`): what a change, a pause and a
withdrawal take, and what they answer."""

from rest_framework import serializers

from cedarheights.models import SchoolSettings
from cedarheights.serializers import LocalTimeField, ModelSerializer, Serializer
from enrollment.lifecycle.pauses import pause_live_get
from enrollment.models import Enrollment, EnrollmentChange, EnrollmentPause, TuitionPlan
from scheduling.models import Teacher, WeeklyLesson


class WeeklyLessonSerializer(ModelSerializer):
    class Meta:
        model = WeeklyLesson
        fields = ["id", "weekday", "start_time", "minutes", "teacher", "starts_on"]
        read_only_fields = fields


class PauseSerializer(ModelSerializer):
    class Meta:
        model = EnrollmentPause
        fields = ["id", "starts_on", "resumes_on", "lessons", "lessons_released", "ended_on"]
        read_only_fields = fields


class EnrollmentLifecycleSerializer(ModelSerializer):
    weekly_lessons = serializers.SerializerMethodField()
    pause = serializers.SerializerMethodField(help_text="The vacation pause on now or to come, if any.")

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "student",
            "instrument",
            "status",
            "lesson_minutes",
            "tuition_plan",
            "activated_at",
            "withdrawal_given_on",
            "ends_on",
            "weekly_lessons",
            "pause",
        ]
        read_only_fields = fields

    def get_weekly_lessons(self, enrollment: Enrollment) -> list[dict]:
        weekly = WeeklyLesson.objects.filter(student_id=enrollment.student_id, ended_on__isnull=True)
        return WeeklyLessonSerializer(weekly.order_by("weekday", "start_time"), many=True).data

    def get_pause(self, enrollment: Enrollment) -> dict | None:
        pause = pause_live_get(enrollment=enrollment)
        return PauseSerializer(pause).data if pause else None


class EnrollmentChangeInputSerializer(Serializer):
    preview = serializers.BooleanField(default=False, help_text="true: say what would change, and change nothing.")
    effective_on = serializers.DateField(help_text="The first day of the new weekly lesson (today or later).")
    weekday = serializers.IntegerField(min_value=0, max_value=6, required=False, help_text="0 Monday … 6 Sunday.")
    start_time = LocalTimeField(required=False)
    teacher = serializers.PrimaryKeyRelatedField(queryset=Teacher.objects.filter(active=True), required=False)
    lesson_minutes = serializers.ChoiceField(choices=Enrollment.LessonMinutes.values, required=False)
    tuition_plan = serializers.PrimaryKeyRelatedField(queryset=TuitionPlan.objects.filter(active=True), required=False)


class LessonMoveSerializer(Serializer):
    week_of = serializers.DateField()
    kind = serializers.ChoiceField(choices=["moved", "removed", "added"])
    before = serializers.DateTimeField(allow_null=True)
    after = serializers.DateTimeField(allow_null=True)


class ConflictSerializer(Serializer):
    on = serializers.DateField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ChangePreviewSerializer(Serializer):
    possible = serializers.BooleanField()
    effective_on = serializers.DateField()
    words = serializers.ListField(child=serializers.CharField())
    lessons = LessonMoveSerializer(many=True)
    conflicts = ConflictSerializer(many=True)
    money_lines = serializers.ListField(
        child=serializers.CharField(), source="money_texts", help_text="What billing says the change costs, in words."
    )


class EnrollmentChangeSerializer(ModelSerializer):
    class Meta:
        model = EnrollmentChange
        fields = ["id", "enrollment", "effective_on", "before", "after", "lessons_released", "lessons_booked"]
        read_only_fields = fields


class EnrollmentPauseInputSerializer(Serializer):
    starts_on = serializers.DateField()
    resumes_on = serializers.DateField(help_text="The first day lessons and tuition start again.")
    lessons = serializers.ChoiceField(
        choices=SchoolSettings.PauseLessons.values, required=False, help_text="Empty: the school's setting."
    )


class EnrollmentWithdrawInputSerializer(Serializer):
    notice_given_on = serializers.DateField(required=False, help_text="Empty: today.")
    unused_lessons = serializers.ChoiceField(
        choices=SchoolSettings.UnusedLessons.values,
        required=False,
        help_text="School's admins only; empty: the school's setting.",
    )


class NoBodySerializer(Serializer):
    """An action that takes nothing: any key sent is refused by name."""
