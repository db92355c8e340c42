"""Bookings and terms written at the same instant on separate connections: one wins, the others get a clear
conflict, and a booking in progress locks only what it must (PostgreSQL, real threads)."""

import functools
import threading
from datetime import date

import pytest
from django.db import OperationalError, connection, transaction

from scheduling.errors import LessonConflict
from scheduling.models import Lesson, Term
from scheduling.services import lesson_create, term_create
from tests.concurrency import at_once
from tests.factories import StudentFactory
from tests.scheduling.monday import MONDAY, at


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_slot_leave_exactly_one_lesson(teacher):
    # Given eight families racing for the same 16:00 slot, each on its own connection
    students = [StudentFactory() for _ in range(8)]

    # When they all book it at the same instant
    results = at_once(
        [
            functools.partial(
                lesson_create, teacher=teacher, student=s, start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
            )
            for s in students
        ]
    )

    # Then one booking won and every other one got a clear conflict (any other error is left as itself: a failure)
    outcomes = [
        "booked" if isinstance(r, Lesson) else "conflict" if isinstance(r, LessonConflict) else r for r in results
    ]
    assert sorted(outcomes, key=str) == ["booked"] + ["conflict"] * 7, outcomes
    assert Lesson.objects.filter(teacher=teacher).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_booking_in_progress_does_not_hold_up_the_teacher_signing_in(teacher):
    # Given a booking that has its locks and is still running
    locked, done = threading.Event(), threading.Event()

    def booking():
        try:
            with transaction.atomic():
                lesson_create(
                    teacher=teacher, student=StudentFactory(), start_at=at(MONDAY, "16:00"), end_at=at(MONDAY, "16:30")
                )
                locked.set()
                done.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=booking)
    thread.start()
    assert locked.wait(timeout=10)
    try:
        # Then the teacher's user row (what signing in writes) is not locked, while the teacher row is
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM accounts_user WHERE id = %s FOR UPDATE NOWAIT", [teacher.user_id])
        with pytest.raises(OperationalError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM scheduling_teacher WHERE id = %s FOR UPDATE NOWAIT", [teacher.pk])
    finally:
        done.set()
        thread.join()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_terms_made_at_the_same_moment_give_one_term_and_one_term_overlap(fall):
    """The service takes the terms' locks in one order, so the second writer waits and then sees the first's term:
    TermOverlap, never a 500. Made to fail first: without the lock, one run in two deadlocked on the exclusion
    constraint (OperationalError)."""
    late_fall = {"academic_year": fall.academic_year, "start_date": date(2032, 1, 5), "end_date": date(2032, 1, 20)}

    outcomes = at_once(
        [lambda: term_create(name="Winter A", **late_fall), lambda: term_create(name="Winter B", **late_fall)]
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Term", "TermOverlap"]
    assert Term.objects.filter(start_date=date(2032, 1, 5)).count() == 1
