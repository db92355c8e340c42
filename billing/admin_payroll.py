"""Payroll in the back office: teachers' pay rates (a list the owner edits, through the services), and pay periods:
the index of periods, each period's report (lines by teacher, a summary per teacher) with "Close period" and
"Download CSV". Registered by BillingConfig.ready()."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from billing.payroll.errors import LessonsUnmarked, PayPeriodNotClosable
from billing.payroll.models import PayPeriod, PayRate
from billing.payroll.report import pay_period_csv, pay_period_csv_name
from billing.payroll.selectors import pay_period_lines, pay_summary
from billing.payroll.services import (
    pay_period_close,
    pay_rate_create,
    pay_rate_delete,
    pay_rate_update,
)
from cedarheights.errors import DomainError
from cedarheights.models import AuditEvent
from cedarheights.money import format_cents
from cedarheights.services import audit_record
from cedarheights.validators import record_id


@admin.register(PayRate)
class PayRateAdmin(admin.ModelAdmin):
    """What each teacher earns, from a date: a new rate never rewrites lessons before its first day."""

    list_display = ["teacher", "kind", "lesson_minutes", "amount", "effective_from"]
    list_filter = ["kind", "teacher"]
    list_select_related = ["teacher__user"]
    search_fields = ["teacher__user__first_name", "teacher__user__last_name"]
    autocomplete_fields = ["teacher"]
    fields = ["teacher", "kind", "lesson_minutes", "amount_cents", "effective_from"]

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, rate: PayRate) -> str:
        per = "an hour" if rate.kind == PayRate.Kind.HOURLY else "a lesson"
        return f"{format_cents(rate.amount_cents, rate.currency)} {per}"

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in self.fields}
        if change:
            obj.pk = pay_rate_update(actor=request.user, pay_rate=obj, **fields).pk
        else:
            obj.pk = pay_rate_create(actor=request.user, **fields).pk

    def delete_model(self, request, obj):
        pay_rate_delete(actor=request.user, pay_rate=obj)

    def delete_queryset(self, request, queryset):
        for rate in queryset:
            pay_rate_delete(actor=request.user, pay_rate=rate)


@admin.register(PayPeriod)
class PayPeriodAdmin(admin.ModelAdmin):
    """The pay periods, newest first (made every hour as the days go by: billing.payroll.tasks); a period opens on
    its report."""

    list_display = ["__str__", "status", "closed_at", "closed_by", "report"]
    list_filter = ["status"]
    list_select_related = ["closed_by"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="")
    def report(self, period: PayPeriod) -> str:
        return format_html(
            '<a href="{}">Report</a> · <a href="{}">CSV</a>',
            reverse("admin:billing_payperiod_change", args=[period.pk]),
            reverse("admin:billing_payperiod_csv", args=[period.pk]),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<str:object_id>/close/", view(require_POST(self.close_view)), name="billing_payperiod_close"),
            path("<str:object_id>/csv/", view(self.csv_view), name="billing_payperiod_csv"),
            *super().get_urls(),
        ]

    def _period(self, request, object_id: str) -> PayPeriod:
        if not self.has_view_permission(request):
            raise PermissionDenied
        pk = record_id(object_id)
        period = PayPeriod.objects.filter(pk=pk).select_related("closed_by").first() if pk is not None else None
        if period is None:
            raise Http404("No such pay period.")
        return period

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The period's report: its lines by teacher (frozen once closed; as they stand while open) and a summary."""
        period = self._period(request, object_id)
        lines = pay_period_lines(period=period)
        summary = pay_summary(lines)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(period),
            "period": period,
            "lines": lines,
            "summary": summary,
            "total": format_cents(sum(pay.total_cents for pay in summary), lines[0].currency) if lines else "",
            "can_close": not period.is_closed and self.has_change_permission(request, period),
        }
        return render(request, "admin/billing/payroll/report.html", context)

    def close_view(self, request, object_id: str):
        period = self._period(request, object_id)
        if not self.has_change_permission(request, period):
            raise PermissionDenied
        try:
            pay_period_close(actor=request.user, period=period)
        except (LessonsUnmarked, PayPeriodNotClosable) as error:
            listed = "; ".join(error.lesson_lines())
            self.message_user(request, f"{error.message} {listed}".strip(), messages.ERROR)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, f"{period} is closed: its lines will not change.", messages.SUCCESS)
        return redirect("admin:billing_payperiod_change", period.pk)

    def csv_view(self, request, object_id: str):
        period = self._period(request, object_id)
        audit_record(actor=request.user, action=AuditEvent.Action.EXPORT, obj=period)
        response = HttpResponse(
            pay_period_csv(period=period, lines=pay_period_lines(period=period)), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{pay_period_csv_name(period)}"'
        return response
