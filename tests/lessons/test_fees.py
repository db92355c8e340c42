"""No-show and late-cancellation fees (issue 15 §2): only on per-lesson plans with fees on, the term's first late
cancellation waived, pending for the owner's review before they post to the ledger (never a card), waived by the
owner, and following the lesson's outcome so that an outcome changed back and forth charges as if set once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing import tasks
from billing.errors import LessonFeeSettled
from billing.models import LedgerEntry, LessonFee
from billing.selectors import family_balance_cents
from billing.services.lesson_fees import lesson_fee_waive, lesson_fees_post_due
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.makeups import cancellation_preview, lesson_cancel_by_family
from enrollment.models import TuitionPlan
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set
from tests.concurrency import at_once
from tests.factories import TuitionPlanFactory, UserFactory

pytestmark = pytest.mark.django_db

LESSON_PRICE = 5_000


@pytest.fixture
def owner():
    return UserFactory(role="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def per_lesson(week):
    """The week's child on a per-lesson plan ($50 a lesson), the school's fees on at their defaults."""
    week.enrollment.tuition_plan = TuitionPlanFactory(basis=TuitionPlan.Basis.PER_LESSON, price_cents=LESSON_PRICE)
    week.enrollment.save(update_fields=["tuition_plan"])
    school_settings_update(school_settings=school_settings_get(), lesson_fees_enabled=True)
    return week


def no_show(week, owner=None):
    lesson = week.lesson_in(hours=-2 - len(week.made) * 24)
    return lesson_outcome_set(lesson=lesson, outcome=Outcome.NO_SHOW, actor=owner or week.teacher.user)


def post_now(fee: LessonFee) -> None:
    """The review time over, without waiting for it."""
    LessonFee.objects.filter(pk=fee.pk).update(posts_at=timezone.now() - timedelta(minutes=1))


def balance(week) -> int:
    return family_balance_cents(family_id=week.parent.family_id)


def test_a_no_show_on_a_per_lesson_plan_waits_as_a_pending_fee_of_the_whole_price(per_lesson):
    before = timezone.now()

    lesson = no_show(per_lesson)

    fee = LessonFee.objects.get(lesson=lesson)
    assert (fee.kind, fee.status, fee.amount_cents) == (LessonFee.Kind.NO_SHOW, LessonFee.Status.PENDING, 5_000)
    assert fee.family_id == per_lesson.parent.family_id
    review = timedelta(hours=school_settings_get().fee_review_hours)
    assert before + review <= fee.posts_at <= timezone.now() + review
    assert not LedgerEntry.objects.exists()  # nothing on the ledger, nothing charged, until it posts


def test_no_fee_on_flat_tuition_even_with_fees_on(per_lesson):
    per_lesson.enrollment.tuition_plan = TuitionPlanFactory(basis=TuitionPlan.Basis.FLAT)
    per_lesson.enrollment.save(update_fields=["tuition_plan"])

    no_show(per_lesson)

    assert not LessonFee.objects.exists()


def test_no_fee_while_the_school_has_fees_off(per_lesson):
    school_settings_update(school_settings=school_settings_get(), lesson_fees_enabled=False)

    no_show(per_lesson)

    assert not LessonFee.objects.exists()


def test_the_terms_first_late_cancellation_is_waived_and_the_second_is_half_the_price(per_lesson):
    first, second = per_lesson.lesson_in(hours=3), per_lesson.lesson_in(hours=5)
    assert cancellation_preview(lesson=first).fee.waived_because  # the family is told before confirming

    lesson_cancel_by_family(lesson=first, actor=per_lesson.parent)
    lesson_cancel_by_family(lesson=second, actor=per_lesson.parent)

    waived = LessonFee.objects.get(lesson=first)
    assert waived.status == LessonFee.Status.WAIVED and "first late cancellation" in waived.note
    charged = LessonFee.objects.get(lesson=second)
    assert (charged.kind, charged.status, charged.amount_cents) == ("late_cancel", "pending", 2_500)


def test_a_cancellation_with_notice_carries_no_fee(per_lesson):
    lesson_cancel_by_family(lesson=per_lesson.lesson_in(hours=72), actor=per_lesson.parent)

    assert not LessonFee.objects.exists()


def test_a_pending_fee_posts_to_the_ledger_once_its_review_time_is_over_and_only_then(per_lesson):
    due, waiting = LessonFee.objects.get(lesson=no_show(per_lesson)), LessonFee.objects.get(lesson=no_show(per_lesson))
    post_now(due)

    assert tasks.lesson_fees_post_due() == 1
    assert lesson_fees_post_due() == 0  # run again: nothing more

    due.refresh_from_db()
    waiting.refresh_from_db()
    assert due.status == LessonFee.Status.POSTED and waiting.status == LessonFee.Status.PENDING
    entry = due.ledger_entry
    assert (entry.kind, entry.amount_cents, entry.reference) == ("charge", 5_000, f"lesson-fee:{due.pk}")
    assert entry.description.startswith("No-show fee: ")
    assert balance(per_lesson) == 5_000
    assert LedgerEntry.objects.count() == 1


def test_the_owner_waives_a_pending_fee_and_it_never_posts(per_lesson, owner):
    fee = LessonFee.objects.get(lesson=no_show(per_lesson))

    waived = lesson_fee_waive(fee=fee, actor=owner, note="Snow day, the bus was late")
    post_now(fee)
    lesson_fees_post_due()

    assert (waived.status, waived.note, waived.decided_by) == ("waived", "Snow day, the bus was late", owner)
    assert not LedgerEntry.objects.exists()
    assert AuditEvent.objects.filter(object_id=str(fee.pk), changes__status=["pending", "waived"]).exists()


def test_waiving_a_posted_fee_adjusts_it_away_once(per_lesson, owner):
    fee = LessonFee.objects.get(lesson=no_show(per_lesson))
    post_now(fee)
    lesson_fees_post_due()

    lesson_fee_waive(fee=fee, actor=owner, note="First time: a warning")
    lesson_fee_waive(fee=fee, actor=owner, note="Clicked twice")  # the same answer again: no second adjustment

    adjustment = LedgerEntry.objects.get(kind=LedgerEntry.Kind.ADJUSTMENT)
    assert (adjustment.amount_cents, adjustment.reference) == (-5_000, f"lesson-fee-reversal:{fee.pk}")
    assert balance(per_lesson) == 0
    fee.refresh_from_db()
    assert fee.note == "First time: a warning"


def test_a_waiver_needs_a_note_and_a_reversed_fee_cannot_be_waived(per_lesson, owner):
    lesson = no_show(per_lesson)
    fee = LessonFee.objects.get(lesson=lesson)
    with pytest.raises(InvalidInput) as missing:
        lesson_fee_waive(fee=fee, actor=owner, note="  ")
    assert "note" in missing.value.fields

    lesson_outcome_set(lesson=lesson, outcome=Outcome.ATTENDED, actor=owner)  # the teacher had it wrong

    with pytest.raises(LessonFeeSettled):
        lesson_fee_waive(fee=fee, actor=owner, note="Too late")
    fee.refresh_from_db()
    assert fee.status == LessonFee.Status.REVERSED and fee.note == "Outcome changed to attended"


def test_an_outcome_changed_back_and_forth_leaves_one_live_fee_and_the_ledger_as_if_set_once(per_lesson, owner):
    lesson = no_show(per_lesson)
    first = LessonFee.objects.get(lesson=lesson)
    post_now(first)
    lesson_fees_post_due()

    lesson_outcome_set(lesson=lesson, outcome=Outcome.ATTENDED, actor=owner)
    lesson_outcome_set(lesson=lesson, outcome=Outcome.NO_SHOW, actor=owner)
    lesson_outcome_set(lesson=lesson, outcome=Outcome.NO_SHOW, actor=owner)  # the same again: no change
    for fee in LessonFee.objects.filter(status=LessonFee.Status.PENDING):
        post_now(fee)
    lesson_fees_post_due()

    fees = LessonFee.objects.filter(lesson=lesson).order_by("pk")
    assert [fee.status for fee in fees] == ["reversed", "posted"]
    assert balance(per_lesson) == 5_000  # charged, reversed, charged again: one fee's worth
    kinds = list(LedgerEntry.objects.order_by("pk").values_list("kind", "amount_cents"))
    assert kinds == [("charge", 5_000), ("adjustment", -5_000), ("charge", 5_000)]


def test_a_pending_fee_reversed_by_an_outcome_change_leaves_no_trace_on_the_ledger(per_lesson, owner):
    lesson = no_show(per_lesson)

    lesson_outcome_set(lesson=lesson, outcome=Outcome.LATE_CANCEL, actor=owner)

    fees = LessonFee.objects.filter(lesson=lesson).order_by("pk")
    assert [(fee.kind, fee.status) for fee in fees] == [("no_show", "reversed"), ("late_cancel", "waived")]
    for fee in LessonFee.objects.all():
        post_now(fee)
    assert lesson_fees_post_due() == 0
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_waiver_racing_the_posting_task_leaves_the_family_owing_nothing_whichever_wins(per_lesson, owner):
    """The fee row's lock orders them: posted then adjusted away, or waived before it could post."""
    fee = LessonFee.objects.get(lesson=no_show(per_lesson))
    post_now(fee)

    outcomes = at_once([lesson_fees_post_due, lambda: lesson_fee_waive(fee=fee, actor=owner, note="Racing")])

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    fee.refresh_from_db()
    assert fee.status == LessonFee.Status.WAIVED and balance(per_lesson) == 0
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ADJUSTMENT).count() <= 1
