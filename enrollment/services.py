from cedarheights.services import audited_create, audited_update
from enrollment.models import Student


def student_create(*, actor, **fields) -> Student:
    return audited_create(actor=actor, model=Student, **fields)


def student_update(*, actor, student: Student, **fields) -> Student:
    return audited_update(actor=actor, obj=student, **fields)
