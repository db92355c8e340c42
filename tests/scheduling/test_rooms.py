"""room_create: a studio lessons can be booked in, validated as its model says."""

import pytest
from django.core.exceptions import ValidationError

from scheduling.models import Room
from scheduling.services import room_create

pytestmark = pytest.mark.django_db


def test_a_room_is_made_once_per_name():
    room_create(name="Studio A", notes="The grand piano")

    with pytest.raises(ValidationError):
        room_create(name="Studio A")
    assert list(Room.objects.values_list("name", "notes")) == [("Studio A", "The grand piano")]
