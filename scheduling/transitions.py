"""Who may record which outcome of a lesson, and when: the one table `lesson_outcome_set` (services.py) follows for
every writer (the portals, the API, the admin, the school's own jobs). What an outcome means is in outcomes.py.
"""

from enum import StrEnum

from cedarheights.roles import is_parent, is_school_admin, is_teacher
from scheduling.models import Lesson
from scheduling.outcomes import Outcome


class Role(StrEnum):
    """What a person is to one lesson."""

    OWNER = "the school"  # the owner and staff; also the school's own jobs (no person: `actor=None`)
    TEACHER = "the lesson's teacher"
    PARENT = "the child's family"


OWNER, TEACHER, PARENT = Role.OWNER, Role.TEACHER, Role.PARENT
STILL_TO_COME = ""  # no outcome yet: the lesson is scheduled

# outcome: who may record it. The school may record any outcome over any other, at any time; a teacher and a family
# record theirs on a lesson still to come, and a teacher corrects their own attendance (ATTENDANCE_CORRECTIONS).
WHO_RECORDS: dict[str, frozenset[Role]] = {
    STILL_TO_COME: frozenset({OWNER, TEACHER}),  # reopened (the school), or attendance taken back (the teacher)
    Outcome.ATTENDED: frozenset({OWNER, TEACHER}),
    Outcome.NO_SHOW: frozenset({OWNER, TEACHER}),
    Outcome.CANCELLED_WITH_NOTICE: frozenset({OWNER, PARENT}),
    Outcome.LATE_CANCEL: frozenset({OWNER, PARENT}),
    Outcome.LATE_CANCEL_SICK: frozenset({OWNER, PARENT}),
    Outcome.TEACHER_CANCELLED: frozenset({OWNER, TEACHER}),
    Outcome.SCHOOL_CLOSED: frozenset({OWNER}),
    Outcome.RELEASED: frozenset({OWNER}),
}
ATTENDANCE = frozenset({Outcome.ATTENDED, Outcome.NO_SHOW})
# A teacher may move their own attendance between these (a mistake corrected), outcome to outcome.
ATTENDANCE_CORRECTIONS = ATTENDANCE | {STILL_TO_COME}
FAMILY_CANCELS = frozenset({Outcome.CANCELLED_WITH_NOTICE, Outcome.LATE_CANCEL, Outcome.LATE_CANCEL_SICK})

# The status the older API's `status` field asks for, as an outcome (a cancellation's outcome depends on who asks).
STATUS_OUTCOME = {
    Lesson.Status.SCHEDULED: STILL_TO_COME,
    Lesson.Status.COMPLETED: Outcome.ATTENDED,
    Lesson.Status.NO_SHOW: Outcome.NO_SHOW,
}


def lesson_role(*, actor, lesson: Lesson) -> Role | None:
    """What `actor` is to this lesson; None when they have no part in it. `actor=None` is the school itself."""
    if actor is None or is_school_admin(actor):
        return OWNER
    if is_teacher(actor) and lesson.teacher_id == actor.teacher.pk:
        return TEACHER
    if is_parent(actor) and lesson.student.family_id == actor.family_id:
        return PARENT
    return None
