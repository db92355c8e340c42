"""Families enrolled through the real pipeline, their billing handed to the local Stripe server."""

import uuid
from datetime import date

from django.utils import timezone

from enrollment.pipelines import ChildInput, enrollment_submit
from tests.enrollment.inputs import form_for


def enroll_two_children(school_ready, django_capture_on_commit_callbacks, card: str | None = None):
    piano, born = school_ready["piano"].pk, date(timezone.localdate().year - 9, 3, 4)
    form = form_for(
        school_ready,
        children=[ChildInput("Lucia", "Lopez", born, piano), ChildInput("Mateo", "Lopez", born, piano)],
        **({"payment_method_id": school_ready["stripe"].card(card)} if card else {}),
    )
    with django_capture_on_commit_callbacks(execute=True):
        return enrollment_submit(form=form, idempotency_key=uuid.uuid4())
