"""Every write of scheduling's reference API goes through scheduling's services (issue 14, item 3): each viewset
names its `<record>_create`, `<record>_update` and `<record>_delete`, and a POST, a PATCH and a DELETE call them
and nothing else writes."""

from datetime import date, timedelta
from unittest import mock

import pytest

from accounts.models import User
from cedarheights.models import AuditEvent
from cedarheights.viewsets import ReferenceViewSet, WriteServices
from scheduling import services
from scheduling.api import views
from scheduling.models import AcademicYear, Closure, Instrument, Teacher, Term, WeeklyAvailability
from scheduling.services import student_create, student_update
from tests.factories import FamilyFactory, InstrumentFactory, UserFactory

pytestmark = pytest.mark.django_db

LATER = date.today() + timedelta(days=365 * 30)  # past every factory's school year


def _teacher_body(world) -> tuple[dict, dict]:
    user = UserFactory(role=User.Role.TEACHER)
    return {"user": user.pk, "instruments": [world.lesson_a.teacher.instruments.get().pk], "capacity": 10}, {
        "instruments": [InstrumentFactory(name="Cello").pk]
    }


# url, viewset, model, (a new record's body, a change) from the world
WRITES = [
    ("instruments", views.InstrumentViewSet, Instrument, lambda world: ({"name": "Oboe"}, {"active": False})),
    ("teachers", views.TeacherViewSet, Teacher, _teacher_body),
    (
        "availability",
        views.AvailabilityViewSet,
        WeeklyAvailability,
        lambda world: (
            {"teacher": world.lesson_a.teacher_id, "weekday": 2, "start_time": "10:00", "end_time": "12:00"},
            {"end_time": "13:00:00"},
        ),
    ),
    (
        "academic-years",
        views.AcademicYearViewSet,
        AcademicYear,
        lambda world: (
            {"name": "Far year", "start_date": str(LATER), "end_date": str(LATER + timedelta(days=300))},
            {"name": "Farther year"},
        ),
    ),
    (
        "terms",
        views.TermViewSet,
        Term,
        lambda world: (
            {
                "academic_year": world.shared["year"].pk,
                "name": "Far term",
                "start_date": str(LATER),
                "end_date": str(LATER + timedelta(days=90)),
            },
            {"name": "Farther term"},
        ),
    ),
    (
        "closures",
        views.ClosureViewSet,
        Closure,
        lambda world: ({"reason": "Snow", "start_date": str(LATER), "end_date": str(LATER)}, {"reason": "Ice"}),
    ),
]


def test_every_reference_viewset_of_scheduling_names_scheduling_services_for_its_record():
    viewsets = {
        value
        for value in vars(views).values()
        if isinstance(value, type) and issubclass(value, ReferenceViewSet) and value is not ReferenceViewSet
    }
    assert viewsets == {viewset for _, viewset, _, _ in WRITES}
    for viewset in viewsets:
        named = viewset.services
        assert (named.create, named.update, named.delete) == tuple(
            getattr(services, f"{named.record}_{action}") for action in ("create", "update", "delete")
        ), viewset.__name__


def _stored(record, change: dict) -> dict[str, str]:
    """The changed fields as stored, each written as the request wrote it (a many-to-many field: its ids)."""

    def shown(name: str) -> str:
        value = getattr(record, name)
        return str([item.pk for item in value.all()] if record._meta.get_field(name).many_to_many else value)

    return {name: shown(name) for name in change}


@pytest.mark.parametrize(("url", "viewset", "model", "bodies"), WRITES, ids=[write[0] for write in WRITES])
def test_a_post_a_patch_and_a_delete_each_go_through_their_service(world, as_role, url, viewset, model, bodies):
    new, change = bodies(world)
    named = viewset.services
    spies = WriteServices(named.record, *(mock.Mock(wraps=call) for call in (named.create, named.update, named.delete)))
    client = as_role("admin")

    with mock.patch.object(viewset, "services", spies):
        created = client.post(f"/api/v1/{url}/", new, format="json")
        assert created.status_code == 201, created.content
        pk = created.json()["id"]
        changed = client.patch(f"/api/v1/{url}/{pk}/", change, format="json")
        assert changed.status_code == 200, changed.content
        stored = _stored(model.objects.get(pk=pk), change)
        deleted = client.delete(f"/api/v1/{url}/{pk}/")

    assert deleted.status_code == 204 and not model.objects.filter(pk=pk).exists()
    assert [spy.call_count for spy in (spies.create, spies.update, spies.delete)] == [1, 1, 1]
    assert stored == {name: str(value) for name, value in change.items()}
    assert changed.json() | change == changed.json()  # the answer shows the stored change


def test_a_student_is_created_and_changed_with_an_audit_event_each_time(world):
    student = student_create(
        actor=world.admin,
        family=FamilyFactory(),
        first_name="Ada",
        last_name="Byron",
        date_of_birth=date.today() - timedelta(days=365 * 9),
        instrument=world.student_a.instrument,
    )

    student_update(actor=world.admin, student=student, first_name="Augusta", last_name="Byron")

    events = AuditEvent.objects.filter(object_type__model="student", object_id=str(student.pk)).order_by("pk")
    assert [(event.action, event.actor) for event in events] == [("create", world.admin), ("update", world.admin)]
    assert events[1].changes == {"first_name": ["Ada", "Augusta"]}  # the unchanged last name is not listed
