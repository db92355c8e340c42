"""Who could take a lesson its teacher cancelled: the owner's list when sending a substitute
(`teacher_cancellation_decide`)."""

from dataclasses import dataclass

from cedarheights.errors import DomainError
from cedarheights.selectors import school_settings_get
from scheduling.models import Lesson, Teacher
from scheduling.selectors import availability_covers
from scheduling.services import lesson_slot_validate


@dataclass(frozen=True)
class Substitute:
    teacher: Teacher
    within_hours: bool  # the lesson lies inside the teacher's weekly hours (else they would come in specially)


def substitutes_for(*, lesson: Lesson) -> list[Substitute]:
    """Every other active teacher of the child's instrument who is free at the lesson's time (no lesson of theirs
    within the school's buffer, no closure of theirs, the room still free), those teaching then first."""
    zone = school_settings_get().zone
    candidates = Teacher.objects.filter(active=True, instruments=lesson.student.instrument_id).exclude(
        pk=lesson.teacher_id
    )
    free = []
    for teacher in candidates.order_by("user__last_name", "user__first_name", "pk"):
        try:
            lesson_slot_validate(
                teacher=teacher,
                student=lesson.student,
                start_at=lesson.start_at,
                end_at=lesson.end_at,
                room=lesson.room,
                exclude_lesson_id=lesson.pk,
                check_availability=False,  # as the decision books it: an agreed time outside the weekly hours
            )
        except DomainError:
            continue
        within = availability_covers(teacher_id=teacher.pk, start_at=lesson.start_at, end_at=lesson.end_at, zone=zone)
        free.append(Substitute(teacher=teacher, within_hours=within))
    return sorted(free, key=lambda substitute: not substitute.within_hours)
