"""Issue 18 §4: PostgreSQL keeps the audit table append-only: the `audit_event_append_only` trigger refuses UPDATE
and DELETE through the ORM and through raw SQL alike, and nothing in the code changes or removes an event (the
people and content types they point to are protected, not cascaded or set to null).

Made to fail: the trigger dropped (`DROP TRIGGER pgtrigger_audit_event_append_only_282d9`): every write went through."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, models, transaction

from accounts.models import User
from cedarheights.models import AuditEvent
from cedarheights.services import audit_record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def event(world) -> AuditEvent:
    return audit_record(actor=world.admin, action=AuditEvent.Action.VIEW, obj=world.student_a)


def refused(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except DatabaseError as error:
        return "Cannot update or delete" in str(error)
    return False


def test_the_orm_cannot_update_an_event(event, world):
    written = event.object_repr

    def save_changed():
        event.object_repr = "someone else"
        event.save()

    assert refused(save_changed)
    assert refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(actor=None))
    event.refresh_from_db()
    assert (event.object_repr, event.actor) == (written, world.admin)


def test_the_orm_cannot_delete_an_event(event):
    assert refused(event.delete)
    assert refused(AuditEvent.objects.all().delete)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_can_neither_update_nor_delete_an_event(event):
    table = AuditEvent._meta.db_table

    def execute(sql: str):
        return lambda: connection.cursor().execute(sql, [event.pk])

    assert refused(execute(f"UPDATE {table} SET object_repr = 'hidden' WHERE id = %s"))
    assert refused(execute(f"DELETE FROM {table} WHERE id = %s"))
    assert AuditEvent.objects.get(pk=event.pk).object_repr == event.object_repr != "hidden"


def test_new_events_are_still_written(event):
    again = audit_record(actor=event.actor, action=AuditEvent.Action.EXPORT, obj=event)

    assert AuditEvent.objects.filter(pk__in=[event.pk, again.pk]).count() == 2


def test_nothing_points_to_an_event_in_a_way_that_would_change_or_remove_it():
    """A person or a content type an event points to is protected: deleting it would otherwise cascade or set the
    event's column to null, which the trigger refuses halfway through a deletion."""
    for field in AuditEvent._meta.concrete_fields:
        if field.is_relation:
            assert field.remote_field.on_delete is models.PROTECT, field.name
    assert {field.related_model for field in AuditEvent._meta.concrete_fields if field.is_relation} == {
        User,
        ContentType,
    }
    assert not [relation for relation in AuditEvent._meta.related_objects], "nothing may point to an event"
