"""What the scheduling services refuse, as domain errors (see cedarheights.errors)."""

from cedarheights import errors as core_errors
from cedarheights.errors import DomainError


# Its base is the core's class of the same name only while the core's error body recognises that class to add
# `conflicting_lesson` (cedarheights/api.py); when the class leaves cedarheights/errors.py, the base is DomainError.
class LessonConflict(core_errors.LessonConflict):
    """The lesson would overlap another lesson of the same teacher, student or room."""

    code = "lesson_conflict"
    status = 409

    def __init__(self, message: str, *, conflicting_lesson_id: int | None = None):
        super().__init__(message)
        self.conflicting_lesson_id = conflicting_lesson_id


class ClosureConflict(DomainError):
    """The school, or the teacher, is closed that day."""

    code = "closed"
    status = 409


class OutsideAvailability(DomainError):
    """The lesson is not inside one of the teacher's weekly windows."""

    code = "outside_availability"
    status = 409


class LessonStatusRefused(DomainError):
    """The lesson cannot go from its status to the one asked, for this person, now (see scheduling.transitions)."""

    code = "status_not_allowed"


class NotYourLesson(DomainError):
    """The person has no part in this lesson: neither the school, nor its teacher, nor the child's family."""

    code = "permission_denied"
    status = 403


class TooLateToCancel(DomainError):
    code = "too_late"
    status = 409


class TermOverlap(DomainError):
    """The term's dates share a day with another term's (the exclusion constraint `term_no_overlap` agrees)."""

    code = "term_overlap"
    status = 409
