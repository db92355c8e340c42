"""What a family types into the enrollment form, as the pipeline receives it."""

from datetime import date, time

from enrollment.inputs import ChildInput, EnrollmentInput
from scheduling.slots import Window


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
