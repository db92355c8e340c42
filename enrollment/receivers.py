"""Enrollment's answers to the events of the layers below it (scheduling/signals.py)."""

from enrollment.credits import makeup_credit_follow_outcome
from scheduling.signals import lesson_outcome_changed


def lesson_outcome_credit(sender, *, lesson, previous: str, actor, **kwargs) -> None:
    makeup_credit_follow_outcome(lesson=lesson, previous=previous, actor=actor)


def receivers_connect() -> None:
    lesson_outcome_changed.connect(lesson_outcome_credit, dispatch_uid="enrollment.lesson_outcome_credit")
