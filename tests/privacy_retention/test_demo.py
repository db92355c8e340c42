from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Breach, Family
from cedarheights.demo.retention import LEFT, WAITING
from cedarheights.privacy_retention import FINANCIAL, INACTIVE, LESSONS, retention_plan

pytestmark = pytest.mark.django_db


def test_the_demos_dry_run_lists_the_family_who_left_and_the_one_still_waitlisted_and_its_breach_has_notices():
    call_command("seed_demo", stdout=StringIO())

    plan = retention_plan()

    due = {(change.family_name, change.kind) for change in plan.changes}
    assert due == {(LEFT, LESSONS), (LEFT, FINANCIAL), (WAITING, INACTIVE)}
    printed = StringIO()
    call_command("privacy_retention", "--dry-run", stdout=printed)
    assert LEFT in printed.getvalue() and WAITING in printed.getvalue()
    [breach] = Breach.objects.all()
    assert breach.real_risk_of_significant_harm and breach.commissioner_notified_on and breach.people_notified_on
    assert "Report of a breach" in breach.commissioner_notice and list(breach.affected_families.all())
    assert Family.objects.filter(anonymised_at__isnull=False).count() == 0
