"""A check that could not reach the database is not a broken rule.

Django's `Q.check` (a conditional UniqueConstraint's validation) logs a database error and answers "violated", so a
connection ended in the middle of an enrollment answered 400 "Constraint family_external_id_unique is violated."
(seen once in CI, in the fault burst) where it should have answered 503 and been sent again. Made to fail first:
without `model_validate`'s probe, this test got that ValidationError.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import Family
from accounts.services import family_create
from cedarheights.outage import is_outage
from tests.reliability.test_database_outage_faults import terminate_app_connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _dead_connection_dropped():
    yield
    connection.close()


def test_a_family_validated_on_a_dead_connection_is_an_outage_not_a_violation():
    terminate_app_connection()

    with pytest.raises(Exception) as raised:
        family_create(actor=None, name="The Ngs")

    assert is_outage(raised.value), repr(raised.value)
    connection.close()
    assert not Family.objects.exists()


def test_a_real_violation_is_still_a_validation_error():
    family_create(actor=None, name="The Ngs", external_id="F-1")

    with pytest.raises(ValidationError) as raised:
        family_create(actor=None, name="The other Ngs", external_id="F-1")

    assert "family_external_id_unique" in str(raised.value) or "external" in str(raised.value).lower()
    assert Family.objects.count() == 1
