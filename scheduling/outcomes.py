"""How a lesson ended, and what each ending means: the one table every service, the admin's help text and the
portals read (../shared/notes/school-policies.md, "Lesson outcomes").

A lesson without an outcome is still scheduled. Changing an outcome reverses what the old one issued (a make-up
credit, a fee) and issues what the new one issues: the layers above listen to `lesson_outcome_changed`
(scheduling/signals.py) and do it in the same transaction.
"""

from dataclasses import dataclass

from django.db import models


class Outcome(models.TextChoices):
    ATTENDED = "attended", "Attended"
    CANCELLED_WITH_NOTICE = "cancelled_with_notice", "Cancelled with notice"
    LATE_CANCEL = "late_cancel", "Late cancellation"
    LATE_CANCEL_SICK = "late_cancel_sick", "Late cancellation (sick pass)"
    NO_SHOW = "no_show", "No-show"
    TEACHER_CANCELLED = "teacher_cancelled", "Cancelled by the teacher"
    SCHOOL_CLOSED = "school_closed", "School closed"
    # Not a lesson week's event but the school's own work: the weekly time was given up (an enrollment paused or
    # ended), so the lesson is neither taught, charged, paid nor made up.
    RELEASED = "released", "Released (enrollment paused or ended)"


class CreditRule(models.TextChoices):
    NONE = "none", "no credit"
    CAPPED = "capped", "a credit, within the term's cap"
    SICK_PASS = "sick_pass", "a credit, using a sick pass"
    UNCAPPED = "uncapped", "a credit, never capped"


@dataclass(frozen=True)
class OutcomeFlags:
    delivered: bool
    charged_flat: bool
    charged_per_lesson: bool
    teacher_paid: bool
    credit: CreditRule

    @property
    def issues_credit(self) -> bool:
        return self.credit != CreditRule.NONE


FLAGS: dict[str, OutcomeFlags] = {
    Outcome.ATTENDED: OutcomeFlags(True, True, True, True, CreditRule.NONE),
    Outcome.CANCELLED_WITH_NOTICE: OutcomeFlags(False, True, False, False, CreditRule.CAPPED),
    Outcome.LATE_CANCEL: OutcomeFlags(False, True, True, True, CreditRule.NONE),
    Outcome.LATE_CANCEL_SICK: OutcomeFlags(False, True, False, True, CreditRule.SICK_PASS),
    Outcome.NO_SHOW: OutcomeFlags(False, True, True, True, CreditRule.NONE),
    Outcome.TEACHER_CANCELLED: OutcomeFlags(False, True, False, False, CreditRule.UNCAPPED),
    Outcome.SCHOOL_CLOSED: OutcomeFlags(False, True, False, False, CreditRule.UNCAPPED),
    Outcome.RELEASED: OutcomeFlags(False, False, False, False, CreditRule.NONE),
}

# The outcomes that free the lesson's time (the lesson's status becomes `cancelled`).
CANCELLING = frozenset(outcome for outcome in Outcome if outcome not in {Outcome.ATTENDED, Outcome.NO_SHOW})
# The lesson's status follows its outcome (the constraint `lesson_status_follows_outcome` holds it).
STATUS_OF_OUTCOME = {"": "scheduled", Outcome.ATTENDED: "completed", Outcome.NO_SHOW: "no_show"} | {
    outcome: "cancelled" for outcome in CANCELLING
}
# A family's own cancellations: a fee may follow on per-lesson plans.
FEE_PERCENT_SETTING = {Outcome.NO_SHOW: "no_show_fee_percent", Outcome.LATE_CANCEL: "late_cancel_fee_percent"}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def flags_rows() -> list[tuple[str, str, str, str, str, str]]:
    """The table in words, an outcome a row: its label; delivered; family charged, flat and per lesson; teacher
    paid; make-up."""
    rows = []
    for key, f in FLAGS.items():
        marks = [_yes(flag) for flag in (f.delivered, f.charged_flat, f.charged_per_lesson, f.teacher_paid)]
        rows.append((Outcome(key).label, *marks, f.credit.label))
    return rows


def flags_table_text() -> str:
    """The table as the model's help text says it."""
    return " ".join(
        f"{label}: delivered {delivered}; family charged {flat} (flat) / {per_lesson} (per lesson); teacher paid "
        f"{paid}; make-up: {makeup}."
        for label, delivered, flat, per_lesson, paid, makeup in flags_rows()
    )
