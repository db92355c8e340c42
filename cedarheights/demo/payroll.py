"""The demo school's payroll (issue 17 §2), told through the payroll services: every teacher has a rate (Marco
Bellini hourly, the others fixed per lesson length; Priya Raman got a raise a month ago), the past pay periods
are closed in order up to the first one still waiting for attendance (Amelia Hart has not marked her last week),
the current period's lines stand open, and one correction after closing (a lesson the family had in fact cancelled
with notice) is an adjustment in the next period. Each part looks for what it made first, so seeding again changes
nothing."""

from dataclasses import dataclass
from datetime import date, timedelta

from billing.payroll.models import PayLine, PayPeriod
from billing.payroll.selectors import pay_lines_compute, pay_period_earliest_open
from billing.payroll.services import pay_period_close, pay_periods_generate, pay_rate_create
from cedarheights.errors import DomainError
from scheduling.models import Lesson, Teacher
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set


@dataclass(frozen=True)
class DemoRate:
    email: str
    kind: str
    cents: int
    minutes: int | None = None
    weeks_ago: int = 66  # from over fourteen months ago: every demo lesson, the year of history too, is paid


RATES = (
    DemoRate("amelia.hart@cedarheights.test", "fixed", 2800, 30),
    DemoRate("amelia.hart@cedarheights.test", "fixed", 4000, 45),
    DemoRate("amelia.hart@cedarheights.test", "fixed", 5200, 60),
    DemoRate("marco.bellini@cedarheights.test", "hourly", 4500),
    DemoRate("priya.raman@cedarheights.test", "fixed", 2700, 30),
    DemoRate("priya.raman@cedarheights.test", "fixed", 3900, 45),
    DemoRate("priya.raman@cedarheights.test", "fixed", 5000, 60),
    # Priya's raise, from four weeks ago: her lessons before it keep the old rates.
    DemoRate("priya.raman@cedarheights.test", "fixed", 3000, 30, weeks_ago=4),
    DemoRate("priya.raman@cedarheights.test", "fixed", 4300, 45, weeks_ago=4),
    DemoRate("priya.raman@cedarheights.test", "fixed", 5500, 60, weeks_ago=4),
    DemoRate("dev.okafor@cedarheights.test", "fixed", 3000, 30),
    DemoRate("dev.okafor@cedarheights.test", "fixed", 4200, 45),
    DemoRate("dev.okafor@cedarheights.test", "fixed", 5400, 60),
)
CORRECTED_TEACHER = "dev.okafor@cedarheights.test"


def pay_rates_give(*, today: date) -> None:
    """The teachers' rates, once: a teacher who has any keeps theirs (the owner may have changed them)."""
    teachers = {teacher.user.email: teacher for teacher in Teacher.objects.filter(pay_rates__isnull=True)}
    for rate in RATES:
        if (teacher := teachers.get(rate.email)) is not None:
            pay_rate_create(
                actor=None,
                teacher=teacher,
                kind=rate.kind,
                lesson_minutes=rate.minutes,
                amount_cents=rate.cents,
                effective_from=today - timedelta(weeks=rate.weeks_ago),
            )


def past_periods_close() -> None:
    """Close the periods that have ended, oldest first, until one still has lessons to mark."""
    pay_periods_generate()
    for period in PayPeriod.objects.filter(status=PayPeriod.Status.OPEN).order_by("start"):
        try:
            pay_period_close(actor=None, period=period)
        except DomainError:
            return


def correction_after_close() -> None:
    """The owner learns that a lesson of the last closed period was in fact cancelled with notice: it was paid, so
    the next period takes it back. Once: not when an adjustment exists already."""
    if PayLine.objects.filter(kind=PayLine.Kind.ADJUSTMENT).exists():
        return
    upcoming = pay_period_earliest_open()
    if upcoming is None or any(line.kind == PayLine.Kind.ADJUSTMENT for line in pay_lines_compute(period=upcoming)):
        return
    last_closed = PayPeriod.objects.filter(status=PayPeriod.Status.CLOSED).order_by("-start").first()
    if last_closed is None:
        return
    line = (
        PayLine.objects.filter(period=last_closed, teacher__user__email=CORRECTED_TEACHER, outcome=Outcome.ATTENDED)
        .select_related("lesson")
        .order_by("date", "pk")
        .first()
    )
    if line is not None:
        lesson = Lesson.objects.get(pk=line.lesson_id)
        lesson_outcome_set(
            lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None, reason="Family had called ahead"
        )


def payroll_tell(*, today: date) -> None:
    pay_rates_give(today=today)
    past_periods_close()
    correction_after_close()
