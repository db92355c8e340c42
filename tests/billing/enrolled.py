"""Families enrolled through the real pipeline, their billing handed to the local Stripe server."""

import uuid

from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from tests.factories import GOOD_CARD, EnrollmentInputFactory


def enroll_two_children(django_capture_on_commit_callbacks, card: str = GOOD_CARD) -> list[Enrollment]:
    """Lucia and Mateo enrolled with `card`, the emails and the billing hand-off run as on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return enrollment_submit(form=EnrollmentInputFactory(siblings=True, card=card), idempotency_key=uuid.uuid4())
