"""What the teacher's API reads and writes: their lessons as they teach them, and make-up blocks."""

from django.utils import timezone
from rest_framework import serializers

from cedarheights.serializers import ModelSerializer
from scheduling.models import Lesson, MakeupBlock

# Days either side of today a teacher's day may be asked for: beyond, a date is a typo (and near the calendar's
# ends, date arithmetic would overflow).
DAYS_AROUND_TODAY = 3660
ID_RANGE = {"min_value": 1, "max_value": 2**63 - 1}


class TeachQuerySerializer(serializers.Serializer):
    teacher = serializers.IntegerField(
        required=False,
        help_text="The school only: one teacher's lessons (default: every teacher's). A teacher gets their own.",
        **ID_RANGE,
    )


class TeachDayQuerySerializer(TeachQuerySerializer):
    date = serializers.DateField(
        required=False, help_text="A local date, YYYY-MM-DD; default today in the school's zone."
    )
    week = serializers.BooleanField(
        required=False, default=False, help_text="true: the seven days from `date`, instead of that day alone."
    )

    def validate_date(self, value):
        today = timezone.localdate()
        if abs((value - today).days) > DAYS_AROUND_TODAY:
            raise serializers.ValidationError("Ask for a date within ten years of today.")
        return value


class TeachLessonSerializer(ModelSerializer):
    """A lesson as its teacher (or the school) sees it: the child, the instrument and room, the outcome, both
    notes. Attendance and notes are written through `PATCH /api/v1/lessons/{id}/`."""

    student_name = serializers.SerializerMethodField()
    instrument = serializers.SerializerMethodField()
    room_name = serializers.SerializerMethodField()

    class Meta:
        model = Lesson
        fields = [
            "id",
            "teacher",
            "student",
            "student_name",
            "instrument",
            "kind",
            "start_at",
            "end_at",
            "room",
            "room_name",
            "outcome",
            "status",
            "family_note",
            "notes",
        ]
        read_only_fields = fields

    def get_student_name(self, lesson: Lesson) -> str:
        return str(lesson.student)

    def get_instrument(self, lesson: Lesson) -> str:
        return lesson.student.instrument.name

    def get_room_name(self, lesson: Lesson) -> str | None:
        return lesson.room.name if lesson.room else None


class MakeupBlockSerializer(ModelSerializer):
    teacher_name = serializers.SerializerMethodField()

    class Meta:
        model = MakeupBlock
        fields = ["id", "teacher", "teacher_name", "start_at", "end_at"]
        read_only_fields = fields

    def get_teacher_name(self, block: MakeupBlock) -> str:
        return block.teacher.user.get_full_name()


class MakeupBlockTeacherCreateSerializer(ModelSerializer):
    """A teacher's own block: its times only."""

    class Meta:
        model = MakeupBlock
        fields = ["start_at", "end_at"]


class MakeupBlockCreateSerializer(ModelSerializer):
    """The school's: any teacher's block."""

    class Meta:
        model = MakeupBlock
        fields = ["teacher", "start_at", "end_at"]
