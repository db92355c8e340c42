"""Each of the owner's figures on a known school, with exact numbers and its query count (one query each, three for
utilisation), whatever the school's size. Dates are relative to today in the school's zone."""

import itertools
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from billing.metrics import monthly_recurring_revenue_from_plans, receivables_aged, revenue_collected_by_month
from billing.models import Payment, PaymentFailure, TuitionSubscription
from cedarheights.periods import Period, day_period, local_midnight, months_back, weeks_back, year_before
from cedarheights.selectors import school_today
from enrollment.metrics import (
    churn_by_teacher,
    demo_conversion,
    retention_over_a_year,
    students_by_month,
    waitlist_waits,
)
from enrollment.models import Enrollment, TuitionPlan
from scheduling.metrics import lessons_unmarked_count, teacher_utilisation
from scheduling.models import Lesson
from scheduling.outcomes import Outcome
from tests.factories import (
    AvailabilityFactory,
    ClosureFactory,
    EnrollmentFactory,
    FamilyFactory,
    PaymentFactory,
    StudentFactory,
    TeacherFactory,
    TuitionPlanFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone(school):
    return school.zone


@pytest.fixture
def today(school):
    return school_today()


@pytest.fixture
def months(today, zone):
    return months_back(today=today, count=12, zone=zone)


def noon(day, zone) -> datetime:
    return datetime.combine(day, time(12), tzinfo=zone)


def test_collected_revenue_counts_each_payment_less_its_refunds_in_the_local_month_it_was_paid(
    months, zone, django_assert_num_queries
):
    """Made to fail: months cut at UTC midnight (the 23:30 payment moved to the next month)."""
    this, last, before = months[-1], months[-2], months[-3]
    PaymentFactory(amount_cents=10_000, status=Payment.Status.SUCCEEDED, paid_at=this.start_at + timedelta(hours=1))
    PaymentFactory(
        amount_cents=8_000,
        amount_refunded_cents=2_000,
        status=Payment.Status.PARTIALLY_REFUNDED,
        paid_at=last.start_at + timedelta(days=2),
    )
    PaymentFactory(amount_cents=5_000, status=Payment.Status.SUCCEEDED, paid_at=last.start_at - timedelta(minutes=30))
    PaymentFactory(
        amount_cents=4_000,
        amount_refunded_cents=4_000,
        status=Payment.Status.REFUNDED,
        paid_at=noon(before.first, zone),
    )
    PaymentFactory(amount_cents=7_000, status=Payment.Status.FAILED)
    PaymentFactory(amount_cents=9_000, status=Payment.Status.SUCCEEDED, paid_at=months[0].start_at - timedelta(days=1))

    with django_assert_num_queries(1):
        revenue = revenue_collected_by_month(months=months)

    assert [m.month for m in revenue] == [m.first for m in months]
    assert [m.cents for m in revenue] == [0] * 9 + [5_000, 6_000, 10_000]


def test_monthly_recurring_revenue_sums_what_stripe_is_charging_each_month(django_assert_num_queries):
    family = FamilyFactory()
    monthly = TuitionPlanFactory(price_cents=14_000)
    weekly = TuitionPlanFactory(price_cents=3_500, interval=TuitionPlan.Interval.WEEK)
    per_lesson = TuitionPlanFactory(
        price_cents=4_000, interval=TuitionPlan.Interval.WEEK, basis=TuitionPlan.Basis.PER_LESSON
    )
    term_priced = TuitionPlanFactory(price_cents=18_000, lesson_rate_cents=4_500)
    Status = TuitionSubscription.Status
    for plan, status in [
        (monthly, Status.ACTIVE),
        (weekly, Status.PAST_DUE),
        (per_lesson, Status.ACTIVE),
        (term_priced, Status.ACTIVE),
        (monthly, Status.CANCELED),
        (monthly, Status.TRIALING),
        (monthly, Status.INCOMPLETE),
    ]:
        TuitionSubscription.objects.create(family=family, tuition_plan=plan, status=status)

    with django_assert_num_queries(1):
        mrr = monthly_recurring_revenue_from_plans()

    assert mrr == 14_000 + (3_500 + 4_000 + 4_500) * 52 // 12  # 66 000


def test_outstanding_payments_are_aged_0_30_31_60_and_over_60_days_and_those_retrying_counted(
    today, zone, django_assert_num_queries
):
    """Made to fail: a bucket's edge moved by a day (30 and 31, 60 and 61 days old each land on their side)."""
    family = FamilyFactory()
    retrying = {0, 61}
    for age, cents in [(0, 100), (30, 200), (31, 400), (60, 800), (61, 1_600), (100, 3_200)]:
        payment = PaymentFactory(family=family, amount_cents=cents, status=Payment.Status.FAILED)
        Payment.objects.filter(pk=payment.pk).update(created_at=noon(today - timedelta(days=age), zone))
        PaymentFailure.objects.create(
            family=family,
            payment=payment,
            reason="Declined",
            status=PaymentFailure.Status.OPEN if age in retrying else PaymentFailure.Status.GAVE_UP,
        )
    recovered = PaymentFactory(family=family, amount_cents=6_400, status=Payment.Status.SUCCEEDED)
    PaymentFailure.objects.create(
        family=family, payment=recovered, reason="Declined", status=PaymentFailure.Status.RECOVERED
    )

    with django_assert_num_queries(1):
        owed = receivables_aged(today=today)

    assert [(a.label, a.count, a.cents) for a in owed.aged] == [
        ("0–30 days", 2, 300),
        ("31–60 days", 2, 1_200),
        ("over 60 days", 2, 4_800),
    ]
    assert (owed.outstanding_cents, owed.in_retry_count, owed.in_retry_cents) == (6_300, 2, 1_700)


def _enrollment(
    *, student=None, status=Enrollment.Status.ACTIVE, activated_at=None, ends_on=None, changed_at=None, created_at=None
):
    enrollment = EnrollmentFactory(
        **({"student": student} if student else {}), status=status, activated_at=activated_at, ends_on=ends_on
    )
    fields = {}
    if changed_at:
        fields["updated_at"] = changed_at
    if created_at:
        fields["created_at"] = created_at
    if fields:
        Enrollment.objects.filter(pk=enrollment.pk).update(**fields)
    return enrollment


def test_active_students_churn_and_enrollments_at_each_months_start(months, zone, django_assert_num_queries):
    """Made to fail: a pending enrollment counted active; a paused one counted as a withdrawal; a child with two
    enrollments counted twice."""
    M = months
    S = Enrollment.Status
    first = _enrollment(activated_at=noon(M[0].first + timedelta(days=4), zone))
    _enrollment(  # withdrew with notice: the last lesson in M[5]
        status=S.CANCELLED,
        activated_at=noon(M[2].first + timedelta(days=9), zone),
        ends_on=M[5].first + timedelta(days=14),
    )
    _enrollment(student=first.student, activated_at=noon(M[3].first, zone))  # a second instrument
    _enrollment(status=S.PENDING, created_at=noon(M[1].first, zone))
    _enrollment(status=S.WAITLISTED)
    _enrollment(activated_at=None, created_at=noon(M[6].first + timedelta(days=1), zone))  # made active by the owner
    _enrollment(  # cancelled outright in M[8]
        status=S.CANCELLED,
        activated_at=noon(M[1].first + timedelta(days=2), zone),
        changed_at=noon(M[8].first + timedelta(days=8), zone),
    )
    _enrollment(  # paused for an unpaid card in M[9]: no longer active, not a withdrawal
        status=S.PAUSED, activated_at=noon(M[4].first, zone), changed_at=noon(M[9].first, zone)
    )

    with django_assert_num_queries(1):
        figures = students_by_month(months=months)

    assert [m.active_students for m in figures] == [1, 2, 3, 3, 4, 4, 4, 4, 4, 3, 2, 2]
    assert [m.active_at_start for m in figures] == [0, 1, 2, 3, 4, 5, 4, 5, 5, 4, 3, 3]
    assert [m.withdrawals for m in figures] == [0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    assert [m.churn_percent for m in figures][4:9] == [0.0, 20.0, 0.0, 0.0, 20.0]
    assert figures[0].churn_percent is None  # nobody at the start: no churn to speak of


def test_retention_is_the_students_enrolled_a_year_ago_still_enrolled_today(today, zone, django_assert_num_queries):
    long_ago = noon(today - timedelta(days=400), zone)
    _enrollment(activated_at=long_ago)  # stayed
    _enrollment(status=Enrollment.Status.CANCELLED, activated_at=long_ago, ends_on=today - timedelta(days=100))  # left
    _enrollment(activated_at=noon(today - timedelta(days=100), zone))  # came since
    both = _enrollment(activated_at=long_ago)
    _enrollment(student=both.student, activated_at=long_ago)  # one child, two instruments: counted once

    with django_assert_num_queries(1):
        retention = retention_over_a_year(then=day_period(year_before(today), zone), now=day_period(today, zone))

    assert (retention.active_a_year_ago, retention.still_active, retention.percent) == (3, 2, 66.7)


def test_churn_per_teacher_over_the_period(months, today, zone, django_assert_num_queries):
    year = Period(months[0].first, months[-1].after, zone)
    leaving_teacher, steady_teacher = TeacherFactory(), TeacherFactory()
    for teacher, ends_on in [
        (leaving_teacher, None),
        (leaving_teacher, today - timedelta(days=20)),
        (steady_teacher, None),
    ]:
        student = StudentFactory(teacher=teacher)
        _enrollment(
            student=student,
            status=Enrollment.Status.CANCELLED if ends_on else Enrollment.Status.ACTIVE,
            activated_at=noon(months[1].first, zone),
            ends_on=ends_on,
        )
    _enrollment(student=StudentFactory(teacher=None), activated_at=noon(months[1].first, zone))  # no teacher yet

    with django_assert_num_queries(1):
        churn = churn_by_teacher(period=year)

    assert [(c.teacher_id, c.enrolled, c.withdrawals, c.churn_percent) for c in churn] == [
        (leaving_teacher.pk, 2, 1, 50.0),
        (steady_teacher.pk, 1, 0, 0.0),
    ]


def test_the_median_wait_counts_children_activated_off_the_waitlist_and_those_still_waiting(
    django_assert_num_queries,
):
    now = timezone.now()
    _enrollment(status=Enrollment.Status.WAITLISTED, created_at=now - timedelta(days=10))  # 10 days and counting
    _enrollment(activated_at=now - timedelta(days=2), created_at=now - timedelta(days=32))  # waited 30
    _enrollment(activated_at=now, created_at=now - timedelta(minutes=5))  # a teacher found at once: no wait
    _enrollment(activated_at=now - timedelta(days=400), created_at=now - timedelta(days=420))  # before the year

    with django_assert_num_queries(1):
        waitlist = waitlist_waits(since=now - timedelta(days=365), now=now)

    assert (waitlist.size, waitlist.waits_counted, waitlist.median_wait_days) == (1, 2, 20.0)


def test_a_demo_converts_when_a_regular_lesson_follows_within_30_days(django_assert_num_queries):
    now = timezone.now().replace(microsecond=0)
    teacher = TeacherFactory()

    def lesson(student, *, days_ago: float, kind=Lesson.Kind.REGULAR, cancelled=False):
        start = now - timedelta(days=days_ago)
        return Lesson.objects.create(
            teacher=teacher,
            student=student,
            kind=kind,
            start_at=start,
            end_at=start + timedelta(minutes=30),
            status=Lesson.Status.CANCELLED if cancelled else Lesson.Status.COMPLETED,
            outcome=Outcome.CANCELLED_WITH_NOTICE if cancelled else Outcome.ATTENDED,
            cancelled_at=start if cancelled else None,
        )

    converted, too_late, dropped, never_came = (StudentFactory() for _ in range(4))
    lesson(converted, days_ago=40, kind=Lesson.Kind.DEMO)
    lesson(converted, days_ago=33)
    lesson(too_late, days_ago=60.1, kind=Lesson.Kind.DEMO)
    lesson(too_late, days_ago=29)  # 31 days after
    lesson(dropped, days_ago=20.2, kind=Lesson.Kind.DEMO)
    lesson(dropped, days_ago=13, cancelled=True)
    lesson(never_came, days_ago=10.3, kind=Lesson.Kind.DEMO, cancelled=True)  # not a demo given

    with django_assert_num_queries(1):
        conversion = demo_conversion(since=now - timedelta(days=365), now=now)

    assert (conversion.demos, conversion.converted, conversion.percent) == (3, 1, 33.3)


def test_utilisation_is_booked_over_available_minutes_closures_left_out(today, zone, django_assert_num_queries):
    """Made to fail: closures not taken off the available minutes; a cancelled lesson counted as booked."""
    weeks = weeks_back(today=today, count=3, zone=zone)
    teacher = TeacherFactory()
    AvailabilityFactory(teacher=teacher, weekday=0, start_time="15:00", end_time="17:00")  # Mondays, 120 min
    AvailabilityFactory(teacher=teacher, weekday=2, start_time="16:00", end_time="17:00")  # Wednesdays, 60 min
    ClosureFactory(start_date=weeks[0].first, end_date=weeks[0].first)  # the school closed the first Monday
    ClosureFactory(
        teacher=teacher, start_date=weeks[1].first + timedelta(days=2), end_date=weeks[1].first + timedelta(days=2)
    )
    retired = TeacherFactory(active=False)
    AvailabilityFactory(teacher=retired, weekday=0)
    student = StudentFactory()

    def lesson(week, weekday, at, minutes, *, who=teacher, cancelled=False):
        start = datetime.combine(week.first + timedelta(days=weekday), at, tzinfo=zone)
        Lesson.objects.create(
            teacher=who,
            student=student if who == teacher else StudentFactory(),
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            status=Lesson.Status.CANCELLED if cancelled else Lesson.Status.SCHEDULED,
            outcome=Outcome.CANCELLED_WITH_NOTICE if cancelled else "",
            cancelled_at=start if cancelled else None,
        )

    lesson(weeks[0], 2, time(16), 30)
    lesson(weeks[1], 0, time(15), 45)
    lesson(weeks[1], 0, time(16), 30, cancelled=True)
    lesson(weeks[2], 0, time(15), 60)
    lesson(weeks[2], 0, time(15), 30, who=retired)

    with django_assert_num_queries(3):
        utilisation = teacher_utilisation(weeks=weeks)

    assert [(w.week, w.booked_minutes, w.available_minutes, w.percent) for w in utilisation.weeks] == [
        (weeks[0].first, 30, 60, 50.0),
        (weeks[1].first, 45, 120, 37.5),
        (weeks[2].first, 60, 180, 33.3),
    ]
    assert [(t.teacher_id, t.booked_minutes, t.available_minutes) for t in utilisation.teachers] == [
        (teacher.pk, 60, 180)
    ]


def test_unmarked_lessons_are_the_past_ones_without_an_outcome(django_assert_num_queries):
    now = timezone.now()
    teacher, student = TeacherFactory(), StudentFactory()
    for hours_ago, outcome in [(50, ""), (3, ""), (-20, ""), (30, Outcome.ATTENDED)]:
        start = now - timedelta(hours=hours_ago)
        Lesson.objects.create(
            teacher=teacher,
            student=student,
            start_at=start,
            end_at=start + timedelta(minutes=30),
            outcome=outcome,
            status=Lesson.Status.COMPLETED if outcome else Lesson.Status.SCHEDULED,
        )

    with django_assert_num_queries(1):
        unmarked = lessons_unmarked_count(now=now)

    assert unmarked.past == 2
    assert unmarked.oldest_ended_at == now - timedelta(hours=50) + timedelta(minutes=30)


def test_months_are_the_schools_local_months(today, zone):
    months = months_back(today=today, count=12, zone=zone)
    assert months[-1].first == today.replace(day=1) and len({m.first for m in months}) == 12
    assert all(a.after == b.first for a, b in itertools.pairwise(months))
    assert months[0].start_at == local_midnight(months[0].first, zone)
