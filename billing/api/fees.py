"""Registration and late fees in the API: the school's admins see every family's and waive them; a parent reads their
own family's (read-only)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.fee_selectors import family_fee_list_visible_to, fees_with_invoiced
from billing.fees import family_fee_waive
from billing.models import FamilyFee
from cedarheights.permissions import IsSchoolAdmin, SchoolAdminOrParent
from cedarheights.serializers import ModelSerializer, Serializer, StrictCharField
from cedarheights.validators import no_control_characters
from cedarheights.viewsets import AuditedReadsMixin


class FamilyFeeSerializer(ModelSerializer):
    label = serializers.CharField(read_only=True, help_text='What the family reads: "Registration fee 2026–2027".')
    invoiced = serializers.BooleanField(read_only=True, help_text="A Stripe invoice carried the fee already.")

    class Meta:
        model = FamilyFee
        fields = [
            "id",
            "family",
            "kind",
            "label",
            "academic_year",
            "payment",
            "amount_cents",
            "currency",
            "status",
            "invoiced",
            "note",
            "waived_at",
            "created_at",
        ]
        read_only_fields = fields


class FamilyFeeWaiveSerializer(Serializer):
    note = StrictCharField(max_length=200, validators=[no_control_characters], help_text="Why the fee is waived.")


class FamilyFeeViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Registration fees (once per family and school year) and late fees (once per invoice whose last payment retry
    failed). Each is on the family's ledger and on its next Stripe invoice."""

    serializer_class = FamilyFeeSerializer
    permission_classes = [SchoolAdminOrParent]
    filterset_fields = ["family", "kind", "status"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return family_fee_list_visible_to(self.request.user)

    def get_permissions(self):
        return [IsSchoolAdmin()] if self.action == "waive" else super().get_permissions()

    @extend_schema(request=FamilyFeeWaiveSerializer, responses={200: FamilyFeeSerializer})
    @action(detail=True, methods=["post"])
    def waive(self, request, pk=None):
        """Waive the fee with a note (the school's admins): the ledger goes back to before it, and the family's next
        Stripe invoice takes it off. Waiving it again changes nothing."""
        serializer = FamilyFeeWaiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fee = family_fee_waive(fee=self.get_object(), actor=request.user, **serializer.validated_data)
        return Response(FamilyFeeSerializer(fees_with_invoiced(FamilyFee.objects.filter(pk=fee.pk)).get()).data)
