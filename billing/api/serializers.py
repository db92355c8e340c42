from rest_framework import serializers

from accounts.models import Family
from billing.models import LessonFee, TuitionSubscription
from cedarheights.serializers import ModelSerializer, Serializer, StrictCharField
from cedarheights.validators import no_control_characters
from enrollment.api.serializers import OfferedPlanField


class SubscriptionSerializer(ModelSerializer):
    class Meta:
        model = TuitionSubscription
        fields = [
            "id",
            "family",
            "tuition_plan",
            "enrollment",
            "status",
            "starts_at",
            "current_period_end",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionStartSerializer(Serializer):
    family = serializers.PrimaryKeyRelatedField(queryset=Family.objects.all())
    tuition_plan = OfferedPlanField()
    starts_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="The first regular lesson; billing starts then, prorated."
    )
    payment_method_id = StrictCharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="A Stripe payment method; the card on file when empty.",
    )


class LessonFeeSerializer(ModelSerializer):
    student = serializers.CharField(source="lesson.student", read_only=True)
    lesson_start_at = serializers.DateTimeField(source="lesson.start_at", read_only=True)

    class Meta:
        model = LessonFee
        fields = [
            "id",
            "lesson",
            "lesson_start_at",
            "student",
            "family",
            "kind",
            "amount_cents",
            "currency",
            "status",
            "posts_at",
            "ledger_entry",
            "note",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class LessonFeeWaiveSerializer(Serializer):
    note = StrictCharField(max_length=200, validators=[no_control_characters], help_text="Why the fee is waived.")
