"""Who may change a lesson's status, from what to what: the one table `lesson_status_change` (services.py)
follows for every writer (the API, the admin, the school's own jobs). A change not listed is refused to all.

Later rules about a lesson's outcome belong here too, as rows of the table, not as checks in an interface.
"""

from enum import StrEnum

from cedarheights.roles import is_parent, is_school_admin, is_teacher
from scheduling.models import Lesson


class Role(StrEnum):
    """What a person is to one lesson."""

    OWNER = "the school"  # the owner and staff; also the school's own jobs (no person: `actor=None`)
    TEACHER = "the lesson's teacher"
    PARENT = "the child's family"


Status = Lesson.Status
OWNER, TEACHER, PARENT = Role.OWNER, Role.TEACHER, Role.PARENT

TRANSITIONS: dict[tuple[str, str], frozenset[Role]] = {
    # (from, to): who may
    (Status.SCHEDULED, Status.CANCELLED): frozenset({OWNER, PARENT}),  # a family: before the notice window
    (Status.SCHEDULED, Status.COMPLETED): frozenset({OWNER, TEACHER}),  # attendance ...
    (Status.SCHEDULED, Status.NO_SHOW): frozenset({OWNER, TEACHER}),
    (Status.COMPLETED, Status.NO_SHOW): frozenset({OWNER, TEACHER}),  # ... corrected
    (Status.NO_SHOW, Status.COMPLETED): frozenset({OWNER, TEACHER}),
    (Status.COMPLETED, Status.SCHEDULED): frozenset({OWNER, TEACHER}),  # ... taken back
    (Status.NO_SHOW, Status.SCHEDULED): frozenset({OWNER, TEACHER}),
    (Status.CANCELLED, Status.SCHEDULED): frozenset({OWNER}),  # reopened; the cancellation stays in the audit trail
}

# Attendance is taken once the lesson has started, whoever takes it.
ONCE_STARTED = frozenset({Status.COMPLETED, Status.NO_SHOW})


def lesson_role(*, actor, lesson: Lesson) -> Role | None:
    """What `actor` is to this lesson; None when they have no part in it. `actor=None` is the school itself."""
    if actor is None or is_school_admin(actor):
        return OWNER
    if is_teacher(actor) and lesson.teacher_id == actor.teacher.pk:
        return TEACHER
    if is_parent(actor) and lesson.student.family_id == actor.family_id:
        return PARENT
    return None
