"""Payroll's background work (django-q2, the ORM broker): the pay periods made as the days go by, every hour, so
the owner's list and the teachers' pages always hold the current period (migration 0014_payroll schedules it)."""

from billing.payroll.services import pay_periods_generate


def pay_periods_make() -> int:
    return len(pay_periods_generate())
