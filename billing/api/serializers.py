from rest_framework import serializers

from billing.models import TuitionPlan
from cedarheights.api import ModelCleanSerializer


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
    instrument = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta(TuitionPlanSerializer.Meta):
        fields = [f for f in TuitionPlanSerializer.Meta.fields if f != "active"]
        read_only_fields = fields
