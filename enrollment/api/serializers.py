from rest_framework import serializers

from cedarheights.serializers import (
    LocalTimeField,
    ModelCleanSerializer,
    ModelSerializer,
    Serializer,
    StrictCharField,
    StrictEmailField,
)
from cedarheights.validators import no_control_characters
from cedarheights.weekly import Weekday
from enrollment.models import Enrollment, TuitionPlan
from enrollment.selectors import tuition_plans_offered
from scheduling.models import Instrument, Student

STUDENT_FIELDS = [
    "id",
    "family",
    "first_name",
    "last_name",
    "date_of_birth",
    "instrument",
    "level",
    "teacher",
    "status",
]


class TuitionPlanSerializer(ModelCleanSerializer):
    price_display = serializers.CharField(read_only=True)

    class Meta:
        model = TuitionPlan
        fields = [
            "id",
            "name",
            "instrument",
            "lesson_minutes",
            "interval",
            "price_cents",
            "currency",
            "price_display",
            "description",
            "active",
        ]


class PublicPlanSerializer(TuitionPlanSerializer):
    instrument = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True, help_text="null: the plan fits every instrument."
    )

    class Meta(TuitionPlanSerializer.Meta):
        fields = [f for f in TuitionPlanSerializer.Meta.fields if f != "active"]
        read_only_fields = fields


class OfferedPlanField(serializers.PrimaryKeyRelatedField):
    """A tuition plan on offer (`tuition_plans_offered`): active and on Stripe."""

    default_error_messages = {
        "does_not_exist": "Choose one of the plans offered (an active plan on Stripe: run billing_sync_catalog).",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=tuition_plans_offered(), **kwargs)


class StudentAdminSerializer(ModelSerializer):
    class Meta:
        model = Student
        fields = [*STUDENT_FIELDS, "notes", "created_at"]
        read_only_fields = ["id", "created_at"]


class StudentParentSerializer(ModelSerializer):
    """A parent corrects a child's name or birth date; teacher, level, status and family are the school's."""

    class Meta:
        model = Student
        fields = [*STUDENT_FIELDS, "created_at"]
        read_only_fields = [f for f in fields if f not in {"first_name", "last_name", "date_of_birth"}]


class StudentTeacherSerializer(ModelSerializer):
    """What a teacher needs of a student: no family details."""

    class Meta:
        model = Student
        fields = [f for f in STUDENT_FIELDS if f != "family"]
        read_only_fields = fields


class ChildSerializer(Serializer):
    first_name = StrictCharField(max_length=100, validators=[no_control_characters])
    last_name = StrictCharField(max_length=100, validators=[no_control_characters])
    date_of_birth = serializers.DateField()
    instrument = serializers.PrimaryKeyRelatedField(queryset=Instrument.objects.filter(active=True))
    level = serializers.ChoiceField(choices=Student.Level.choices, default=Student.Level.BEGINNER)
    lesson_minutes = serializers.ChoiceField(choices=Enrollment.LessonMinutes.choices, default=30)
    photos = serializers.BooleanField(
        default=False, help_text="The guardian's opt-in to photos and recordings of this child's lessons."
    )


class WindowSerializer(Serializer):
    weekday = serializers.ChoiceField(choices=Weekday.choices)
    start_time = LocalTimeField()
    end_time = LocalTimeField()

    def validate(self, attrs):
        if attrs["end_time"] <= attrs["start_time"]:
            raise serializers.ValidationError({"end_time": ["The window must end after it starts."]})
        return attrs


class EnrollmentCreateSerializer(Serializer):
    """An online enrollment. A signed-in parent may leave out their own details: their family is used."""

    parent_first_name = StrictCharField(
        max_length=150, required=False, allow_blank=True, default="", validators=[no_control_characters]
    )
    parent_last_name = StrictCharField(
        max_length=150, required=False, allow_blank=True, default="", validators=[no_control_characters]
    )
    email = StrictEmailField(max_length=254, required=False, allow_blank=True, default="")
    phone = StrictCharField(
        max_length=32, required=False, allow_blank=True, default="", validators=[no_control_characters]
    )
    children = ChildSerializer(many=True, min_length=1, max_length=6)
    windows = WindowSerializer(many=True, min_length=1, max_length=14)
    tuition_plan = OfferedPlanField()
    consent = serializers.BooleanField(
        help_text="The guardian's agreement, for each child, to the privacy notice (/privacy/): its version and the "
        "words are recorded per child."
    )
    notice_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="The privacy notice version shown to the family; omitted: the current one.",
    )
    marketing = serializers.BooleanField(default=False, help_text="The parent's opt-in to the school's news email.")
    payment_method_id = StrictCharField(max_length=255, help_text="From Stripe.js's createPaymentMethod.")


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LessonTimeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


CHECK_YOUR_EMAIL = "Thank you! Check your email to continue: we wrote to the address you gave."


class EnrollmentReceivedSerializer(serializers.Serializer):
    """The answer to an enrollment by someone not signed in, the same whether or not the address has an account."""

    message = serializers.CharField()


class EnrollmentResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    student = PersonSerializer()
    status = serializers.ChoiceField(choices=Enrollment.Status.choices)
    teacher = PersonSerializer(allow_null=True)
    demo_lesson = LessonTimeSerializer(allow_null=True)

    def to_representation(self, enrollment: Enrollment):
        demo = enrollment.demo_lesson
        return super().to_representation(
            {
                "id": enrollment.pk,
                "status": enrollment.status,
                "student": {"id": enrollment.student_id, "name": str(enrollment.student)},
                "teacher": {"id": demo.teacher_id, "name": str(demo.teacher)} if demo else None,
                "demo_lesson": {"id": demo.pk, "start": demo.start_at, "end": demo.end_at} if demo else None,
            }
        )
