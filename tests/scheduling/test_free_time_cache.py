"""Teachers' free time is cached under a schedule stamp that PostgreSQL triggers change with the lessons."""

from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from scheduling.models import Lesson, TeacherSchedule
from scheduling.services import lesson_create, lesson_status_change
from scheduling.slots import slots_free
from tests.factories import AvailabilityFactory, StudentFactory, TeacherFactory
from tests.scheduling.test_slots import MONDAY, at, local_starts

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("each_cache")]
DAY, NOW = date(2026, 11, 30), at(date(2026, 11, 26), "09:00")  # fixed: the finder is given NOW (see test_slots)


def stamp(teacher) -> int | None:
    return TeacherSchedule.objects.filter(teacher=teacher).values_list("stamp", flat=True).first()


@pytest.fixture
def teacher(school):
    teacher = TeacherFactory()
    AvailabilityFactory(teacher=teacher, weekday=MONDAY, start_time="16:00", end_time="18:00")
    return teacher


def book(teacher, hhmm: str) -> Lesson:
    start = at(DAY, hhmm)
    return lesson_create(
        teacher=teacher,
        student=StudentFactory(),
        start_at=start,
        end_at=start + timedelta(minutes=30),
        check_availability=False,
    )


def free_starts(teacher) -> list[str]:
    return local_starts(slots_free(teacher_ids=[teacher.pk], start_date=DAY, end_date=DAY, minutes=30, now=NOW))


def test_the_stamp_changes_with_what_the_finder_reads_and_only_with_that(teacher):
    lesson = book(teacher, "16:00")
    stamps = [stamp(teacher)]
    assert stamps[0] is not None

    def changed() -> bool:
        stamps.append(stamp(teacher))
        return stamps[-1] != stamps[-2]

    Lesson.objects.filter(pk=lesson.pk).update(notes="Bring the red book", payment_status=Lesson.PaymentStatus.DUE)
    assert not changed()  # a note or a payment mark frees and takes no time
    Lesson.objects.filter(pk=lesson.pk).update(outcome=Lesson.Outcome.ATTENDED, status=Lesson.Status.COMPLETED)
    assert not changed()  # nor does attendance
    Lesson.objects.filter(pk=lesson.pk).update(start_at=F("start_at") + timedelta(minutes=15))
    assert changed()  # moved
    Lesson.objects.filter(pk=lesson.pk).update(outcome="", status=Lesson.Status.SCHEDULED)
    assert not changed()
    lesson_status_change(lesson=lesson, status=Lesson.Status.CANCELLED, actor=None)
    assert changed()  # cancelled
    Lesson.objects.filter(pk=lesson.pk).update(outcome="", status=Lesson.Status.SCHEDULED, cancelled_at=None)
    assert changed()  # taken back
    other = TeacherFactory()
    Lesson.objects.filter(pk=lesson.pk).update(teacher=other)
    assert changed() and stamp(other) is not None  # given to another teacher: both restamped
    Lesson.objects.filter(pk=lesson.pk).update(teacher=teacher)
    assert changed()
    Lesson.objects.filter(pk=lesson.pk).delete()
    assert changed()  # removed


def test_a_bulk_insert_restamps_each_of_its_teachers(teacher):
    other = TeacherFactory()
    before = stamp(teacher), stamp(other)
    student_a, student_b = StudentFactory(), StudentFactory()
    Lesson.objects.bulk_create(
        Lesson(
            teacher=t,
            student=s,
            start_at=at(DAY + timedelta(weeks=w), "16:00"),
            end_at=at(DAY + timedelta(weeks=w), "16:30"),
        )
        for t, s in ((teacher, student_a), (other, student_b))
        for w in range(10)
    )
    after = stamp(teacher), stamp(other)
    assert None not in after and after[0] != before[0] and after[1] != before[1]


def test_a_cached_answer_is_reused_until_a_lesson_changes(teacher):
    # Given the finder asked once
    lesson = book(teacher, "16:00")
    first = free_starts(teacher)
    assert "16:00" not in first and "17:00" in first

    # When it is asked again, it does not read the lessons
    with CaptureQueriesContext(connection) as queries:
        assert free_starts(teacher) == first
    assert not [q for q in queries if "scheduling_lesson" in q["sql"]]

    # And when a lesson is taken by any road (here an update no service sees), the next answer knows it
    Lesson.objects.filter(pk=lesson.pk).update(start_at=at(DAY, "17:00"), end_at=at(DAY, "17:30"))
    moved = free_starts(teacher)
    assert "16:00" in moved and "17:00" not in moved

    # And a cancellation frees the time again
    lesson_status_change(lesson=lesson, status=Lesson.Status.CANCELLED, actor=None)
    assert "17:00" in free_starts(teacher)


def test_what_a_rolled_back_transaction_saw_is_never_served(teacher):
    # Given a transaction that books 16:00, asks the finder (which caches what it sees), then rolls back
    with pytest.raises(RuntimeError), transaction.atomic():
        book(teacher, "16:00")
        assert "16:00" not in free_starts(teacher)
        raise RuntimeError("the enrollment failed later on")

    # Then 16:00 is free again; and when the same teacher's next write takes 17:00, the answer shows exactly
    # that (a counter would hand that write the rolled-back stamp, and the cache the rolled-back answer)
    assert "16:00" in free_starts(teacher)
    book(teacher, "17:00")
    after = free_starts(teacher)
    assert "16:00" in after and "17:00" not in after
