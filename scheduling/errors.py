"""What the scheduling services refuse, as domain errors (see cedarheights.errors)."""

from cedarheights.errors import DomainError


class LessonConflict(DomainError):
    """The lesson would overlap another lesson of the same teacher, student or room."""

    code = "lesson_conflict"
    status = 409

    def __init__(self, message: str, *, conflicting_lesson_id: int | None = None):
        super().__init__(message)
        self.conflicting_lesson_id = conflicting_lesson_id

    def body_extra(self) -> dict:
        return {"conflicting_lesson": self.conflicting_lesson_id}


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


class NoSickPassLeft(DomainError):
    """The enrollment has used every sick pass of the term (School settings)."""

    code = "no_sick_pass_left"
    status = 409


class CancellationDecided(DomainError):
    """The owner already answered this teacher's cancellation (a substitute, or the credit stands)."""

    code = "cancellation_decided"
    status = 409


class MakeupBlockOverlap(DomainError):
    """The make-up block overlaps another of the teacher's (the exclusion constraint `makeup_block_no_overlap`)."""

    code = "makeup_block_overlap"
    status = 409


class MakeupBlockInUse(DomainError):
    """A make-up lesson is booked inside the block: it stays while that lesson does."""

    code = "makeup_block_in_use"
    status = 409


class WeeklyTimeTaken(DomainError):
    """The student already has a standing weekly lesson on that weekday at that time (the database's
    `weekly_lesson_one_standing_time`)."""

    code = "weekly_time_taken"
    status = 409
