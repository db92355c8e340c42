from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from billing.api.serializers import SubscriptionSerializer, SubscriptionStartSerializer
from billing.selectors import subscription_list_visible_to
from billing.services.subscriptions import billing_start
from cedarheights.idempotency import idempotent
from cedarheights.permissions import IsSchoolAdmin, SchoolAdminOrParent


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
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
