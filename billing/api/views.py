from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.api.serializers import (
    LessonFeeSerializer,
    LessonFeeWaiveSerializer,
    SubscriptionSerializer,
    SubscriptionStartSerializer,
)
from billing.models import LessonFee
from billing.selectors import subscription_list_visible_to
from billing.services.lesson_fees import lesson_fee_waive
from billing.services.subscriptions import billing_start
from cedarheights.idempotency import idempotent
from cedarheights.permissions import IsSchoolAdmin, SchoolAdminOrParent
from cedarheights.viewsets import AuditedReadsMixin


class SubscriptionViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tuition subscriptions: admins see and start them; a parent sees their family's."""

    serializer_class = SubscriptionSerializer
    permission_classes = [SchoolAdminOrParent]
    filterset_fields = ["family", "status", "tuition_plan"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return subscription_list_visible_to(self.request.user)

    def get_permissions(self):
        return [IsSchoolAdmin()] if self.action == "create" else super().get_permissions()

    @extend_schema(request=SubscriptionStartSerializer, responses={202: SubscriptionSerializer})
    def create(self, request):
        """Start billing: the pipeline (customer, card, subscription) runs in the background; poll the result."""
        return idempotent(request, lambda: self._start(request))

    def _start(self, request) -> Response:
        serializer = SubscriptionStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = billing_start(**serializer.validated_data)
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_202_ACCEPTED)


class LessonFeeViewSet(AuditedReadsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """No-show and late-cancellation fees (the school's admins only): pending ones wait for review until
    `posts_at`, then post to the family's ledger; a fee is never charged to a card by itself."""

    serializer_class = LessonFeeSerializer
    permission_classes = [IsSchoolAdmin]
    queryset = LessonFee.objects.select_related("lesson__student").order_by("posts_at", "pk")
    filterset_fields = ["status", "kind", "family"]
    ordering_fields = ["posts_at", "created_at"]

    @extend_schema(request=LessonFeeWaiveSerializer, responses={200: LessonFeeSerializer})
    @action(detail=True, methods=["post"])
    def waive(self, request, pk=None):
        """Waive the fee with a note: a pending one never posts, a posted one is adjusted away on the ledger.
        Waiving it again changes nothing; a fee reversed by an outcome change is a 409 `fee_settled`."""
        serializer = LessonFeeWaiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fee = lesson_fee_waive(fee=self.get_object(), actor=request.user, **serializer.validated_data)
        return Response(LessonFeeSerializer(fee).data)
