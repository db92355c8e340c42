"""Every admin page the owner uses answers, in a number of queries that does not grow with the rows."""

import re
from datetime import datetime, time, timedelta
from io import StringIO
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.monitor import save_task
from django_q.tasks import async_task, schedule

from accounts.models import User
from accounts.services import token_issue
from billing.models import BillingProfile, Payment, TuitionSubscription
from billing.services.catalog import catalog_sync
from billing.services.dunning import payment_failure_open
from billing.services.ledger import payment_record_succeeded
from billing.services.subscriptions import billing_start
from cedarheights.demo.history import HISTORY_FAMILY_NAMES
from cedarheights.demo.retention import RETENTION_FAMILY_NAMES
from cedarheights.models import AuditEvent, EmailLog, PipelineRun
from cedarheights.pipeline import run_pipeline
from cedarheights.selectors import school_settings_get
from cedarheights.services import audit_record, school_settings_update
from enrollment.credits import makeup_credit_grant
from enrollment.models import Enrollment, TuitionPlan
from scheduling.models import Lesson, Student
from scheduling.outcomes import Outcome
from scheduling.services import lesson_create, lesson_outcome_set, lesson_teacher_cancel
from tests.billing.stripe_events import event, sign
from tests.factories import (
    AvailabilityFactory,
    ChildConsentFactory,
    ClosureFactory,
    EnrollmentFactory,
    InstrumentFactory,
    LedgerEntryFactory,
    ParentFactory,
    PaymentFactory,
    RoomFactory,
    StudentFactory,
    TeacherFactory,
    TermFactory,
    TuitionPlanFactory,
)

QUERY_BUDGET = 20
MODEL_ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = [model._meta.label for model, _ in MODEL_ADMINS]


@pytest.fixture(scope="module")
def demo_school(django_db_setup, django_db_blocker):
    """The demo school, seeded once for the module inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def owner(demo_school, db, client):
    user = User.objects.get(email="admin@cedarheights.test")
    client.force_login(user)
    return user


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, follow=True)
    assert response.status_code == 200, url
    return len(captured)


def lesson_week_rows(*, teacher, student, hours: int) -> None:
    """The lesson week's records of one child, as the school makes them (clear of the demo's closures): the teacher
    cancels a lesson to come (a pending cancellation and its credit), a past lesson is a no-show on a per-lesson
    plan (a pending fee), the owner gives a credit."""
    school_settings_update(school_settings=school_settings_get(), lesson_fees_enabled=True)
    plan = TuitionPlanFactory(basis=TuitionPlan.Basis.PER_LESSON)
    enrollment = EnrollmentFactory(student=student, tuition_plan=plan, status="active")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    to_come, past = (now + timedelta(days=days, hours=hours) for days in (500, -500))
    for start in (to_come, past):
        end = start + timedelta(minutes=30)
        lesson = lesson_create(teacher=teacher, student=student, start_at=start, end_at=end, check_availability=False)
        if start == to_come:
            lesson_teacher_cancel(lesson=lesson, actor=None, reason="Ill")
        else:
            lesson_outcome_set(lesson=lesson, outcome=Outcome.NO_SHOW, actor=None)
    makeup_credit_grant(enrollment=enrollment, actor=None, goodwill=True, reason="A kind word")


def add_more_rows() -> None:
    """Five more rows of every list the owner works in, each made as the school makes it."""
    zone = ZoneInfo("America/Toronto")
    today = timezone.localdate(timezone=zone)
    monday = datetime.combine(today - timedelta(days=today.weekday()), time(8, 0), tzinfo=zone)
    for n in range(5):
        parent = ParentFactory()
        teacher = TeacherFactory(instruments=[InstrumentFactory(name=f"Extra instrument {n}")])
        AvailabilityFactory(teacher=teacher)
        student = StudentFactory(family=parent.family, teacher=teacher)
        ChildConsentFactory(student=student, given_by=parent)
        plan = TuitionPlanFactory()
        EnrollmentFactory(student=student, tuition_plan=plan, status="waitlisted")
        subscription = TuitionSubscription.objects.create(family=parent.family, tuition_plan=plan, status="active")
        BillingProfile.objects.create(family=parent.family, card_brand="visa", card_last4="4242")
        start = monday + timedelta(days=n % 7, hours=n)  # this week: the lesson list opens on it
        end = start + timedelta(minutes=30)
        lesson_create(teacher=teacher, student=student, start_at=start, end_at=end, check_availability=False)
        lesson_week_rows(teacher=teacher, student=student, hours=n)
        RoomFactory()
        far = today + timedelta(days=3650 + n)  # clear of the demo's terms, which no term may overlap
        ClosureFactory(term=TermFactory(start_date=far, end_date=far), start_date=far)
        payment_record_succeeded(payment=PaymentFactory(family=parent.family))  # ledger lines, receipt, email
        payment_failure_open(payment=PaymentFactory(family=parent.family), reason="Your card was declined.")
        LedgerEntryFactory(family=parent.family)
        audit_record(actor=None, action=AuditEvent.Action.VIEW, obj=parent.family)
        run_pipeline("extra", (lambda ctx: None,), None, reference=f"subscription:{subscription.pk}", atomic=False)


@pytest.mark.parametrize(("model", "model_admin"), MODEL_ADMINS, ids=IDS)
def test_changelist_answers_within_budget_and_does_not_grow_with_rows(owner, client, model, model_admin):
    url = changelist_url(model)
    queries_for(client, url)  # warm: the first request of a process fills the settings cache
    before = queries_for(client, url)
    add_more_rows()
    after = queries_for(client, url)
    assert before <= QUERY_BUDGET
    assert after == before, f"{url}: {before} queries, then {after} with more rows"


@pytest.mark.parametrize(("model", "model_admin"), MODEL_ADMINS, ids=IDS)
def test_add_page_answers_within_budget(owner, client, rf, model, model_admin):
    request = rf.get("/")
    request.user = owner
    if not model_admin.has_add_permission(request):
        pytest.skip("the system writes these; the owner only reads them")
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    assert queries_for(client, url) <= QUERY_BUDGET


@pytest.fixture
def system_rows(owner, local_stripe, settings, django_capture_on_commit_callbacks):
    """What the demo school does not hold (it never calls Stripe, signs in wrongly or runs a worker), made
    the way the system makes it: a family billed through the local Stripe server (dj-stripe's mirror, a
    billing pipeline run), a webhook delivery, a failed sign-in, an audit event, background tasks."""
    family = ParentFactory().family
    teacher = TeacherFactory(instruments=[InstrumentFactory(name="Lesson week instrument")])
    lesson_week_rows(teacher=teacher, student=StudentFactory(family=family, teacher=teacher), hours=0)
    TuitionPlanFactory(name="Drums 30 min, monthly")
    catalog_sync()
    with django_capture_on_commit_callbacks(execute=True):
        billing_start(
            family=family,
            tuition_plan=TuitionPlan.objects.get(name="Drums 30 min, monthly"),
            payment_method_id=local_stripe.card("4242424242424242"),
        )
    payload = event("customer.updated", {"id": "cus_admin_test", "object": "customer"}, event_id="evt_admin_test")
    Client().post(
        reverse("stripe-webhook"), payload, content_type="application/json", headers={"Stripe-Signature": sign(payload)}
    )
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True  # off by default: the owner's page of it stays empty
    Client().post(reverse("admin:login"), {"username": owner.email, "password": "not-the-password"})
    audit_record(actor=owner, action=AuditEvent.Action.UPDATE, obj=family, changes={"notes": ["", "prefers Fridays"]})
    Group.objects.get_or_create(name="Front desk")
    token_issue(user=owner)
    async_task("math.floor", 2.5, sync=True)  # a task that succeeded
    failed = {"id": uuid4().hex, "name": "a-failed-sum", "func": "math.floor", "args": ("two",), "kwargs": {}}
    save_task(  # as the cluster's monitor records a task that raised (a synchronous task re-raises instead)
        {**failed, "started": timezone.now(), "stopped": timezone.now(), "result": "TypeError", "success": False},
        get_broker(),
    )
    async_task("math.floor", 2.5, sync=False)  # one still queued
    schedule("math.floor", 2.5, name="A weekly sum", schedule_type=Schedule.WEEKLY)


@pytest.mark.parametrize(("model", "model_admin"), MODEL_ADMINS, ids=IDS)
def test_change_page_answers(owner, system_rows, client, model, model_admin):
    """Every model has a row to open: the demo school's, or the system's own (`system_rows`)."""
    obj = model.objects.first()
    assert obj is not None, f"no {model._meta.label} row: give the demo school one"
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    assert queries_for(client, url) <= 60


def test_the_index_shows_the_owners_first_numbers(owner, client):
    zone = ZoneInfo("America/Toronto")
    today = timezone.localdate(timezone=zone)
    monday = datetime.combine(today - timedelta(days=today.weekday()), time.min, tzinfo=zone)
    this_week = Lesson.objects.filter(start_at__gte=monday, start_at__lt=monday + timedelta(days=7))

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    figures = response.context["figures"]
    # the demo's eight children, its waiting child, its decline of this month and the two of last month given up on
    # (demo/fees.py); and what of the year's history (demo/history.py) is still so, and the family waitlisted for
    # thirteen months the retention job lists (demo/retention.py)
    history = {"student__family__name__in": HISTORY_FAMILY_NAMES + RETENTION_FAMILY_NAMES}
    active = 8 + Student.objects.filter(family__name__in=HISTORY_FAMILY_NAMES, status="active").count()
    waiting = 1 + Enrollment.objects.filter(status="waitlisted", **history).count()
    failed = 3 + Payment.objects.filter(status="failed", family__name__in=HISTORY_FAMILY_NAMES).count()
    assert figures["active_students"] == active
    assert figures["lessons_this_week"] == this_week.exclude(status="cancelled").count() > 0
    assert (figures["waitlisted"], figures["failed_payments"]) == (waiting, failed)
    assert b"The school at a glance" in response.content
    page = response.content.decode()
    assert re.search(rf"status__exact=waitlisted\">Waitlist</a></th><td>{waiting}</td>", page)
    assert re.search(rf"status__exact=failed\">Failed payments</a></th><td>{failed}</td>", page)


def test_a_lesson_booked_in_the_admin_over_another_gets_a_form_error_and_keeps_the_input(owner, client):
    taken = Lesson.objects.filter(status="scheduled").first()
    url = reverse("admin:scheduling_lesson_add")
    local_start = taken.start_at.astimezone(ZoneInfo("America/Toronto"))
    data = {
        "teacher": taken.teacher_id,
        "student": StudentFactory().pk,
        "kind": "makeup",
        "start_at_0": f"{local_start:%Y-%m-%d}",
        "start_at_1": f"{local_start:%H:%M:%S}",
        "end_at_0": f"{local_start:%Y-%m-%d}",
        "end_at_1": f"{local_start + timedelta(minutes=30):%H:%M:%S}",
        "outcome": "",
        "payment_status": "due",
        "notes": "squeezed in",
    }
    before = Lesson.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "already teaches" in str(response.context["adminform"].form.non_field_errors())
    assert b"squeezed in" in response.content
    assert Lesson.objects.count() == before


def test_the_lesson_list_opens_on_this_week_with_each_lesson_in_local_time(owner, client):
    zone = ZoneInfo("America/Toronto")
    today = timezone.localdate(timezone=zone)
    monday = datetime.combine(today - timedelta(days=today.weekday()), time.min, tzinfo=zone)
    this_week = Lesson.objects.filter(start_at__gte=monday, start_at__lt=monday + timedelta(days=7))

    response = client.get(reverse("admin:scheduling_lesson_changelist"), follow=True)

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown and {lesson.pk for lesson in shown} <= set(this_week.values_list("pk", flat=True))
    first = shown[0]
    start, end = first.start_at.astimezone(zone), first.end_at.astimezone(zone)
    assert f"{start:%a %-d %b %Y, %H:%M}–{end:%H:%M}".encode() in response.content


def test_the_back_office_shows_stripe_customers_and_subscriptions_but_not_stripes_internals(owner, client):
    response = client.get(reverse("admin:index"))

    assert reverse("admin:djstripe_customer_changelist").encode() in response.content
    assert reverse("admin:djstripe_subscription_changelist").encode() in response.content
    assert b"/admin/djstripe/apikey/" not in response.content
    assert client.get("/admin/djstripe/apikey/").status_code == 404


def test_the_lesson_lists_row_checkbox_is_djangos_own_markup(owner):
    lesson_admin = admin.site._registry[Lesson]
    lesson = Lesson.objects.select_related("student", "teacher__user").first()

    assert str(lesson_admin.action_checkbox(lesson)) == str(admin.ModelAdmin.action_checkbox(lesson_admin, lesson))


def test_the_owner_reads_what_a_run_was_about_and_what_to_do_with_an_unconfirmed_email(owner, client):
    """The browser trial found `subscription:5` unreadable and "Unconfirmed" without a next step."""
    runs = client.get(changelist_url(PipelineRun) + "?pipeline=billing_sweep").content.decode()
    rossi = TuitionSubscription.objects.get(family__name="Rossi family")
    assert f'<a href="/admin/billing/tuitionsubscription/{rossi.pk}/change/">{rossi}</a>' in runs

    unconfirmed = EmailLog.objects.get(status=EmailLog.Status.UNCONFIRMED)
    page = client.get(reverse("admin:cedarheights_emaillog_change", args=[unconfirmed.pk])).content.decode()
    assert f"may or may not have reached {unconfirmed.recipient}" in page and "Resend this email" in page
