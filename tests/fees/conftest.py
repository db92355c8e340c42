import pytest

from billing.services.catalog import catalog_sync
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from tests.factories import AcademicYearFactory, ParentFactory, TuitionPlanFactory


@pytest.fixture(autouse=True)
def stripe_server(local_stripe):
    """Fees go to the local Stripe server, reset to empty, as every billing test does."""
    return local_stripe


def fee_settings(**fields):
    """Change the school's fee settings (registration_fee_cents, late_fee_cents)."""
    return school_settings_update(school_settings=school_settings_get(), **fields)


@pytest.fixture
def this_year(school):
    """The school year containing today."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    return AcademicYearFactory(
        name="This year", start_date=today - timedelta(days=120), end_date=today + timedelta(days=240)
    )


@pytest.fixture
def family(school):
    return ParentFactory(email="parent@example.com", first_name="Rosa").family


@pytest.fixture
def plan(stripe_server, school):
    plan = TuitionPlanFactory(name="Piano 30 min, monthly", price_cents=14_000)
    catalog_sync()
    plan.refresh_from_db()
    return plan
