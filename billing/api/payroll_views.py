"""Payroll's API. The school's admins: pay rates (read and write), pay periods (made as needed when listed), a
period's summary and lines, closing it (409 `lessons_unmarked` listing the lessons without an outcome, 409
`pay_period_not_closable`). A teacher: their own lines of a period (`GET teach/pay/`)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.api.payroll_serializers import (
    PayLineSerializer,
    PayPeriodCloseSerializer,
    PayPeriodDetailSerializer,
    PayPeriodSerializer,
    PayRateSerializer,
    TeachPayQuerySerializer,
)
from billing.payroll.models import PayPeriod, PayRate
from billing.payroll.selectors import pay_period_lines, pay_period_of_day, pay_periods_list, pay_summary
from billing.payroll.services import (
    pay_period_close,
    pay_rate_create,
    pay_rate_delete,
    pay_rate_update,
)
from cedarheights.idempotency import IdempotentCreateMixin
from cedarheights.permissions import IsSchoolAdmin, SchoolAdminOrTeacher
from cedarheights.roles import is_school_admin
from cedarheights.selectors import school_today
from scheduling.models import Teacher


class PayRateViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Teachers' pay rates: fixed per lesson of a length (`lesson_minutes`) or hourly (prorated by the minutes), from
    `effective_from`. A lesson is paid at the rate in force on its local date; lines of closed periods never change."""

    permission_classes = [IsSchoolAdmin]
    serializer_class = PayRateSerializer
    queryset = PayRate.objects.select_related("teacher__user").order_by("teacher_id", "kind", "-effective_from", "pk")
    filterset_fields = ["teacher", "kind"]
    ordering_fields = ["effective_from"]

    def perform_create(self, serializer):
        serializer.instance = pay_rate_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = pay_rate_update(
            actor=self.request.user, pay_rate=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        pay_rate_delete(actor=self.request.user, pay_rate=instance)


class PayPeriodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pay periods, newest first: each with its summary per teacher; its lines; closing it."""

    permission_classes = [IsSchoolAdmin]
    serializer_class = PayPeriodSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        return pay_periods_list()

    @extend_schema(responses=PayPeriodDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        period = self.get_object()
        period.summary = pay_summary(pay_period_lines(period=period))
        return Response(PayPeriodDetailSerializer(period).data)

    @extend_schema(responses=PayLineSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def lines(self, request, pk=None):
        """The period's lines by teacher and date: stored once closed, as they stand while open (no `id` yet)."""
        lines = pay_period_lines(period=self.get_object())
        page = self.paginate_queryset(lines)
        return self.get_paginated_response(PayLineSerializer(page, many=True).data)

    @extend_schema(request=PayPeriodCloseSerializer, responses=PayPeriodDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the period (it has ended, and the earlier ones are closed): its lines are frozen. Refused while a
        lesson of it has no outcome (409 `lessons_unmarked`, the lessons in `lessons`). Closing again changes
        nothing."""
        PayPeriodCloseSerializer(data=request.data).is_valid(raise_exception=True)
        period = pay_period_close(actor=request.user, period=self.get_object())
        period.summary = pay_summary(pay_period_lines(period=period))
        return Response(PayPeriodDetailSerializer(period).data)


class TeachPayApi(generics.ListAPIView):
    """A teacher's own lines of a pay period (default the current one); the school's admins get every teacher's, or
    one's with `teacher`."""

    permission_classes = [SchoolAdminOrTeacher]
    serializer_class = PayLineSerializer
    filter_backends = []

    def get_queryset(self):
        given = {name: value for name, value in self.request.query_params.items() if value != ""}
        query = TeachPayQuerySerializer(data=given)
        query.is_valid(raise_exception=True)
        if "period" in query.validated_data:
            period = get_object_or_404(PayPeriod, pk=query.validated_data["period"])
        else:
            period = pay_period_of_day(day=school_today())
        if period is None:
            return []
        teacher = self.request.user.teacher if not is_school_admin(self.request.user) else None
        if teacher is None and "teacher" in query.validated_data:
            teacher = get_object_or_404(Teacher, pk=query.validated_data["teacher"])
        return pay_period_lines(period=period, teacher=teacher)

    @extend_schema(parameters=[TeachPayQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
