from collections import Counter
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import ConsentRecord, Family, User
from billing.models import Payment, PaymentFailure, PayPeriod, PayRate, Receipt, TuitionSubscription
from billing.selectors import family_balance_cents
from cedarheights.demo import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_PASSWORD
from cedarheights.demo.history import HISTORY_FAMILY_NAMES
from cedarheights.demo.retention import RETENTION_FAMILY_NAMES
from cedarheights.models import AuditEvent, EmailLog, PipelineRun
from enrollment.models import ChildConsent, Enrollment, EnrollmentChange, EnrollmentPause
from scheduling.calendar_feeds import calendar_feed_issue
from scheduling.models import CalendarFeed, Closure, Lesson, Student, Teacher

# The dashboard's year of history (cedarheights.demo.history) and the families past their retention period
# (cedarheights.demo.retention): the past, not this month's stories.
HISTORY = HISTORY_FAMILY_NAMES + RETENTION_FAMILY_NAMES


def every_row() -> dict[str, list[dict]]:
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in apps.get_models()}


@pytest.mark.django_db
def test_seed_demo_builds_a_believable_school_and_running_it_again_changes_no_row():
    """Made to fail: the seed of ORM writes, run again, turned the refunded payment back into a plain success."""
    call_command("seed_demo", stdout=StringIO())
    first = every_row()
    call_command("seed_demo", stdout=StringIO())

    assert every_row() == first
    assert Teacher.objects.count() >= 3
    assert {i.name for t in Teacher.objects.all() for i in t.instruments.all()} >= {"Piano", "Guitar", "Bass"}
    assert Family.objects.count() >= 6 and Student.objects.count() >= 8
    assert Student.objects.values("family").annotate(n=Count("id")).filter(n__gte=2)
    assert Closure.objects.filter(teacher=None).exists()
    assert Lesson.objects.count() > 20


@pytest.mark.django_db
def test_the_demo_is_made_through_the_services_that_audit_accounts_and_children():
    """Made to fail: the seed of ORM writes left no audit row."""
    call_command("seed_demo", stdout=StringIO())

    audited = Counter(AuditEvent.objects.values_list("object_type__model", "action"))
    assert audited == {
        ("user", "create"): User.objects.count(),
        ("family", "create"): Family.objects.count(),
        ("consentrecord", "create"): ConsentRecord.objects.count(),
        ("consentrecord", "update"): ConsentRecord.objects.exclude(withdrawn_at=None).count(),  # news stopped
        ("childconsent", "create"): ChildConsent.objects.count(),
        ("childconsent", "update"): ChildConsent.objects.exclude(withdrawn_at=None).count(),  # photos withdrawn
        # the owner's notice v2: written as a draft, then published (cedarheights/demo/consents.py)
        ("privacynotice", "create"): 1,
        ("privacynotice", "update"): 1,
        ("student", "create"): Student.objects.count(),
        ("student", "update"): Student.objects.exclude(teacher=None).count(),  # a teacher assigned
        # each outcome recorded once (the year of history's lessons were written as the past, in bulk)
        # and one changed after its pay period closed (cedarheights/demo/payroll.py)
        ("lesson", "update"): Lesson.objects.exclude(outcome="").exclude(student__family__name__in=HISTORY).count() + 1,
        # the teachers' pay rates, and each past pay period closed (cedarheights/demo/payroll.py)
        ("payrate", "create"): PayRate.objects.count(),
        ("payperiod", "update"): PayPeriod.objects.filter(status="closed").count(),
        ("reminderpreference", "update"): 1,  # a parent turned the cancellation-window nudges off
        ("calendarfeed", "create"): CalendarFeed.objects.count(),
        ("calendarfeed", "update"): CalendarFeed.objects.exclude(revoked_at=None).count(),  # turned off
        ("familyfee", "update"): 1,  # the owner waived a late fee (cedarheights.demo.fees)
        # a vacation pause; a withdrawal and a weekly time changed (cedarheights/demo/lifecycle.py)
        ("enrollmentpause", "create"): EnrollmentPause.objects.count(),
        ("enrollment", "update"): Enrollment.objects.exclude(ends_on=None)
        .exclude(student__family__name__in=HISTORY)
        .count()
        + EnrollmentChange.objects.count(),
        # a staff discount and a promotion code (cedarheights/demo/tuition.py)
        ("familydiscount", "create"): 1,
        ("promotionredemption", "create"): 1,
        # two access requests logged, one answered, one family's export; two correction requests, one annotated
        # (cedarheights/demo/privacy_requests.py)
        ("accessrequest", "create"): 2,
        ("accessrequest", "update"): 1,
        ("family", "export"): 1,
        ("correctionrequest", "create"): 2,
        ("correctionrequest", "update"): 1,
        # the owner's and a teacher's reads (cedarheights/demo/audit_reads.py): the families' and the teacher's
        # students' lists, the Nguyens' page, Ava's record, her enrollment and one of her lessons
        ("family", "view"): 2,
        ("student", "view"): 2,
        ("enrollment", "view"): 1,
        ("lesson", "view"): 1,
    }


@pytest.mark.django_db
def test_the_demos_people_sign_in_with_the_published_passwords():
    call_command("seed_demo", stdout=StringIO())

    assert User.objects.get(email=ADMIN_EMAIL).check_password(ADMIN_PASSWORD)
    others = User.objects.exclude(email=ADMIN_EMAIL)
    assert {user.role for user in others} == {"teacher", "parent"}
    assert all(user.check_password(DEMO_PASSWORD) for user in others)


@pytest.mark.django_db
def test_the_demo_school_has_a_month_of_billing_and_a_waitlist_to_look_at():
    """Made to fail: each of the demo's billing stories and its waitlisted child removed in turn."""
    call_command("seed_demo", stdout=StringIO())

    payments = Payment.objects.exclude(family__name__in=HISTORY)  # this month's stories, not the year before
    paid = payments.filter(status__in=["succeeded", "partially_refunded"])
    assert paid.count() == 3 and Receipt.objects.filter(payment__in=paid).count() == 3
    [refunded] = payments.filter(status="partially_refunded", ledger_entries__kind="refund")
    # The open failure; last month's two were given up on (cedarheights.demo.fees).
    [failure] = PaymentFailure.objects.filter(status="open").exclude(family__name__in=HISTORY)
    assert (failure.status, failure.payment.status, failure.subscription.status) == ("open", "failed", "past_due")
    assert failure.next_retry_at > timezone.now()
    assert TuitionSubscription.objects.filter(status="active").exclude(family__name__in=HISTORY).count() == 3
    families = Family.objects.filter(payments__isnull=False).exclude(name__in=HISTORY).distinct()
    balances = {f.name: family_balance_cents(family_id=f.pk) for f in families}
    last_month = {p.family.name: p.amount_cents for p in payments.filter(failure__status="gave_up")}
    registration = 5_000  # each family's registration fee of the school year, on its next invoice
    assert balances == {
        "Nguyen family": registration,
        "Tremblay family": registration + last_month["Tremblay family"],  # the cancelled lesson credited, its price
        # refunded; last month's invoice owed, its late fee waived
        "Okonkwo family": failure.payment.amount_cents + last_month["Okonkwo family"] + registration + 1_500,  # the
        # declined month and last month's invoice are still owed, with its late fee
    }
    assert refunded.family.name == "Tremblay family"
    [waiting] = Enrollment.objects.filter(status="waitlisted").exclude(student__family__name__in=HISTORY)
    assert waiting.student.teacher is None and not waiting.student.lessons.exists()
    # Stripe is never called: every Stripe id is a plainly fake demo id.
    assert not Payment.objects.exclude(stripe_invoice_id__startswith="in_demo_").exists()
    billed_by_stripe = TuitionSubscription.objects.exclude(stripe_subscription_id=None)
    assert not billed_by_stripe.exclude(stripe_subscription_id__startswith="sub_demo_").exists()


@pytest.mark.django_db
def test_the_demo_shows_what_a_worker_killed_mid_work_leaves_for_the_owner():
    """Made to fail: the demo's unconfirmed email and its lost billing hand-off removed in turn."""
    call_command("seed_demo", stdout=StringIO())

    [unconfirmed] = EmailLog.objects.filter(status=EmailLog.Status.UNCONFIRMED)
    assert unconfirmed.template == "welcome_parent" and unconfirmed.text_body
    assert unconfirmed.recipient == Family.objects.get(name="MacDonald family").parents.get().email
    [restarted] = TuitionSubscription.objects.exclude(billing_restarted_at=None)
    assert restarted.family.name == "Rossi family" and restarted.payment_method_id == "pm_card_visa"
    assert restarted.stripe_subscription_id is None  # the worker bills it on the local Stripe server, not the seed
    [sweep] = PipelineRun.objects.filter(pipeline="billing_sweep")
    assert sweep.status == PipelineRun.Status.SUCCEEDED and sweep.reference.endswith(str(restarted.pk))


@pytest.mark.django_db
def test_the_demos_printed_calendar_links_open_their_feeds_and_the_database_keeps_only_hashes(client):
    """Made to fail: without the published hashes, the printout said each link was replaced."""
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()

    call_command("show_demo_calendar_links", stdout=out)

    printed = dict(line.strip().split(": ", 1) for line in out.getvalue().splitlines())
    assert list(printed) == ["Nguyen family (Linh)", "Amelia Hart, teacher", "Whole school (the owner)"]
    for url in printed.values():
        answer = client.get(urlsplit(url).path)
        assert answer.status_code == 200 and answer["Content-Type"] == "text/calendar; charset=utf-8", url
        token = url.rsplit("/", 1)[1].removesuffix(".ics")
        assert not any(token in str(rows) for rows in every_row().values())
    live = CalendarFeed.objects.filter(revoked_at=None)
    assert {(feed.holder.email, feed.scope) for feed in live} == {
        ("linh.nguyen@example.com", "family"),
        ("amelia.hart@cedarheights.test", "teacher"),
        (ADMIN_EMAIL, "school"),
    }
    [turned_off] = CalendarFeed.objects.exclude(revoked_at=None)
    assert turned_off.family.name == "Okonkwo family"


@pytest.mark.django_db
def test_a_demo_link_replaced_from_the_portal_is_printed_as_replaced():
    call_command("seed_demo", stdout=StringIO())
    linh = User.objects.get(email="linh.nguyen@example.com")
    calendar_feed_issue(holder=linh, scope="family", actor=linh)
    out = StringIO()

    call_command("show_demo_calendar_links", stdout=out)

    assert "Nguyen family (Linh): replaced or turned off since" in out.getvalue()


@pytest.mark.django_db
def test_the_models_and_the_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
