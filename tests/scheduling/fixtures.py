"""Scheduling fixtures for tests/scheduling and the races in tests/reliability (a plugin of tests/conftest.py)."""

from datetime import date

import pytest

from tests.factories import AcademicYearFactory, AvailabilityFactory, TeacherFactory, TermFactory


@pytest.fixture
def teacher(school):
    """A teacher free on Mondays 15:00–19:00."""
    teacher = TeacherFactory()
    AvailabilityFactory(teacher=teacher, weekday=0, start_time="15:00", end_time="19:00")
    return teacher


@pytest.fixture
def fall():
    """The Fall term of a school year of its own, years ahead."""
    year = AcademicYearFactory(start_date=date(2031, 9, 1), end_date=date(2032, 8, 31))
    return TermFactory(academic_year=year, name="Fall", start_date=date(2031, 9, 1), end_date=date(2031, 12, 31))
