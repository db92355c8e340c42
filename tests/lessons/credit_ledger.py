"""What the credit tests read and do alike: a credit's ledger as its kinds, and a make-up booked with a credit."""

from datetime import timedelta

from django.utils import timezone

from enrollment.makeups import makeup_book, makeup_slots_offer
from enrollment.models import MakeupCredit
from scheduling.models import Lesson


def ledger(credit: MakeupCredit) -> list[str]:
    return list(credit.entries.order_by("sequence").values_list("kind", flat=True))


def book_makeup(week, credit: MakeupCredit, *, days_ahead: int = 3) -> Lesson:
    """The parent books the first make-up time offered `days_ahead` days from today."""
    offer = makeup_slots_offer(credit=credit, day=timezone.localdate() + timedelta(days=days_ahead))[0]
    return makeup_book(credit=credit, teacher=offer.teacher, start_at=offer.start_at, actor=week.parent)
