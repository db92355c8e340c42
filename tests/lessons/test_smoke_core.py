import pytest

from enrollment.credits import credits_with_balance
from enrollment.makeups import cancellation_preview, lesson_cancel_by_family, makeup_book, makeup_slots_offer
from enrollment.models import MakeupCredit
from scheduling.models import Lesson

pytestmark = pytest.mark.django_db


def test_a_cancellation_with_notice_earns_a_credit_that_books_a_makeup(week):
    lesson = week.lesson_in(hours=72)
    assert cancellation_preview(lesson=lesson).earns_credit
    lesson_cancel_by_family(lesson=lesson, actor=week.parent)
    credit = credits_with_balance().get(missed_lesson=lesson)
    assert credit.balance == 1 and credit.origin == MakeupCredit.Origin.NOTICE
    offers = makeup_slots_offer(credit=credit)
    assert offers
    makeup = makeup_book(credit=credit, teacher=offers[0].teacher, start_at=offers[0].start_at, actor=week.parent)
    assert makeup.kind == Lesson.Kind.MAKEUP
    assert credits_with_balance().get(pk=credit.pk).balance == 0


def test_a_late_cancellation_earns_nothing(week):
    lesson = week.lesson_in(hours=3)
    preview = cancellation_preview(lesson=lesson)
    assert not preview.earns_credit and preview.late
    lesson_cancel_by_family(lesson=lesson, actor=week.parent)
    assert not MakeupCredit.objects.filter(missed_lesson=lesson).exists()
