from rest_framework import generics

from billing.api.serializers import PublicPlanSerializer, TuitionPlanSerializer
from billing.models import TuitionPlan
from scheduling.api.views import PublicApi, ReferenceViewSet


class TuitionPlanViewSet(ReferenceViewSet):
    queryset = TuitionPlan.objects.order_by("name")
    serializer_class = TuitionPlanSerializer
    filterset_fields = ["active", "instrument", "interval", "lesson_minutes"]
    search_fields = ["name"]
    ordering_fields = ["name", "price_cents"]


class PublicPricingApi(PublicApi, generics.ListAPIView):
    """The tuition plans on offer."""

    serializer_class = PublicPlanSerializer
    queryset = TuitionPlan.objects.filter(active=True).select_related("instrument").order_by("price_cents", "name")
    filterset_fields = ["instrument", "interval", "lesson_minutes"]
    ordering_fields = ["price_cents", "name"]
