"""A pay period's report as CSV: one row per line (teacher, date, student, minutes, outcome, rate type, rate,
amount, kind), then a summary row per teacher. Amounts in dollars with cents, as a spreadsheet reads them."""

import csv
import io

from billing.payroll.models import PayLine, PayPeriod
from billing.payroll.selectors import pay_summary
from scheduling.outcomes import Outcome

LINE_HEADER = ["teacher", "date", "student", "minutes", "outcome", "rate type", "rate", "amount", "line"]
SUMMARY_HEADER = ["teacher", "lessons", "minutes", "lessons amount", "adjustments", "total", "currency"]


def dollars(cents: int | None) -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def pay_period_csv(*, period: PayPeriod, lines: list[PayLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LINE_HEADER)
    for line in lines:
        writer.writerow(
            [
                str(line.teacher),
                line.date.isoformat(),
                str(line.student),
                line.minutes,
                Outcome(line.outcome).label if line.outcome else "Still to come",
                line.get_rate_kind_display() if line.rate_kind else "",
                dollars(line.rate_cents),
                dollars(line.amount_cents),
                line.get_kind_display(),
            ]
        )
    writer.writerow([])
    writer.writerow(SUMMARY_HEADER)
    for pay in pay_summary(lines):
        writer.writerow(
            [
                str(pay.teacher),
                pay.lessons,
                pay.minutes,
                dollars(pay.regular_cents),
                dollars(pay.adjustment_cents),
                dollars(pay.total_cents),
                pay.currency.upper(),
            ]
        )
    return out.getvalue()


def pay_period_csv_name(period: PayPeriod) -> str:
    return f"payroll-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
