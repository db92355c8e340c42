from rest_framework import serializers

from accounts.models import Family
from billing.models import BillingProfile, TuitionPlan, TuitionSubscription
from billing.selectors import tuition_plans_offered
from cedarheights.api import ModelCleanSerializer, ModelSerializer, Serializer, StrictCharField


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


class OfferedPlanField(serializers.PrimaryKeyRelatedField):
    """A tuition plan on offer (`tuition_plans_offered`): active and on Stripe."""

    default_error_messages = {
        "does_not_exist": "Choose one of the plans offered (an active plan on Stripe: run billing_sync_catalog).",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=tuition_plans_offered(), **kwargs)


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

    def validate(self, attrs):
        has_card = BillingProfile.objects.filter(family=attrs["family"]).exclude(default_payment_method_id="").exists()
        if not has_card and not attrs.get("payment_method_id"):
            raise serializers.ValidationError({"payment_method_id": ["The family has no card on file."]})
        return attrs
