"""A small school ready to enroll into: a piano teacher, a term, a plan on the local Stripe server."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.services.catalog import catalog_sync
from tests.factories import AvailabilityFactory, InstrumentFactory, TeacherFactory, TermFactory, TuitionPlanFactory


@pytest.fixture
def school_ready(school, local_stripe):
    """A piano teacher free on Mondays 16:00–17:00 and Wednesdays 16:00–18:00, a term, a plan on Stripe."""
    piano = InstrumentFactory(name="Piano")
    teacher = TeacherFactory(instruments=[piano], capacity=20)
    AvailabilityFactory(teacher=teacher, weekday=0, start_time="16:00", end_time="17:00")
    AvailabilityFactory(teacher=teacher, weekday=2, start_time="16:00", end_time="18:00")
    today = timezone.localdate()
    TermFactory(start_date=today - timedelta(days=30), end_date=today + timedelta(days=90))
    plan = TuitionPlanFactory(instrument=piano, price_cents=14_000)
    catalog_sync()
    plan.refresh_from_db()
    return {"piano": piano, "teacher": teacher, "plan": plan, "stripe": local_stripe}
