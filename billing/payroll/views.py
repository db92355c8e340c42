"""The teacher's pay page (`/teach/pay/`): their lines of a pay period (the current one unless they pick another)
and what it comes to. For teachers only, their own lines only: anyone else gets a 404."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from billing.payroll.selectors import pay_period_lines, pay_period_of_day, pay_periods_list, pay_summary
from cedarheights.roles import is_teacher
from cedarheights.selectors import school_today
from cedarheights.validators import record_id

PERIODS_SHOWN = 12  # about half a year of semi-monthly periods to pick from


@login_required
def teach_pay(request):
    if not is_teacher(request.user):
        raise Http404("These pages are for the school's teachers.")
    teacher = request.user.teacher
    periods = list(pay_periods_list().filter(start__lte=school_today())[:PERIODS_SHOWN])
    asked = record_id(request.GET.get("period", ""))
    period = next((p for p in periods if p.pk == asked), None) if asked else pay_period_of_day(day=school_today())
    lines = pay_period_lines(period=period, teacher=teacher) if period else []
    summary = pay_summary(lines)
    return render(
        request,
        "billing/payroll/teach_pay.html",
        {"periods": periods, "period": period, "lines": lines, "pay": summary[0] if summary else None},
    )
