from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cedarheights.serializers import ModelCleanSerializer, ModelSerializer, Serializer, StrictCharField
from cedarheights.validators import no_control_characters
from scheduling.models import (
    AcademicYear,
    Closure,
    Instrument,
    Lesson,
    Teacher,
    TeacherCancellation,
    Term,
    WeeklyAvailability,
)
from scheduling.outcomes import FLAGS, CreditRule, Outcome
from scheduling.selectors import lesson_list_visible_to
from scheduling.services import term_dates_validate
from scheduling.transitions import ATTENDANCE_CORRECTIONS


class InstrumentSerializer(ModelCleanSerializer):
    class Meta:
        model = Instrument
        fields = ["id", "name", "active"]


class AvailabilitySerializer(ModelCleanSerializer):
    class Meta:
        model = WeeklyAvailability
        fields = ["id", "teacher", "weekday", "start_time", "end_time"]

    def to_representation(self, window: WeeklyAvailability) -> dict:
        """What DRF's fields give, read straight off the row: a page of 25 teachers nests ~175 windows, and DRF's
        attribute lookups per field and row were most of that page's time. (A test compares it with DRF's own.)"""
        fields = self.fields
        return {
            "id": window.pk,
            "teacher": window.teacher_id,
            "weekday": fields["weekday"].to_representation(window.weekday),
            "start_time": fields["start_time"].to_representation(window.start_time),
            "end_time": fields["end_time"].to_representation(window.end_time),
        }


class TeacherSerializer(ModelCleanSerializer):
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    availability = AvailabilitySerializer(many=True, read_only=True)

    class Meta:
        model = Teacher
        fields = ["id", "user", "first_name", "last_name", "instruments", "bio", "capacity", "active", "availability"]
        extra_kwargs = {"user": {"write_only": True}}


class PublicTeacherSerializer(ModelSerializer):
    """What anyone may read: a name, the instruments, the bio. Nothing private."""

    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    instruments = serializers.SerializerMethodField()

    class Meta:
        model = Teacher
        fields = ["id", "first_name", "last_name", "instruments", "bio"]
        read_only_fields = fields

    def get_instruments(self, teacher: Teacher) -> list[str]:
        """Names, alphabetical; the view prefetches them as `taught`."""
        return [instrument.name for instrument in teacher.taught]


class AcademicYearSerializer(ModelCleanSerializer):
    class Meta:
        model = AcademicYear
        fields = ["id", "name", "start_date", "end_date"]


class TermSerializer(ModelCleanSerializer):
    class Meta:
        model = Term
        fields = ["id", "academic_year", "name", "start_date", "end_date"]

    def validate(self, attrs):
        # Before the model's checks, which would answer an overlap as a 400 in the exclusion constraint's words:
        # the service's TermOverlap is the one answer (409), whichever interface asks.
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end:
            term_dates_validate(start_date=start, end_date=end, exclude_term_id=getattr(self.instance, "pk", None))
        return super().validate(attrs)


class ClosureSerializer(ModelCleanSerializer):
    class Meta:
        model = Closure
        fields = ["id", "reason", "start_date", "end_date", "teacher", "term"]


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


STILL_TO_COME_LABEL = "Still to come"


class ChargedSerializer(serializers.Serializer):
    flat = serializers.BooleanField(help_text="On a flat tuition plan (so much a month or a term).")
    per_lesson = serializers.BooleanField(help_text="On a plan that charges each lesson.")


class OutcomeFlagsSerializer(serializers.Serializer):
    """What the outcome means (scheduling/outcomes.py FLAGS; the policies' table)."""

    delivered = serializers.BooleanField(help_text="The lesson was taught.")
    charged = ChargedSerializer(help_text="Whether the family pays for it, by the basis of their tuition plan.")
    teacher_paid = serializers.BooleanField()
    credit = serializers.ChoiceField(choices=CreditRule.choices, help_text="The make-up credit the outcome issues.")


class LessonSerializer(ModelSerializer):
    """A lesson as the family reads it. The school and the lesson's teacher read `LessonStaffSerializer`: the same,
    and the teacher's private `notes`."""

    # Methods, not dotted sources ending in a call: DRF inspects a callable source's signature on every row.
    teacher_name = serializers.SerializerMethodField()
    student_name = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(
        choices=Outcome.choices,
        allow_blank=True,
        read_only=True,
        help_text='How the lesson ended; `""` while it is still to come. What it means is in `outcome_flags`.',
    )
    outcome_label = serializers.SerializerMethodField()
    outcome_flags = serializers.SerializerMethodField()

    class Meta:
        model = Lesson
        fields = [
            "id",
            "teacher",
            "teacher_name",
            "student",
            "student_name",
            "kind",
            "status",
            "outcome",
            "outcome_label",
            "outcome_flags",
            "outcome_set_at",
            "outcome_set_by",
            "start_at",
            "end_at",
            "room",
            "term",
            "family_note",
            "payment_status",
            "cancelled_at",
            "cancelled_by",
            "cancellation_reason",
        ]
        read_only_fields = fields

    def get_teacher_name(self, lesson: Lesson) -> str:
        return lesson.teacher.user.get_full_name()

    def get_student_name(self, lesson: Lesson) -> str:
        return str(lesson.student)

    def get_outcome_label(self, lesson: Lesson) -> str:
        return Outcome(lesson.outcome).label if lesson.outcome else STILL_TO_COME_LABEL

    @extend_schema_field(OutcomeFlagsSerializer(allow_null=True, help_text="null while the lesson is still to come."))
    def get_outcome_flags(self, lesson: Lesson) -> dict | None:
        if not lesson.outcome:
            return None
        flags = FLAGS[lesson.outcome]
        return {
            "delivered": flags.delivered,
            "charged": {"flat": flags.charged_flat, "per_lesson": flags.charged_per_lesson},
            "teacher_paid": flags.teacher_paid,
            "credit": flags.credit.value,
        }


class LessonStaffSerializer(LessonSerializer):
    """The school's and the teacher's read: the family's, and the teacher's private notes."""

    class Meta(LessonSerializer.Meta):
        fields = [*LessonSerializer.Meta.fields, "notes"]
        read_only_fields = fields


class LessonCreateSerializer(ModelSerializer):
    ignore_availability = serializers.BooleanField(default=False, write_only=True)

    class Meta:
        model = Lesson
        fields = [
            "teacher",
            "student",
            "kind",
            "start_at",
            "end_at",
            "room",
            "term",
            "payment_status",
            "ignore_availability",
        ]


def reason_field(*, required: bool, help_text: str) -> StrictCharField:
    return StrictCharField(
        max_length=200,
        required=required,
        allow_blank=not required,
        validators=[no_control_characters],
        help_text=help_text,
        **({} if required else {"default": ""}),
    )


class LessonAdminUpdateSerializer(ModelSerializer):
    ignore_availability = serializers.BooleanField(default=False, write_only=True)
    reason = reason_field(required=False, help_text="Why, when `outcome` or `status` cancels the lesson (kept).")

    class Meta:
        model = Lesson
        fields = [
            "kind",
            "status",
            "outcome",
            "reason",
            "start_at",
            "end_at",
            "room",
            "term",
            "notes",
            "family_note",
            "payment_status",
            "ignore_availability",
        ]


class LessonTeacherUpdateSerializer(ModelSerializer):
    """A teacher takes attendance and writes notes on their own lessons; nothing else. Which outcome they may record
    when is `lesson_outcome_set`'s to say (scheduling/transitions.py); a cancellation is `teacher-cancel/`'s."""

    outcome = serializers.ChoiceField(
        choices=[(o, Outcome(o).label if o else STILL_TO_COME_LABEL) for o in sorted(ATTENDANCE_CORRECTIONS)],
        required=False,
        help_text='Attendance: `attended`, `no_show`, or `""` to take it back.',
    )

    class Meta:
        model = Lesson
        fields = ["status", "outcome", "notes", "family_note"]


class LessonCancelSerializer(Serializer):
    reason = reason_field(required=False, help_text="Why the lesson is cancelled (kept with it).")


class LessonTeacherCancelSerializer(Serializer):
    reason = reason_field(required=True, help_text="Why the teacher cannot teach the lesson (the owner reads it).")


class TeacherCancellationSerializer(ModelSerializer):
    """A teacher's cancellation and the owner's answer to it."""

    teacher_name = serializers.SerializerMethodField()
    student_name = serializers.SerializerMethodField()
    lesson_start_at = serializers.DateTimeField(source="lesson.start_at", read_only=True)

    class Meta:
        model = TeacherCancellation
        fields = [
            "id",
            "lesson",
            "lesson_start_at",
            "student_name",
            "teacher",
            "teacher_name",
            "reason",
            "reported_at",
            "decision",
            "substitute",
            "decided_at",
            "decided_by",
        ]
        read_only_fields = fields

    def get_teacher_name(self, cancellation: TeacherCancellation) -> str:
        return cancellation.teacher.user.get_full_name()

    def get_student_name(self, cancellation: TeacherCancellation) -> str:
        return str(cancellation.lesson.student)


@extend_schema_field(OpenApiTypes.INT)
class VisibleLessonField(serializers.PrimaryKeyRelatedField):
    """A lesson the caller may see: another teacher's is as if it did not exist."""

    def get_queryset(self):
        return lesson_list_visible_to(self.context["request"].user)


class TeacherCancellationCreateSerializer(Serializer):
    lesson = VisibleLessonField(help_text="The lesson to cancel: one of the teacher's own, still to come.")
    reason = reason_field(required=True, help_text="Why the teacher cannot teach the lesson (the owner reads it).")


class TeacherCancellationDecideSerializer(Serializer):
    substitute = serializers.PrimaryKeyRelatedField(
        queryset=Teacher.objects.all(),
        allow_null=True,
        help_text="The teacher who takes the lesson (it is kept), or null: the family's make-up credit stands.",
    )


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Local time of the school, with its UTC offset.")
    end = serializers.DateTimeField()
    teacher = PersonRefSerializer()


class TimeslotQuerySerializer(serializers.Serializer):
    instrument = serializers.PrimaryKeyRelatedField(queryset=Instrument.objects.filter(active=True))
    start = serializers.DateField()
    end = serializers.DateField()
    minutes = serializers.ChoiceField(choices=[30, 45, 60], default=30)

    MAX_DAYS = 62

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["The end date cannot be before the start date."]})
        if (attrs["end"] - attrs["start"]).days > self.MAX_DAYS:
            raise serializers.ValidationError({"end": [f"Ask for at most {self.MAX_DAYS} days at a time."]})
        return attrs


class TermRolloverSerializer(Serializer):
    preview = serializers.BooleanField(
        default=False, help_text="Show what would be booked, and write nothing (as `?preview=1`)."
    )


class TermRolloverQuerySerializer(serializers.Serializer):
    # Empty (`?preview=`, as a form sends it) is the same as leaving it out.
    preview = serializers.BooleanField(required=False, allow_null=True, default=False)


class RolloverConflictSerializer(serializers.Serializer):
    on = serializers.DateField(allow_null=True, help_text="The week's local date; null: every week.")
    code = serializers.CharField(help_text="As `Error.code` would say it: `lesson_conflict`, `outside_availability`…")
    message = serializers.CharField()


class RolloverWeeklyLessonSerializer(serializers.Serializer):
    """A child's weekly lesson in the term: its weeks booked (or to book), or why none is."""

    id = serializers.IntegerField(source="weekly_lesson.pk")
    student = serializers.SerializerMethodField()
    teacher = serializers.SerializerMethodField()
    weekday = serializers.IntegerField(source="weekly_lesson.weekday", help_text="0 Monday … 6 Sunday.")
    start_time = serializers.TimeField(
        source="weekly_lesson.start_time", format="%H:%M", help_text="Local wall-clock time in the school's zone."
    )
    minutes = serializers.IntegerField(source="weekly_lesson.minutes")
    lessons = serializers.IntegerField(help_text="Its weeks to book (booked, unless it has conflicts).")
    first_day = serializers.DateField(allow_null=True)
    last_day = serializers.DateField(allow_null=True)
    conflicts = RolloverConflictSerializer(many=True, help_text="Why it is held back; empty when it is booked.")

    @extend_schema_field(PersonRefSerializer)
    def get_student(self, plan) -> dict:
        return {"id": plan.weekly_lesson.student_id, "name": str(plan.weekly_lesson.student)}

    @extend_schema_field(PersonRefSerializer)
    def get_teacher(self, plan) -> dict:
        return {"id": plan.weekly_lesson.teacher_id, "name": plan.weekly_lesson.teacher.user.get_full_name()}


class RolloverSerializer(serializers.Serializer):
    """A term's rollover: what it booked (or would book, in a preview), per weekly lesson."""

    term = serializers.IntegerField(source="term.pk")
    preview = serializers.BooleanField(help_text="True: nothing was written.")
    lessons = serializers.IntegerField(help_text="Lessons booked (or that would be).")
    children = serializers.IntegerField(help_text="Children with lessons booked (or that would be).")
    conflicts = serializers.SerializerMethodField(help_text="Weekly lessons held back, each for the owner to settle.")
    weekly_lessons = RolloverWeeklyLessonSerializer(source="plans", many=True)

    def get_conflicts(self, rollover) -> int:
        return len(rollover.conflicted)
