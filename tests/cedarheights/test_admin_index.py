"""The owner's admin: the index in the order the owner works, a greeting by name, Enroll by phone, readable runs."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cedarheights.models import PipelineRun, StepRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    call_command("seed_demo", stdout=StringIO())
    client.force_login(User.objects.get(email="admin@cedarheights.test"))
    return client


def test_the_index_groups_the_school_first_and_the_system_last(owner_client):
    """Failed before the fix: Auth token, Groups, Axes, Background tasks and Djstripe came before Families."""
    page = owner_client.get(reverse("admin:index")).content.decode()
    headings = re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>([^<]+)</a>', page)
    assert headings == [
        "Students and enrollments",
        "Families",
        "Teachers, lessons and the school&#x27;s calendar",
        "Billing",
        "Payroll",
        "Privacy",
        "System",
    ]
    assert page.index("The school at a glance") < page.index("Students and enrollments")
    system = page[page.index(">System<") :]
    for name in ("Auth tokens", "Groups", "Access attempts", "Queued tasks", "Customers", "Email logs"):
        assert f">{name}<" in system, name
    privacy = page[page.index(">Privacy<") : page.index(">System<")]
    for name in ("Access requests", "Correction requests", "Audit events", "Breaches of security safeguards"):
        assert f">{name}<" in privacy, name


def test_the_sidebar_follows_the_same_order(owner_client):
    page = owner_client.get(reverse("admin:scheduling_student_changelist")).content.decode()
    sidebar = page[page.index('id="nav-sidebar"') :]
    assert sidebar.index("Students and enrollments") < sidebar.index("Families") < sidebar.index(">System<")


def test_the_header_greets_the_owner_by_name_and_the_index_offers_enroll_by_phone(owner_client):
    """Failed before the fix: "Welcome, School", and Enroll by phone only on the enrollments list."""
    page = owner_client.get(reverse("admin:index")).content.decode()
    assert re.search(r"Welcome,\s*<strong>Amira</strong>", page)
    phone = reverse("admin:enrollment_enrollment_phone")
    assert f'<a href="{phone}" class="addlink">Enroll by phone</a>' in page
    assert page.index("Enroll by phone") < page.index("The school at a glance")


def test_a_pipeline_run_shows_rounded_durations_and_steps_by_name(owner_client):
    """Failed before the fix: "77.41270600001826" and a bare `validate_enrollment`."""
    run = PipelineRun.objects.create(
        pipeline="enrollment",
        status="failed",
        failed_step="assign_teacher",
        started_at=timezone.now(),
        duration_ms=77.41,
    )
    StepRun.objects.create(run=run, position=1, name="validate_enrollment", status="succeeded", duration_ms=3.6)
    StepRun.objects.create(run=run, position=2, name="assign_teacher", status="failed", duration_ms=0.2)

    page = owner_client.get(reverse("admin:cedarheights_pipelinerun_change", args=[run.pk])).content.decode()

    assert "77 ms" in page and "77.41" not in page
    assert "Validate enrollment (validate_enrollment)" in page and "4 ms" in page and "under 1 ms" in page
    assert page.count("Assign a teacher (assign_teacher)") == 2  # the failed step, and its row
    listing = owner_client.get(reverse("admin:cedarheights_pipelinerun_changelist")).content.decode()
    assert "77 ms" in listing and "Assign a teacher (assign_teacher)" in listing


def test_each_group_heading_opens_its_first_list_whatever_app_that_list_lives_in(owner_client):
    """Made to fail first: a heading opened its first model's app page, which after the models moved (students to
    scheduling, tuition plans to enrollment) showed another group's lists."""
    groups = owner_client.get(reverse("admin:index")).context["available_apps"]
    headings = {group["name"]: group["app_url"] for group in groups}
    assert headings["Students and enrollments"] == reverse("admin:scheduling_student_changelist")
    assert headings["Billing"] == reverse("admin:enrollment_tuitionplan_changelist")
    assert headings["System"] == reverse("admin:knox_authtoken_changelist")
