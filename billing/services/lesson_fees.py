"""No-show and late-cancellation fees on per-lesson plans: made when a lesson's outcome carries one (pending for
the owner's review), waived by the owner, posted to the family's ledger once the review time is over, and undone
when the outcome changes. Never charged to a card: a posted fee is a ledger charge the family settles as any other.

The rules of what a fee is worth are enrollment's (`lesson_fee_quote`); the database keeps one live fee per lesson
(`lesson_fee_one_live`).
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.errors import LessonFeeSettled
from billing.models import LedgerEntry, LessonFee
from billing.services.ledger import ledger_entry_add
from cedarheights.errors import InvalidInput, TryAgain
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_settings_get
from cedarheights.services import audit_record
from enrollment.credits import enrollment_for_lesson
from enrollment.lesson_prices import lesson_fee_quote
from scheduling.models import Lesson
from scheduling.outcomes import Outcome

LIVE = (LessonFee.Status.PENDING, LessonFee.Status.POSTED)


def _person(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _about(fee: LessonFee) -> str:
    day = timezone.localtime(fee.lesson.start_at, school_settings_get().zone)
    return f"{fee.lesson.student}'s lesson of {day:%a %-d %b %Y}"


def _fee_undo(*, fee: LessonFee, status: str, note: str, actor) -> LessonFee:
    """Take a live fee back as `status` (waived or reversed): a posted one gets the adjustment that cancels its
    charge. The caller holds the fee's lock. One reference for both roads: a fee is undone once, whichever."""
    if fee.status == LessonFee.Status.POSTED:
        ledger_entry_add(
            family=fee.family,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            amount_cents=-fee.amount_cents,
            description=f"{fee.get_kind_display()} {LessonFee.Status(status).label.lower()}: {_about(fee)}",
            reference=f"lesson-fee-reversal:{fee.pk}",
            currency=fee.currency,
        )
    fee.status, fee.note = status, note[:200]
    fee.decided_by, fee.decided_at = _person(actor), timezone.now()
    fee.save(update_fields=["status", "note", "decided_by", "decided_at"])
    return fee


def lesson_fee_follow_outcome(*, lesson: Lesson, actor) -> LessonFee | None:
    """What a lesson's new outcome means for fees (scheduling's `lesson_outcome_changed`, in its transaction): the
    old outcome's live fee is reversed, and the new outcome's fee, if it carries one, is made pending for the
    owner's review. A fee the school's rules waive (the term's first late cancellation) is made waived at once,
    with the reason, so the owner sees it was not forgotten."""
    live = (
        LessonFee.objects.select_for_update(of=("self",))
        .filter(lesson=lesson, status__in=LIVE)
        .select_related("family", "lesson__student")
    )
    for fee in live:
        label = Outcome(lesson.outcome).label.lower() if lesson.outcome else "still to come"
        _fee_undo(fee=fee, status=LessonFee.Status.REVERSED, note=f"Outcome changed to {label}", actor=actor)
    enrollment = enrollment_for_lesson(lesson=lesson)
    quote = lesson_fee_quote(lesson=lesson, outcome=lesson.outcome, enrollment=enrollment)
    if quote is None:
        return None
    now = timezone.now()
    fee = LessonFee(
        lesson=lesson,
        family_id=lesson.student.family_id,
        kind=quote.outcome,
        amount_cents=quote.amount_cents,
        currency=enrollment.tuition_plan.currency,
        posts_at=now + timedelta(hours=school_settings_get().fee_review_hours),
    )
    if quote.waived_because:
        fee.status, fee.note, fee.decided_at = LessonFee.Status.WAIVED, quote.waived_because[:200], now
    try:
        with transaction.atomic():
            fee.save()
    except IntegrityError as error:  # a second live fee: a writer without the lesson's lock; the database said no
        raise TryAgain("The lesson's fee changed meanwhile; please try again.") from error
    return fee


@transaction.atomic
def lesson_fee_waive(*, fee: LessonFee, actor, note: str) -> LessonFee:
    """The owner waives a fee, with a note: a pending one never posts; a posted one gets an adjustment that cancels
    its charge. Waiving it again changes nothing; a fee reversed by an outcome change has nothing left to waive."""
    if not note.strip():
        raise InvalidInput("Say why the fee is waived.", fields={"note": ["Give a reason."]})
    fee = LessonFee.objects.select_for_update(of=("self",)).select_related("family", "lesson__student").get(pk=fee.pk)
    if fee.status == LessonFee.Status.WAIVED:
        return fee
    if fee.status == LessonFee.Status.REVERSED:
        raise LessonFeeSettled(f"This fee was reversed when the lesson's outcome changed ({fee.note}).")
    previous = fee.status
    fee = _fee_undo(fee=fee, status=LessonFee.Status.WAIVED, note=note, actor=actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=fee,
        changes={"status": [previous, fee.status], "note": ["", note]},
    )
    return fee


def lesson_fees_post_due() -> int:
    """The task every 15 minutes: each pending fee whose review time is over becomes a charge on the family's
    ledger (reference `lesson-fee:<id>`), each in its own transaction; how many. Safe to run again: a posted fee
    is no longer pending, and the reference is written once."""
    due = LessonFee.objects.filter(status=LessonFee.Status.PENDING, posts_at__lte=timezone.now())
    posted = 0
    for fee_id in list(due.order_by("posts_at", "pk").values_list("pk", flat=True)):
        with transaction.atomic():
            fee = (
                LessonFee.objects.select_for_update(of=("self",))
                .select_related("family", "lesson__student")
                .get(pk=fee_id)
            )
            if fee.status != LessonFee.Status.PENDING:
                continue  # waived or reversed since it was listed
            fee.ledger_entry = ledger_entry_add(
                family=fee.family,
                kind=LedgerEntry.Kind.CHARGE,
                amount_cents=fee.amount_cents,
                description=f"{fee.get_kind_display()}: {_about(fee)}",
                reference=f"lesson-fee:{fee.pk}",
                currency=fee.currency,
            )
            fee.status = LessonFee.Status.POSTED
            fee.save(update_fields=["status", "ledger_entry"])
            posted += 1
    return posted
