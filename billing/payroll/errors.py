"""Payroll's domain errors (billing's, kept beside the payroll package they belong to). Each lists the lessons the
owner must act on, so the admin shows them and the API answers them (`lessons` in the error body)."""

from collections.abc import Iterable

from django.utils import timezone

from cedarheights.errors import DomainError


class _NamesLessons:
    """Carries the lessons a refusal is about (a mixin of the errors below, which are DomainErrors)."""

    def __init__(self, message: str, *, lessons: Iterable = ()):
        super().__init__(message)
        self.lessons = list(lessons)

    def body_extra(self) -> dict:
        return {
            "lessons": [
                {
                    "id": lesson.pk,
                    "start_at": lesson.start_at.isoformat(),
                    "teacher": str(lesson.teacher),
                    "student": str(lesson.student),
                }
                for lesson in self.lessons
            ]
        }

    def lesson_lines(self) -> list[str]:
        return [
            f"{timezone.localtime(lesson.start_at):%a %-d %b %H:%M}: {lesson.student} with {lesson.teacher}"
            for lesson in self.lessons
        ]


class LessonsUnmarked(_NamesLessons, DomainError):
    """A pay period closes only when every lesson of it that has started has an outcome (listed in `lessons`)."""

    code = "lessons_unmarked"
    status = 409


class PayPeriodNotClosable(_NamesLessons, DomainError):
    """The period cannot close yet: it has not ended, an earlier one is still open, or a paid lesson has no pay
    rate in force (listed in `lessons`)."""

    code = "pay_period_not_closable"
    status = 409


class PayRateTaken(DomainError):
    """Two requests wrote the same rate (teacher, kind and length, first day) at once: the first one stands."""

    code = "conflict"
    status = 409
