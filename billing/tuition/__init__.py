"""Tuition's money: what each enrollment owes each month as lines (base, then discounts), and how Stripe's invoices
are made to say the same (billing.tuition.stripe_sync)."""

from billing.tuition.bill import EnrollmentMonth, FamilyMonthBill, enrollment_monthly_cents, month_bill
from billing.tuition.lines import MoneyLine

__all__ = ["EnrollmentMonth", "FamilyMonthBill", "MoneyLine", "enrollment_monthly_cents", "month_bill"]
