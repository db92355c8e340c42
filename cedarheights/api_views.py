from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cedarheights.models import (
    CANCELLATION_POLICIES,
    FEE_POLICIES,
    PAYROLL_SETTINGS,
    PRIVACY_SETTINGS,
    REMINDER_SETTINGS,
    TUITION_SETTINGS,
    SchoolSettings,
)
from cedarheights.permissions import IsSchoolAdmin
from cedarheights.selectors import school_settings_get
from cedarheights.serializers import ModelCleanSerializer
from cedarheights.services import school_settings_update


class SchoolSettingsSerializer(ModelCleanSerializer):
    class Meta:
        model = SchoolSettings
        fields = [
            "name",
            "contact_email",
            "time_zone",
            "minimum_age_years",
            "demo_lesson_minutes",
            "minimum_notice_hours",
            "booking_horizon_days",
            "buffer_minutes",
            "slot_step_minutes",
            *CANCELLATION_POLICIES,
            *FEE_POLICIES,
            *REMINDER_SETTINGS,
            *TUITION_SETTINGS,
            *PAYROLL_SETTINGS,
            *PRIVACY_SETTINGS,
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class SchoolSettingsApi(APIView):
    """The school's settings (admins only)."""

    permission_classes = [IsSchoolAdmin]

    @extend_schema(responses={200: SchoolSettingsSerializer})
    def get(self, request):
        return Response(SchoolSettingsSerializer(school_settings_get()).data)

    @extend_schema(request=SchoolSettingsSerializer, responses={200: SchoolSettingsSerializer})
    def patch(self, request):
        serializer = SchoolSettingsSerializer(school_settings_get(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = school_settings_update(school_settings=serializer.instance, **serializer.validated_data)
        return Response(SchoolSettingsSerializer(updated).data)
