import importlib
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.apps import apps
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import Breach
from cedarheights.privacy_retention import retention_commit, retention_plan
from tests.privacy_retention.families import past_family, years_before_today

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school")]


def failed_signin(*, days_ago: float) -> tuple[AccessAttempt, AccessFailureLog]:
    common = {"username": f"parent-{days_ago}@example.com", "ip_address": "203.0.113.9", "user_agent": "Firefox"}
    attempt = AccessAttempt.objects.create(failures_since_start=3, get_data="", post_data="", **common)
    failure = AccessFailureLog.objects.create(locked_out=False, **common)
    moment = timezone.now() - timedelta(days=days_ago)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=moment)
    AccessFailureLog.objects.filter(pk=failure.pk).update(attempt_time=moment)
    return attempt, failure


def test_failed_signins_older_than_ninety_days_are_deleted_and_newer_ones_kept():
    old = failed_signin(days_ago=90.01)
    recent = failed_signin(days_ago=89.99)

    assert retention_plan().failed_signins == 2
    outcome = retention_commit()

    assert outcome.failed_signins_deleted == 2
    assert set(AccessAttempt.objects.values_list("pk", flat=True)) == {recent[0].pk}
    assert set(AccessFailureLog.objects.values_list("pk", flat=True)) == {recent[1].pk}
    assert not AccessAttempt.objects.filter(pk=old[0].pk).exists()


def test_the_retention_job_leaves_breach_records_as_they_are():
    gone = past_family(name="Breached family")
    gone.joined_on(years_before_today(6))
    gone.lesson_on(years_before_today(3))
    breach = Breach.objects.create(
        summary="Class list emailed to the wrong parent",
        discovered_on=years_before_today(3),
        information_involved="Names and lesson times",
        people_involved="The Breached family's child",
        people_affected_estimate=3,
        sensitivity=Breach.Level.MEDIUM,
        sensitivity_factors="Children's names",
        probability=Breach.Level.LOW,
        probability_factors="A known parent deleted it",
    )
    breach.affected_families.add(gone.family)
    before = Breach.objects.filter(pk=breach.pk).values().get()

    retention_commit()

    assert Breach.objects.filter(pk=breach.pk).values().get() == before
    assert list(breach.affected_families.values_list("pk", flat=True)) == [gone.family.pk]


def test_the_retention_job_runs_nightly_on_the_worker():
    # The migration's own function: a transactional test elsewhere may have flushed the row it wrote.
    migration = importlib.import_module("cedarheights.migrations.0017_privacy_retention_schedule")
    Schedule.objects.filter(func=migration.NIGHTLY).delete()

    migration.schedule_nightly(apps, None)

    [nightly] = Schedule.objects.filter(func="cedarheights.privacy_retention.retention_commit")

    assert (nightly.schedule_type, nightly.repeats) == (Schedule.DAILY, -1)


def test_the_admin_shows_an_anonymised_family_as_such(owner_client):
    gone = past_family(name="Admin family")
    gone.joined_on(years_before_today(6))
    gone.lesson_on(years_before_today(3))
    retention_commit()

    listed = owner_client.get("/admin/accounts/family/", {"anonymised_at__isempty": "0"})
    page = owner_client.get(f"/admin/accounts/family/{gone.family.pk}/change/")

    assert f"Former family #{gone.family.pk}" in listed.content.decode()
    assert page.status_code == 200 and "Anonymised at" in page.content.decode()
    assert "Admin family" not in page.content.decode()
