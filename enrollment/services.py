from django.db import transaction

from cedarheights.services import audit_record
from enrollment.models import Student


@transaction.atomic
def student_create(*, actor, **fields) -> Student:
    student = Student(**fields)
    student.full_clean()
    student.save()
    audit_record(actor=actor, action="create", obj=student, changes={k: [None, str(v)] for k, v in fields.items()})
    return student


@transaction.atomic
def student_update(*, actor, student: Student, **fields) -> Student:
    changes = {
        name: [str(getattr(student, name)), str(value)]
        for name, value in fields.items()
        if getattr(student, name) != value
    }
    for name, value in fields.items():
        setattr(student, name, value)
    student.full_clean()
    student.save()
    if changes:
        audit_record(actor=actor, action="update", obj=student, changes=changes)
    return student
