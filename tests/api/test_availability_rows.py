"""A teacher's weekly hours are rendered straight off the row (a teachers' page nests ~175): exactly what DRF's own
fields give for the same row.

Made to fail first: with `weekday` rendered as its label (`get_weekday_display()`)."""

from datetime import time

import pytest
from rest_framework import serializers

from scheduling.api.serializers import AvailabilitySerializer
from scheduling.models import WeeklyAvailability
from tests.factories import TeacherFactory

pytestmark = pytest.mark.django_db


def test_a_window_reads_as_drf_would_render_it(school):
    teacher = TeacherFactory()
    windows = WeeklyAvailability.objects.bulk_create(
        [
            WeeklyAvailability(teacher=teacher, weekday=0, start_time=time(9), end_time=time(12, 30)),
            WeeklyAvailability(teacher=teacher, weekday=6, start_time=time(14, 15, 30), end_time=time(21)),
        ]
    )
    rendered = AvailabilitySerializer(windows, many=True).data
    by_drf = [serializers.ModelSerializer.to_representation(AvailabilitySerializer(), w) for w in windows]
    assert rendered == by_drf
    assert rendered[1] == {
        "id": windows[1].pk,
        "teacher": teacher.pk,
        "weekday": 6,
        "start_time": "14:15:30",
        "end_time": "21:00:00",
    }
