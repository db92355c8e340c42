from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from billing.services import catalog_sync
from enrollment.pipelines import ChildInput, EnrollmentInput
from scheduling.selectors import Window
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


def form_for(ready, *, email="new.parent@example.com", children=None, windows=None, **overrides) -> EnrollmentInput:
    card = ready["stripe"].card("4242424242424242")
    fields = {
        "parent_first_name": "Maya",
        "parent_last_name": "Lopez",
        "email": email,
        "phone": "416-555-0188",
        "children": children or [ChildInput("Lucia", "Lopez", date(2016, 3, 4), ready["piano"].pk)],
        "windows": windows or [Window(0, time(16), time(17)), Window(2, time(16), time(18))],
        "tuition_plan_id": ready["plan"].pk,
        "consent": True,
        "payment_method_id": card,
    }
    return EnrollmentInput(**{**fields, **overrides})
