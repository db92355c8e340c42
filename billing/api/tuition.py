"""Tuition's discounts in the API, for the school's admins only: each family's own discount (family or staff), the
promotion codes, and a code applied to a family or one of its enrollments. Each goes through the service the admin
uses (checked, audited), and the family's Stripe subscription items follow once it commits."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Family
from billing.models import FamilyDiscount, PromotionCode, PromotionRedemption
from billing.services.tuition_discounts import (
    PROMOTION_CODE_CHANGEABLE,
    family_discount_remove,
    family_discount_set,
    promotion_code_apply,
    promotion_code_create,
    promotion_code_update,
)
from cedarheights.permissions import IsSchoolAdmin
from cedarheights.serializers import ModelCleanSerializer, ModelSerializer, Serializer
from enrollment.models import Enrollment


class FamilyDiscountSerializer(ModelCleanSerializer):
    class Meta:
        model = FamilyDiscount
        fields = ["id", "family", "kind", "percent", "note", "created_at"]
        read_only_fields = ["id", "created_at"]


class FamilyDiscountChangeSerializer(FamilyDiscountSerializer):
    """A family's discount changed: its kind, percent and note (the family stays)."""

    class Meta(FamilyDiscountSerializer.Meta):
        read_only_fields = ["id", "family", "created_at"]


class FamilyDiscountViewSet(viewsets.ModelViewSet):
    """Each family's own discount (one per family: a family or a staff discount), a percent off what the
    multi-lesson and sibling discounts left, from the family's next invoice."""

    permission_classes = [IsSchoolAdmin]
    queryset = FamilyDiscount.objects.select_related("family").order_by("pk")
    filterset_fields = ["family", "kind"]
    ordering_fields = ["created_at", "percent"]

    def get_serializer_class(self):
        changing = self.action in {"update", "partial_update"}
        return FamilyDiscountChangeSerializer if changing else FamilyDiscountSerializer

    def perform_create(self, serializer):
        serializer.instance = family_discount_set(actor=self.request.user, **self._terms(serializer))

    def perform_update(self, serializer):
        terms = self._terms(serializer)
        serializer.instance = family_discount_set(actor=self.request.user, family=serializer.instance.family, **terms)

    def perform_destroy(self, instance):
        family_discount_remove(discount=instance, actor=self.request.user)

    def _terms(self, serializer) -> dict:
        current = serializer.instance
        data = serializer.validated_data
        terms = {name: data.get(name, getattr(current, name, "")) for name in ("kind", "percent", "note")}
        return ({"family": data["family"]} if "family" in data else {}) | terms


class PromotionCodeSerializer(ModelCleanSerializer):
    terms = serializers.CharField(read_only=True, help_text='What it takes off, e.g. "10 % off for 3 months".')
    redeemed = serializers.IntegerField(read_only=True, source="redemptions.count", help_text="Families using it.")

    class Meta:
        model = PromotionCode
        fields = [
            "id",
            "code",
            "percent_off",
            "amount_off_cents",
            "currency",
            "duration",
            "duration_months",
            "valid_until",
            "max_redemptions",
            "active",
            "terms",
            "redeemed",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class PromotionCodeChangeSerializer(PromotionCodeSerializer):
    """A code's offer changed: whether it is offered, its last day, how often it may be used. What it takes off is
    fixed (its Stripe coupon is)."""

    class Meta(PromotionCodeSerializer.Meta):
        read_only_fields = [
            name for name in PromotionCodeSerializer.Meta.fields if name not in PROMOTION_CODE_CHANGEABLE
        ]


class PromotionApplySerializer(Serializer):
    family = serializers.PrimaryKeyRelatedField(queryset=Family.objects.all())
    enrollment = serializers.PrimaryKeyRelatedField(
        queryset=Enrollment.objects.select_related("student"),
        required=False,
        allow_null=True,
        help_text="Only this enrollment of the family's (empty: a percent on each, an amount on the dearest).",
    )


class PromotionRedemptionSerializer(ModelSerializer):
    code = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = PromotionRedemption
        fields = ["id", "code", "family", "enrollment", "first_month", "applied_by", "created_at"]
        read_only_fields = fields


class PromotionCodeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Promotion codes: a percent or an amount off, for one month, some months or every month; a last day and a
    most-used count. Stop offering one with `active: false` (a code in use is never deleted)."""

    permission_classes = [IsSchoolAdmin]
    queryset = PromotionCode.objects.prefetch_related("redemptions").order_by("code")
    filterset_fields = ["active", "duration"]
    ordering_fields = ["code", "created_at", "valid_until"]

    def get_serializer_class(self):
        changing = self.action in {"update", "partial_update"}
        return PromotionCodeChangeSerializer if changing else PromotionCodeSerializer

    def perform_create(self, serializer):
        serializer.instance = promotion_code_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = promotion_code_update(
            code=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=PromotionApplySerializer, responses={201: PromotionRedemptionSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Apply the code to a family (or one of its enrollments) from its next invoiced month: refused with a 400
        `promotion_code_refused` when it is no longer offered, past its last day, used up, or already the family's."""
        code = self.get_object()
        serializer = PromotionApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        redemption = promotion_code_apply(code=code, actor=request.user, **serializer.validated_data)
        return Response(PromotionRedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)
