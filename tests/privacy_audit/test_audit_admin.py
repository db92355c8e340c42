"""Issue 18 §4: the owner's audit log in the admin: read-only, filtered by person, by child (by name) and by family,
by action and date, and searched by request id."""

import pytest
from django.test import Client
from django.urls import reverse

from cedarheights.models import AuditEvent
from cedarheights.services import audit_record

pytestmark = pytest.mark.django_db

LOG = "admin:cedarheights_auditevent_changelist"


@pytest.fixture
def log(world, rf) -> dict[str, AuditEvent]:
    request = rf.get("/")
    request.request_id = "req-lookup-7"
    return {
        "a": audit_record(actor=world.admin, action=AuditEvent.Action.VIEW, obj=world.student_a),
        "b": audit_record(actor=world.teacher_y, action=AuditEvent.Action.VIEW, obj=world.lesson_b, request=request),
        "family_b": audit_record(actor=world.admin, action=AuditEvent.Action.EXPORT, obj=world.parent_b.family),
    }


def owner(world) -> Client:
    client = Client()
    client.force_login(world.admin)
    return client


def shown(response) -> set[int]:
    # The log's own page is a list of events, not of families' records: it writes no read event of its own.
    return {event.pk for event in response.context["cl"].result_list}


def test_the_log_filters_by_child_shown_by_name(world, log):
    response = owner(world).get(reverse(LOG), {"student_id": world.student_b.pk})

    assert response.status_code == 200
    assert shown(response) == {log["b"].pk}
    assert str(world.student_b) in response.content.decode()  # the filter's choice and the column say the name


def test_the_log_filters_by_family_by_person_and_by_action(world, log):
    client = owner(world)
    family_b = world.parent_b.family

    # the family's own record, and its child's lesson (read with the child, so the family is known)
    assert shown(client.get(reverse(LOG), {"family_id": family_b.pk})) == {log["family_b"].pk, log["b"].pk}
    assert shown(client.get(reverse(LOG), {"actor__id__exact": world.teacher_y.pk})) == {log["b"].pk}
    assert shown(client.get(reverse(LOG), {"action__exact": "export"})) == {log["family_b"].pk}


def test_a_child_or_family_that_is_not_an_id_shows_no_event_rather_than_an_error(world, log):
    client = owner(world)

    for asked in ({"student_id": "ava"}, {"family_id": "99999999999999"}):
        response = client.get(reverse(LOG), asked)
        assert response.status_code == 200 and shown(response) == set(), asked


def test_the_log_is_searched_by_request_id(world, log):
    response = owner(world).get(reverse(LOG), {"q": "req-lookup-7"})

    assert shown(response) == {log["b"].pk}


def test_the_log_is_read_only(world, log):
    client = owner(world)
    event = log["a"]

    page = client.get(reverse("admin:cedarheights_auditevent_change", args=[event.pk]))
    added = client.get(reverse("admin:cedarheights_auditevent_add"))
    deleted = client.post(reverse("admin:cedarheights_auditevent_delete", args=[event.pk]), {"post": "yes"})

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert added.status_code == 403 and deleted.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
