"""The owner's dashboard on the admin index: each app answers for its own figures (its `selectors` for the live
queues, its `metrics` for the numbers over months), and the wiring gathers them, draws them (`cedarheights.charts`)
and serves the same to the API (`cedarheights.api_dashboard`)."""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.selectors import privacy_request_figures
from billing.metrics import (
    MonthAmount,
    Receivables,
    monthly_recurring_revenue_from_plans,
    receivables_aged,
    revenue_collected_by_month,
)
from billing.selectors import lesson_fee_figures, payment_trouble_figures
from cedarheights.charts import Bar, bar_chart, column_chart
from cedarheights.money import default_currency, format_cents
from cedarheights.periods import Period, day_period, months_back, weeks_back, year_before
from cedarheights.selectors import school_settings_get
from enrollment.metrics import (
    DemoConversion,
    MakeupLiability,
    Retention,
    StudentMonth,
    TeacherChurn,
    Waitlist,
    churn_by_teacher,
    demo_conversion,
    makeup_liability,
    retention_over_a_year,
    students_by_month,
    waitlist_waits,
)
from enrollment.selectors import enrollment_queue_figures, makeup_credit_figures
from scheduling.metrics import SchoolUtilisation, UnmarkedLessons, lessons_unmarked_count, teacher_utilisation
from scheduling.selectors import lesson_week_owner_figures, school_week_figures

DASHBOARD_FIGURES = (
    school_week_figures,
    lesson_week_owner_figures,
    enrollment_queue_figures,
    makeup_credit_figures,
    payment_trouble_figures,
    lesson_fee_figures,
    privacy_request_figures,
)


def dashboard_figures() -> dict[str, int]:
    """The live queues at a glance (what waits for the owner now): never cached."""
    return {name: value for figures in DASHBOARD_FIGURES for name, value in figures().items()}


MONTHS = 12
WEEKS = 12
# The numbers over months move by the day, not the second: computed at most once a minute per worker process, and
# the page and the API say when ("as_of"). The live queues above are never cached.
METRICS_CACHE_KEY = "cedarheights:dashboard-metrics"
METRICS_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Dashboard:
    as_of: datetime
    currency: str
    revenue_by_month: list[MonthAmount]
    monthly_recurring_cents: int
    receivables: Receivables
    students_by_month: list[StudentMonth]
    retention: Retention
    churn_by_teacher: list[TeacherChurn]
    utilisation: SchoolUtilisation
    waitlist: Waitlist
    demos: DemoConversion
    makeup: MakeupLiability
    unmarked: UnmarkedLessons


def dashboard_metrics() -> Dashboard:
    """The owner's numbers, as of at most a minute ago (METRICS_CACHE_SECONDS)."""
    if (found := cache.get(METRICS_CACHE_KEY)) is not None:
        return found
    found = dashboard_metrics_compute(now=timezone.now())
    cache.set(METRICS_CACHE_KEY, found, METRICS_CACHE_SECONDS)
    return found


def dashboard_metrics_compute(*, now: datetime) -> Dashboard:
    """Every figure, each from the selector of the app that owns its rows: a fixed number of queries (13)."""
    zone = school_settings_get().zone
    today = timezone.localtime(now, zone).date()
    months = months_back(today=today, count=MONTHS, zone=zone)
    year = Period(months[0].first, months[-1].after, zone)
    return Dashboard(
        as_of=now,
        currency=default_currency(),
        revenue_by_month=revenue_collected_by_month(months=months),
        monthly_recurring_cents=monthly_recurring_revenue_from_plans(),
        receivables=receivables_aged(today=today),
        students_by_month=students_by_month(months=months),
        retention=retention_over_a_year(then=day_period(year_before(today), zone), now=day_period(today, zone)),
        churn_by_teacher=churn_by_teacher(period=year),
        utilisation=teacher_utilisation(weeks=weeks_back(today=today, count=WEEKS, zone=zone)),
        waitlist=waitlist_waits(since=year.start_at, now=now),
        demos=demo_conversion(since=year.start_at, now=now),
        makeup=makeup_liability(today=today),
        unmarked=lessons_unmarked_count(now=now),
    )


@dataclass(frozen=True)
class Tile:
    """One key figure, large, with what it means under it."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart and the table of its numbers (the same rows)."""

    slug: str
    title: str
    note: str
    svg: SafeString
    head: list[str]
    rows: list[list[str]]


def _money(cents: int, currency: str) -> str:
    return format_cents(cents, currency)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:g} %"


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f} h"


def _month_name(day: date) -> str:
    return f"{day:%B %Y}"


def _month_bar(day: date, value: float, text: str) -> Bar:
    return Bar(label=f"{day:%b}", value=value, text=text, name=_month_name(day))


def dashboard_tiles(board: Dashboard) -> list[Tile]:
    money = board.currency
    this_month = board.revenue_by_month[-1]
    waits = board.waitlist
    return [
        Tile("Monthly recurring revenue", _money(board.monthly_recurring_cents, money), "active tuition subscriptions"),
        Tile("Collected this month", _money(this_month.cents, money), "payments less refunds, so far"),
        Tile(
            "Payments in retry",
            str(board.receivables.in_retry_count),
            _money(board.receivables.in_retry_cents, money) + " Stripe is retrying",
        ),
        Tile(
            "12-month retention",
            _percent(board.retention.percent),
            f"{board.retention.still_active} of {board.retention.active_a_year_ago} students still here",
        ),
        Tile(
            "Waitlist",
            str(waits.size),
            "median wait " + ("–" if waits.median_wait_days is None else f"{waits.median_wait_days:g} days"),
        ),
        Tile(
            "Demo → enrolled",
            _percent(board.demos.percent),
            f"{board.demos.converted} of {board.demos.demos} demos in 12 months, within 30 days",
        ),
        Tile(
            "Make-up lessons owed",
            str(board.makeup.open_credits),
            f"{board.makeup.expiring_soon} expiring in 14 days",
        ),
        Tile("Unmarked lessons", str(board.unmarked.past), "past lessons without an outcome"),
    ]


def dashboard_charts(board: Dashboard) -> list[Chart]:
    money = board.currency
    revenue = [_month_bar(m.month, m.cents, _money(m.cents, money)) for m in board.revenue_by_month]
    students = board.students_by_month
    weeks = board.utilisation.weeks
    aged = board.receivables.aged
    teachers = board.utilisation.teachers
    churners = board.churn_by_teacher
    return [
        Chart(
            slug="revenue",
            title="Collected revenue per month",
            note=f"Payments that succeeded less what was refunded of them, by the month they were paid. "
            f"Monthly recurring revenue: {_money(board.monthly_recurring_cents, money)}.",
            svg=column_chart(title="Collected revenue per month", bars=revenue, highlight_last=True),
            head=["Month", "Collected"],
            rows=[[bar.name, bar.text] for bar in revenue],
        ),
        Chart(
            slug="students",
            title="Active students per month",
            note="Students with an enrollment active at some time in the month.",
            svg=column_chart(
                title="Active students per month",
                bars=[_month_bar(m.month, m.active_students, str(m.active_students)) for m in students],
            ),
            head=["Month", "Active students"],
            rows=[[_month_name(m.month), str(m.active_students)] for m in students],
        ),
        Chart(
            slug="churn",
            title="Monthly churn",
            note="Enrollments that ended in the month (a withdrawal's last lesson, a cancellation) ÷ those active "
            "on its first day.",
            svg=column_chart(
                title="Monthly churn",
                bars=[_month_bar(m.month, m.churn_percent or 0, _percent(m.churn_percent)) for m in students],
                highlight_last=True,
            ),
            head=["Month", "Active at start", "Withdrawals", "Churn"],
            rows=[
                [_month_name(m.month), str(m.active_at_start), str(m.withdrawals), _percent(m.churn_percent)]
                for m in students
            ],
        ),
        Chart(
            slug="receivables",
            title="Outstanding balances by age",
            note=f"Failed payments not yet recovered, by the day they were charged: "
            f"{_money(board.receivables.outstanding_cents, money)} in all; "
            f"{board.receivables.in_retry_count} of them ({_money(board.receivables.in_retry_cents, money)}) "
            "still being retried.",
            svg=bar_chart(
                title="Outstanding balances by age",
                bars=[Bar(a.label, a.cents, _money(a.cents, money)) for a in aged],
            ),
            head=["Age", "Payments", "Amount"],
            rows=[[a.label, str(a.count), _money(a.cents, money)] for a in aged],
        ),
        Chart(
            slug="utilisation",
            title="Teacher utilisation per week",
            note="Minutes booked (lessons not cancelled) ÷ minutes available (weekly hours, closures left out), "
            "all active teachers.",
            svg=column_chart(
                title="Teacher utilisation per week",
                bars=[
                    Bar(f"{w.week:%-d %b}", w.percent or 0, _percent(w.percent), f"week of {w.week:%-d %B %Y}")
                    for w in weeks
                ],
                highlight_last=True,
            ),
            head=["Week of", "Booked", "Available", "Utilisation"],
            rows=[
                [f"{w.week:%-d %B %Y}", _hours(w.booked_minutes), _hours(w.available_minutes), _percent(w.percent)]
                for w in weeks
            ],
        ),
        Chart(
            slug="utilisation-teachers",
            title="Utilisation by teacher, this week",
            note="Booked ÷ available minutes this week (make-ups outside their hours can pass 100 %).",
            svg=bar_chart(
                title="Utilisation by teacher, this week",
                bars=[Bar(t.teacher, t.percent or 0, _percent(t.percent)) for t in teachers],
            ),
            head=["Teacher", "Booked", "Available", "Utilisation"],
            rows=[
                [t.teacher, _hours(t.booked_minutes), _hours(t.available_minutes), _percent(t.percent)]
                for t in teachers
            ],
        ),
        Chart(
            slug="churn-teachers",
            title="Churn by teacher, 12 months",
            note="Enrollments of each teacher's students that ended in the last 12 months ÷ those active in them.",
            svg=bar_chart(
                title="Churn by teacher, 12 months",
                bars=[Bar(t.teacher, t.churn_percent or 0, _percent(t.churn_percent)) for t in churners],
            ),
            head=["Teacher", "Enrolled", "Withdrawals", "Churn"],
            rows=[[t.teacher, str(t.enrolled), str(t.withdrawals), _percent(t.churn_percent)] for t in churners],
        ),
    ]
