"""Payroll's API shapes: pay rates (the owner writes them), pay periods with their summary, pay lines."""

from rest_framework import serializers

from billing.payroll.models import PayLine, PayPeriod, PayRate
from cedarheights.serializers import ModelCleanSerializer, ModelSerializer, Serializer

# Ids as the database holds them (bigint): a larger number is a 400, not a database error.
ID_RANGE = {"min_value": 1, "max_value": 2**63 - 1}


class PayRateSerializer(ModelCleanSerializer):
    class Meta:
        model = PayRate
        fields = ["id", "teacher", "kind", "lesson_minutes", "amount_cents", "currency", "effective_from", "created_at"]
        read_only_fields = ["id", "currency", "created_at"]
        extra_kwargs = {"amount_cents": {"max_value": 10_000_000}}  # $100,000 a lesson or an hour: a slipped finger


class PayLineSerializer(ModelSerializer):
    id = serializers.IntegerField(read_only=True, allow_null=True, help_text="Empty while the period is open.")
    teacher_name = serializers.CharField(source="teacher", read_only=True)
    student_name = serializers.CharField(source="student", read_only=True)
    rate_missing = serializers.BooleanField(read_only=True)

    class Meta:
        model = PayLine
        fields = [
            "id",
            "period",
            "kind",
            "teacher",
            "teacher_name",
            "lesson",
            "date",
            "student",
            "student_name",
            "minutes",
            "outcome",
            "paid",
            "rate_kind",
            "rate_cents",
            "rate_missing",
            "amount_cents",
            "currency",
        ]
        read_only_fields = fields


class TeacherPaySerializer(Serializer):
    teacher = serializers.IntegerField(source="teacher.pk", read_only=True)
    teacher_name = serializers.CharField(source="teacher", read_only=True)
    lessons = serializers.IntegerField(read_only=True)
    minutes = serializers.IntegerField(read_only=True)
    regular_cents = serializers.IntegerField(read_only=True)
    adjustment_cents = serializers.IntegerField(read_only=True)
    total_cents = serializers.IntegerField(read_only=True)
    currency = serializers.CharField(read_only=True)


class PayPeriodSerializer(ModelSerializer):
    class Meta:
        model = PayPeriod
        fields = ["id", "start", "end", "status", "closed_at", "closed_by"]
        read_only_fields = fields


class PayPeriodDetailSerializer(PayPeriodSerializer):
    summary = TeacherPaySerializer(many=True, read_only=True, help_text="Per teacher: frozen once closed.")

    class Meta(PayPeriodSerializer.Meta):
        fields = [*PayPeriodSerializer.Meta.fields, "summary"]
        read_only_fields = fields


class PayPeriodCloseSerializer(Serializer):
    """Closing takes no input: any key is refused by name."""


class TeachPayQuerySerializer(Serializer):
    period = serializers.IntegerField(
        required=False, help_text="A pay period's id; default the current one.", **ID_RANGE
    )
    teacher = serializers.IntegerField(
        required=False, help_text="The school only: one teacher's lines (default every teacher's).", **ID_RANGE
    )
