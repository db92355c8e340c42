"""`GET /api/v1/dashboard/`: the owner's numbers, the same as the admin's dashboard shows (the school's admins
only). Money in integer cents of `currency`; percentages as numbers (null when there is nothing to divide by)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cedarheights.dashboard import dashboard_figures, dashboard_metrics
from cedarheights.permissions import IsSchoolAdmin


class MonthAmountSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day.")
    cents = serializers.IntegerField()


class AgedAmountSerializer(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()
    cents = serializers.IntegerField()


class ReceivablesSerializer(serializers.Serializer):
    aged = AgedAmountSerializer(many=True, help_text="Failed payments not recovered, by age: 0–30, 31–60, over 60.")
    outstanding_cents = serializers.IntegerField()
    in_retry_count = serializers.IntegerField()
    in_retry_cents = serializers.IntegerField()


class StudentMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    active_students = serializers.IntegerField()
    active_at_start = serializers.IntegerField(help_text="Enrollments active on the month's first day.")
    withdrawals = serializers.IntegerField()
    churn_percent = serializers.FloatField(allow_null=True)


class RetentionSerializer(serializers.Serializer):
    active_a_year_ago = serializers.IntegerField()
    still_active = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)


class TeacherChurnSerializer(serializers.Serializer):
    teacher_id = serializers.IntegerField()
    teacher = serializers.CharField()
    enrolled = serializers.IntegerField()
    withdrawals = serializers.IntegerField()
    churn_percent = serializers.FloatField(allow_null=True)


class WeekUtilisationSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The week's Monday.")
    booked_minutes = serializers.IntegerField()
    available_minutes = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)


class TeacherUtilisationSerializer(serializers.Serializer):
    teacher_id = serializers.IntegerField()
    teacher = serializers.CharField()
    booked_minutes = serializers.IntegerField()
    available_minutes = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)


class UtilisationSerializer(serializers.Serializer):
    weeks = WeekUtilisationSerializer(many=True, help_text="Twelve weeks, oldest first; the last is this week.")
    teachers = TeacherUtilisationSerializer(many=True, help_text="This week, each active teacher.")


class WaitlistSerializer(serializers.Serializer):
    size = serializers.IntegerField()
    waits_counted = serializers.IntegerField()
    median_wait_days = serializers.FloatField(allow_null=True)


class DemoConversionSerializer(serializers.Serializer):
    demos = serializers.IntegerField()
    converted = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)


class MakeupLiabilitySerializer(serializers.Serializer):
    open_credits = serializers.IntegerField()
    expiring_soon = serializers.IntegerField()


class UnmarkedLessonsSerializer(serializers.Serializer):
    past = serializers.IntegerField()
    oldest_ended_at = serializers.DateTimeField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="When the numbers were computed (at most a minute ago).")
    currency = serializers.CharField()
    revenue_by_month = MonthAmountSerializer(many=True, help_text="Collected: payments less refunds, 12 months.")
    monthly_recurring_cents = serializers.IntegerField()
    receivables = ReceivablesSerializer()
    students_by_month = StudentMonthSerializer(many=True)
    retention = RetentionSerializer()
    churn_by_teacher = TeacherChurnSerializer(many=True)
    utilisation = UtilisationSerializer()
    waitlist = WaitlistSerializer()
    demos = DemoConversionSerializer()
    makeup = MakeupLiabilitySerializer()
    unmarked = UnmarkedLessonsSerializer()
    at_a_glance = serializers.DictField(
        child=serializers.IntegerField(), help_text="The live queues (never cached): the admin's 'at a glance'."
    )


class DashboardApi(APIView):
    """The owner's numbers: revenue, receivables, students, churn, retention, utilisation, waitlist, demos,
    make-ups, unmarked lessons."""

    permission_classes = [IsSchoolAdmin]

    @extend_schema(responses={200: DashboardSerializer})
    def get(self, request):
        board = dashboard_metrics()
        return Response(DashboardSerializer({**vars(board), "at_a_glance": dashboard_figures()}).data)
