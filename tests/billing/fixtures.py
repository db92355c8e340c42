"""Billing fixtures for tests/billing and the replays in tests/reliability (a plugin of tests/conftest.py)."""

import pytest

from billing.models import TuitionSubscription
from tests.factories import EnrollmentFactory, ParentFactory, StudentFactory, TuitionPlanFactory


@pytest.fixture
def subscription(school):
    """An active tuition subscription ("sub_test_1" at Stripe) of a family with one active enrollment."""
    parent = ParentFactory(email="parent@example.com")
    enrollment = EnrollmentFactory(student=StudentFactory(family=parent.family), status="active")
    return TuitionSubscription.objects.create(
        family=parent.family,
        tuition_plan=TuitionPlanFactory(price_cents=14_000),
        enrollment=enrollment,
        stripe_subscription_id="sub_test_1",
        status="active",
    )
