"""What the scheduling services refuse, as domain errors (see cedarheights.errors)."""

from cedarheights.errors import DomainError


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
