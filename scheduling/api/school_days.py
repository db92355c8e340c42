"""The owner closes the school for a day (weather) through the API: `POST /api/v1/school-days/close/`, with a
preview that writes nothing (scheduling/closures.py)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cedarheights.permissions import IsSchoolAdmin
from cedarheights.serializers import Serializer, StrictCharField
from cedarheights.validators import no_control_characters
from scheduling.closures import DayClosing, school_day_close, school_day_close_preview


class SchoolDayCloseSerializer(Serializer):
    day = serializers.DateField(help_text="The day to close, in the school's zone (within a year of today).")
    reason = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        validators=[no_control_characters],
        help_text="Told to the families; needed to close, not to preview.",
    )
    preview = serializers.BooleanField(default=False, help_text="Only say what closing the day would touch.")


class ClosingLessonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start_at = serializers.DateTimeField()
    end_at = serializers.DateTimeField()
    student = serializers.CharField()
    teacher = serializers.CharField()
    family = serializers.IntegerField(source="student.family_id")


class ClosingFamilySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DayClosingSerializer(serializers.Serializer):
    day = serializers.DateField()
    preview = serializers.BooleanField()
    closure = serializers.IntegerField(
        source="closure.pk", allow_null=True, help_text="The whole-school closure of the day, once there is one."
    )
    lessons = ClosingLessonSerializer(
        many=True, help_text="The lessons still to come that day (preview), or those this call closed."
    )
    families = ClosingFamilySerializer(many=True, help_text="Their families: each emailed once when closed.")


class SchoolDayCloseApi(APIView):
    """Close the whole school for a day (the school's admins only): every lesson still to come that day ends
    `school_closed` with a make-up credit (never capped), each family is emailed once, nothing more is booked that
    day. Closing it again changes nothing (`lessons` and `families` empty). With `preview`, nothing is written."""

    permission_classes = [IsSchoolAdmin]

    @extend_schema(request=SchoolDayCloseSerializer, responses={200: DayClosingSerializer})
    def post(self, request):
        serializer = SchoolDayCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        day, reason, preview = (serializer.validated_data[name] for name in ("day", "reason", "preview"))
        if preview:
            closing = school_day_close_preview(day=day)
        else:
            closing = school_day_close(day=day, reason=reason, actor=request.user)
        return Response(DayClosingSerializer(_shown(closing, preview)).data)


def _shown(closing: DayClosing, preview: bool) -> dict:
    return {
        "day": closing.day,
        "preview": preview,
        "closure": closing.closure,
        "lessons": closing.lessons,
        "families": closing.families,
    }
