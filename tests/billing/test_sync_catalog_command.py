from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import TuitionPlanFactory

pytestmark = pytest.mark.django_db


def sync_catalog() -> str:
    out = StringIO()
    call_command("billing_sync_catalog", stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_the_catalog_sync_says_exactly_what_it_did(local_stripe):
    """Made to fail first: it said "2 plan(s) synced; the others already had a price." with no others."""
    TuitionPlanFactory.create_batch(2)

    assert sync_catalog() == "2 tuition plan(s) given a Stripe price."
    assert sync_catalog() == "Every active tuition plan already has a Stripe price."
