"""The owner's big lists in the admin (lessons of this week, students, families, payments, the ledger, enrollments)
answer in a fixed number of queries whatever the rows on the page, and write one audit event per page.

Made to fail: the families' student count back as `Count("students")` (its counts then carried a GROUP BY: the
families test failed); the ledger's `list_filter` back to "family" (a query and a choice per family: the ledger's
fixed-count test and its filter tests failed)."""

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from uuid import uuid4

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Family, User
from billing.models import LedgerEntry, Payment
from cedarheights.models import AuditEvent
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student
from tests.factories import InstrumentFactory, TeacherFactory, TuitionPlanFactory, years_ago


def this_week() -> tuple[datetime, datetime]:
    today = timezone.localdate()
    monday = timezone.make_aware(datetime.combine(today - timedelta(days=today.weekday()), time.min))
    return monday, monday + timedelta(days=7)


def lesson_week_url() -> str:
    monday, next_monday = this_week()
    week = {"start_at__gte": monday.isoformat(), "start_at__lt": next_monday.isoformat()}
    return f"/admin/scheduling/lesson/?{urlencode(week)}"


LISTS = {
    "lessons this week": lesson_week_url,
    "students": lambda: "/admin/scheduling/student/",
    "families": lambda: "/admin/accounts/family/",
    "payments": lambda: "/admin/billing/payment/",
    "ledger": lambda: "/admin/billing/ledgerentry/",
    "enrollments": lambda: "/admin/enrollment/enrollment/",
}
# Session, user, the list's filter choices, its two counts (or one), settings and notice checks for the sidebar, the
# page's rows, their prefetches, the audit event, the date hierarchy's range and steps.
QUERIES = {
    "lessons this week": 11,
    "students": 10,
    "families": 11,
    "payments": 10,
    "ledger": 10,
    "enrollments": 11,
}


@pytest.fixture
def owner(db, client):
    user = User.objects.create_superuser("owner@cedarheights.test", None)
    client.force_login(user)
    return user


@pytest.fixture
def school(db):
    """What every row hangs on: two teachers (one shown per student and lesson), an instrument, a plan."""
    piano = InstrumentFactory(name="Piano")
    return {"teachers": [TeacherFactory(instruments=[piano]) for _ in range(2)], "piano": piano}


def rows_add(school: dict, count: int) -> None:
    """`count` more of each: families with a child each, this week's lessons, payments, ledger lines, enrollments
    with a demo lesson, made in bulk as a school's years of them would be."""
    plan = TuitionPlanFactory(instrument=school["piano"])
    families = Family.objects.bulk_create(
        Family(name=f"Family {uuid4().hex[:8]}", city="Toronto", province="ON") for _ in range(count)
    )
    teachers = school["teachers"]
    students = Student.objects.bulk_create(
        Student(
            family=family,
            first_name="Ada",
            last_name=family.name,
            date_of_birth=years_ago(10),
            instrument=school["piano"],
            teacher=teachers[n % 2],
        )
        for n, family in enumerate(families)
    )
    monday, _ = this_week()
    taken = Lesson.objects.count()  # each lesson its own half hour of the week: no teacher is booked twice
    lessons = Lesson.objects.bulk_create(
        Lesson(
            teacher=student.teacher,
            student=student,
            start_at=monday + timedelta(minutes=30 * (taken + n)),
            end_at=monday + timedelta(minutes=30 * (taken + n) + 30),
        )
        for n, student in enumerate(students)
    )
    Payment.objects.bulk_create(Payment(family=family, amount_cents=14_000) for family in families)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(family=family, kind=LedgerEntry.Kind.CHARGE, amount_cents=14_000, description="Tuition")
        for family in families
    )
    Enrollment.objects.bulk_create(
        Enrollment(
            student=student,
            instrument=school["piano"],
            tuition_plan=plan,
            idempotency_key=uuid4(),
            demo_lesson=lesson,
        )
        for student, lesson in zip(students, lessons, strict=True)
    )


def page_queries(client, url: str) -> list[dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return list(captured)


@pytest.mark.parametrize("name", LISTS)
def test_a_list_answers_in_fixed_queries_and_writes_one_audit_event(owner, school, client, name):
    url = LISTS[name]()
    rows_add(school, 2)
    client.get(url)  # warm: the first request of a process fills the settings cache
    small = page_queries(client, url)
    rows_add(school, 30)
    events_before = AuditEvent.objects.count()
    larger = page_queries(client, url)

    assert len(small) == len(larger) == QUERIES[name], [query["sql"][:120] for query in larger]
    assert [query["sql"] for query in larger if query["sql"].startswith('INSERT INTO "cedarheights_auditevent"')]
    assert AuditEvent.objects.count() == events_before + 1


def test_the_families_list_counts_families_alone_and_shows_each_ones_students_and_balance(owner, school, client):
    rows_add(school, 3)
    family = Family.objects.order_by("name", "pk").first()
    Student.objects.create(
        family=family, first_name="Bo", last_name="Second", date_of_birth=years_ago(8), instrument=school["piano"]
    )

    queries = page_queries(client, LISTS["families"]())
    page = client.get(LISTS["families"]()).content.decode()

    counts = [query["sql"] for query in queries if query["sql"].startswith("SELECT COUNT(*)")]
    assert counts and all("scheduling_student" not in sql and "billing_ledgerentry" not in sql for sql in counts)
    row = re.search(rf"<tr>(?:(?!</tr>).)*?{re.escape(family.name)}.*?</tr>", page, re.S).group(0)
    assert '<td class="field-student_count">2</td>' in row
    assert '<td class="field-balance">$140.00 CAD</td>' in row


def test_the_ledgers_family_filter_names_the_chosen_family_only(owner, school, client):
    rows_add(school, 3)
    chosen, other = Family.objects.order_by("pk")[:2]

    unfiltered = client.get("/admin/billing/ledgerentry/").content.decode()
    filtered = client.get(f"/admin/billing/ledgerentry/?family__id__exact={chosen.pk}").content.decode()

    sidebar = unfiltered.split('id="changelist-filter"')[1].split("</nav>")[0]
    assert chosen.name not in sidebar and f"family__id__exact={chosen.pk}" not in sidebar  # no choice per family
    assert f'<a href="?family__id__exact={chosen.pk}">{chosen.name}</a>' in unfiltered  # its rows open its ledger
    assert f'<a href="?family__id__exact={chosen.pk}">{chosen.name}</a>' in filtered
    assert other.name not in filtered
    assert "$140.00" in filtered  # the running balance, shown once filtered by family


@pytest.mark.parametrize("family_id", ["abc", "99999999"])
def test_the_ledger_of_no_family_shows_no_entries(owner, school, client, family_id):
    rows_add(school, 2)

    page = client.get(f"/admin/billing/ledgerentry/?family__id__exact={family_id}").content.decode()

    assert "No such family" in page
    assert "0 ledger entries" in page


def test_the_enrollments_list_shows_each_demo_lessons_start(owner, school, client):
    rows_add(school, 2)
    starts = Enrollment.objects.order_by("-created_at", "-pk").values_list("demo_lesson__start_at", flat=True)

    page = client.get(LISTS["enrollments"]()).content.decode()

    with translation.override(settings.LANGUAGE_CODE):
        expected = [str(display_for_value(start, "—")) for start in starts]
    assert re.findall(r'<td class="field-demo_at[^"]*">([^<]*)</td>', page) == expected


def test_the_students_list_reads_in_the_apis_order(owner, school, client):
    rows_add(school, 3)
    expected = list(Student.objects.order_by("last_name", "first_name", "pk").values_list("pk", flat=True))

    page = client.get(LISTS["students"]()).content.decode()

    assert [int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', page)] == expected


@pytest.mark.parametrize("model", [Lesson, Student, Family, Payment, LedgerEntry, Enrollment], ids=str)
def test_a_lists_row_checkbox_is_djangos_own_markup(owner, school, model):
    rows_add(school, 1)
    model_admin = admin.site._registry[model]
    row = model.objects.first()

    assert str(model_admin.action_checkbox(row)) == str(admin.ModelAdmin.action_checkbox(model_admin, row))
