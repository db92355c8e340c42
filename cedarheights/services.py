from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from cedarheights.models import AuditEvent, SchoolSettings, WorkerHeartbeat
from cedarheights.selectors import SCHOOL_SETTINGS_CACHE_KEY


@transaction.atomic
def school_settings_update(*, school_settings: SchoolSettings, **fields: Any) -> SchoolSettings:
    for name, value in fields.items():
        setattr(school_settings, name, value)
    school_settings.full_clean()
    school_settings.save()
    # Dropped now, so this transaction reads its own change, and again after commit, in case another
    # request cached the old row in between.
    cache.delete(SCHOOL_SETTINGS_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(SCHOOL_SETTINGS_CACHE_KEY))
    return school_settings


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    family_id: int | None = None,
    student_id: int | None = None,
) -> AuditEvent:
    """Note who read or changed a family's or a child's record; `changes` maps field → [old, new]. `family_id` and
    `student_id` say whose record it is (a family's export collects its events by them)."""
    return AuditEvent.objects.create(
        family_id=family_id,
        student_id=student_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes or {},
    )


def worker_heartbeat_record() -> WorkerHeartbeat:
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(id=1, defaults={"seen_at": timezone.now()})
    return heartbeat


# Validated first, then written with no savepoint (`savepoint=False`, here and below): a record and its audit row
# commit together, a refused record leaves a caller's transaction usable, and inside a pipeline's transaction a
# savepoint per record would cost two queries for nothing (a failed write rolls the whole run back anyway).
def audited_create(*, actor, model: type[models.Model], **fields: Any) -> models.Model:
    """Create a family's or a child's record, validated, with its audit event. A related record given as a saved
    instance is not looked up again (it was read from the database)."""
    obj = model(**fields)
    obj.full_clean(exclude=[name for name, value in fields.items() if _saved(value)])
    with transaction.atomic(savepoint=False):
        obj.save()
        audit_record(actor=actor, action="create", obj=obj, changes={k: [None, str(v)] for k, v in fields.items()})
    return obj


def _saved(value: Any) -> bool:
    return isinstance(value, models.Model) and value.pk is not None and not value._state.adding


def audited_update(
    *, actor, obj: models.Model, family_id: int | None = None, student_id: int | None = None, **fields: Any
) -> models.Model:
    """Change a family's or a child's record, validated; the audit event lists what really changed, and whose
    record it is (`family_id`, `student_id`)."""
    changes = {
        name: [str(getattr(obj, name)), str(value)] for name, value in fields.items() if getattr(obj, name) != value
    }
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    with transaction.atomic(savepoint=False):
        obj.save()
        if changes:
            audit_record(
                actor=actor, action="update", obj=obj, changes=changes, family_id=family_id, student_id=student_id
            )
    return obj


Record = TypeVar("Record", bound=models.Model)


def record_save(record: Record, fields: dict[str, Any]) -> Record:
    """A catalogue record (an instrument, a term, a tuition plan…) validated as its model says (the API's
    serializers check first, to answer field by field), its many-to-many fields set once it is saved."""
    many = {field.name for field in record._meta.many_to_many}
    for name, value in fields.items():
        if name not in many:
            setattr(record, name, value)
    record.full_clean()
    with transaction.atomic(savepoint=False):
        record.save()
        for name in many & fields.keys():
            getattr(record, name).set(fields[name])
    return record
