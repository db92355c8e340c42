"""Booking, moving and cancelling lessons without double booking: the services and the database.

Fixed dates on purpose (tests/scheduling/monday.py). The races are in tests/reliability/test_schedule_races.py.
"""

from datetime import date, time, timedelta

import pytest
from django.db import IntegrityError, transaction

from cedarheights.errors import InvalidInput
from scheduling.errors import ClosureConflict, LessonConflict, OutsideAvailability
from scheduling.models import Lesson
from scheduling.services import lesson_create, lesson_reschedule, lesson_status_change, term_lessons_generate
from tests.factories import (
    AvailabilityFactory,
    ClosureFactory,
    RoomFactory,
    StudentFactory,
    TeacherFactory,
    TermFactory,
)
from tests.scheduling.monday import MONDAY, TORONTO, at


@pytest.mark.django_db
class TestLessonService:
    def test_a_second_lesson_of_the_same_teacher_at_an_overlapping_time_is_refused(self, teacher):
        first = lesson_create(
            teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
        )
        with pytest.raises(LessonConflict) as refused:
            lesson_create(
                teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:15"), end_at=at(MONDAY, "16:45")
            )
        assert refused.value.conflicting_lesson_id == first.pk
        assert Lesson.objects.count() == 1

    def test_a_student_cannot_be_in_two_lessons_at_once(self, teacher):
        other = TeacherFactory()
        AvailabilityFactory(teacher=other, weekday=0, start_time="15:00", end_time="19:00")
        student = StudentFactory()
        lesson_create(teacher=teacher, student=student, start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "17:00"))
        with pytest.raises(LessonConflict, match="already has a lesson"):
            lesson_create(teacher=other, student=student, start_at=at(MONDAY, "16:30"), end_at=at(MONDAY, "17:00"))

    def test_a_lesson_lasts_at_most_four_hours(self, teacher):
        with pytest.raises(InvalidInput, match="at most four hours") as refused:
            lesson_create(
                teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "14:59"), end_at=at(MONDAY, "19:00")
            )
        assert refused.value.fields == {"end_at": ["At most four hours after the start."]}
        lesson_create(
            teacher=teacher,
            student=StudentFactory(),
            start_at=at(MONDAY, "15:00"),
            end_at=at(MONDAY, "19:00"),
            check_availability=False,
        )
        assert Lesson.objects.count() == 1

    def test_back_to_back_lessons_are_fine(self, teacher):
        lesson_create(
            teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
        )
        lesson_create(
            teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:30"), end_at=at(MONDAY, "17:00")
        )
        assert Lesson.objects.count() == 2

    def test_a_room_holds_one_lesson_at_a_time(self, teacher):
        other = TeacherFactory()
        AvailabilityFactory(teacher=other, weekday=0, start_time="15:00", end_time="19:00")
        room = RoomFactory()
        lesson_create(
            teacher=teacher,
            student=StudentFactory(),
            start_at=at(MONDAY, "16:00"),
            end_at=at(MONDAY, "16:30"),
            room=room,
        )
        with pytest.raises(LessonConflict, match="taken"):
            lesson_create(
                teacher=other,
                student=StudentFactory(),
                start_at=at(MONDAY, "16:00"),
                end_at=at(MONDAY, "16:30"),
                room=room,
            )

    def test_closures_and_availability_are_enforced(self, teacher):
        with pytest.raises(OutsideAvailability):
            lesson_create(
                teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "18:45"), end_at=at(MONDAY, "19:15")
            )
        ClosureFactory(reason="Staff training", start_date=MONDAY, teacher=teacher)
        with pytest.raises(ClosureConflict, match="Staff training"):
            lesson_create(
                teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
            )
        assert not Lesson.objects.exists()

    def test_a_cancelled_lesson_no_longer_blocks_and_a_moved_one_does_not_block_itself(self, teacher):
        student = StudentFactory()
        lesson = lesson_create(
            teacher=teacher, student=student, start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
        )
        moved = lesson_reschedule(lesson=lesson, start_at=at(MONDAY, "16:15"))
        assert moved.end_at == at(MONDAY, "16:45")
        lesson_status_change(lesson=moved, status=Lesson.Status.CANCELLED, actor=None, reason="ill")
        lesson_create(teacher=teacher, student=student, start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30"))
        assert Lesson.objects.filter(status=Lesson.Status.SCHEDULED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db
class TestDatabaseHasTheLastWord:
    """Rows written past the services (a bug, a script, a race) still cannot overlap."""

    def test_the_database_refuses_overlapping_lessons_of_one_teacher(self, teacher):
        Lesson.objects.create(
            teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
        )
        with pytest.raises(IntegrityError, match="lesson_no_teacher_overlap"), transaction.atomic():
            Lesson.objects.create(
                teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:29"), end_at=at(MONDAY, "17:00")
            )

    def test_the_database_refuses_overlapping_lessons_of_one_student(self, teacher):
        student = StudentFactory()
        Lesson.objects.create(
            teacher=teacher, student=student, start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
        )
        with pytest.raises(IntegrityError, match="lesson_no_student_overlap"), transaction.atomic():
            Lesson.objects.create(
                teacher=TeacherFactory(), student=student, start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
            )

    def test_the_database_refuses_a_lesson_longer_than_four_hours(self, teacher):
        with pytest.raises(IntegrityError, match="lesson_at_most_four_hours"), transaction.atomic():
            Lesson.objects.create(
                teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "12:00"), end_at=at(MONDAY, "16:01")
            )

    def test_cancelled_lessons_are_outside_the_constraint(self, teacher):
        Lesson.objects.create(
            teacher=teacher,
            student=StudentFactory(),
            start_at=at(MONDAY, "16:00"),
            end_at=at(MONDAY, "16:30"),
            outcome=Lesson.Outcome.RELEASED,
            status=Lesson.Status.CANCELLED,
            cancelled_at=at(MONDAY, "09:00"),
        )
        Lesson.objects.create(
            teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
        )
        assert Lesson.objects.count() == 2

    def test_terms_cannot_overlap(self):
        term = TermFactory(start_date=date(2026, 9, 1), end_date=date(2026, 12, 31))
        with pytest.raises(IntegrityError, match="term_no_overlap"), transaction.atomic():
            TermFactory(academic_year=term.academic_year, start_date=date(2026, 12, 31), end_date=date(2027, 3, 31))


@pytest.mark.django_db
class TestTermLessons:
    def test_weekly_lessons_skip_closures_and_keep_their_local_time_across_dst(self, teacher):
        term = TermFactory(start_date=date(2026, 10, 1), end_date=date(2026, 11, 30))
        ClosureFactory(reason="Thanksgiving", start_date=date(2026, 10, 12))
        student = StudentFactory()

        lessons = term_lessons_generate(
            student=student, teacher=teacher, term=term, weekday=0, start_time=time(16), minutes=30
        )

        mondays = [date(2026, 10, 5) + timedelta(weeks=n) for n in range(9)]
        days = [lesson.start_at.astimezone(TORONTO).date() for lesson in lessons]
        assert days == [d for d in mondays if d != date(2026, 10, 12)]
        assert {lesson.start_at.astimezone(TORONTO).time() for lesson in Lesson.objects.all()} == {time(16)}
        assert Lesson.objects.filter(term=term, student=student).count() == 8

    def test_generating_again_creates_nothing_new(self, teacher):
        term = TermFactory(start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))
        student = StudentFactory()
        term_lessons_generate(student=student, teacher=teacher, term=term, weekday=0, start_time=time(16), minutes=30)
        assert (
            term_lessons_generate(
                student=student, teacher=teacher, term=term, weekday=0, start_time=time(16), minutes=30
            )
            == []
        )
        assert Lesson.objects.count() == 5

    def test_a_clash_in_any_week_books_no_week(self, teacher):
        term = TermFactory(start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))
        lesson_create(
            teacher=teacher,
            student=StudentFactory(),
            start_at=at(date(2026, 11, 23), "16:00"),
            end_at=at(date(2026, 11, 23), "16:30"),
        )
        with pytest.raises(LessonConflict):
            term_lessons_generate(
                student=StudentFactory(), teacher=teacher, term=term, weekday=0, start_time=time(16), minutes=30
            )
        assert Lesson.objects.count() == 1


@pytest.mark.django_db
def test_a_students_own_clash_in_a_later_week_books_no_week(teacher):
    term = TermFactory(start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))
    student, other_teacher = StudentFactory(), TeacherFactory()
    AvailabilityFactory(teacher=other_teacher, weekday=0, start_time="15:00", end_time="19:00")
    clash = lesson_create(
        teacher=other_teacher,
        student=student,
        start_at=at(date(2026, 11, 30), "16:15"),
        end_at=at(date(2026, 11, 30), "16:45"),
    )
    with pytest.raises(LessonConflict, match="already has a lesson") as refused:
        term_lessons_generate(student=student, teacher=teacher, term=term, weekday=0, start_time=time(16), minutes=30)
    assert refused.value.conflicting_lesson_id == clash.pk
    assert Lesson.objects.count() == 1
