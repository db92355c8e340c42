from cedarheights.services import audited_create, audited_update
from scheduling.models import Student


def student_create(*, actor, **fields) -> Student:
    return audited_create(actor=actor, model=Student, **fields)


def student_update(*, actor, student: Student, **fields) -> Student:
    return audited_update(actor=actor, obj=student, **fields)


def enrollment_set_billing_status(*, enrollment_id: int, paused: bool) -> None:
    """Billing pauses an enrollment after its last failed retry, and resumes it when a payment recovers."""
    from enrollment.models import Enrollment

    current, new = (
        (Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED)
        if paused
        else (Enrollment.Status.PAUSED, Enrollment.Status.ACTIVE)
    )
    Enrollment.objects.filter(pk=enrollment_id, status=current).update(status=new)
