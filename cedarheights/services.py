from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from cedarheights.errors import InvalidInput, PrivacyNoticeNotEditable
from cedarheights.models import AuditEvent, PrivacyNotice, SchoolSettings, WorkerHeartbeat
from cedarheights.selectors import PRIVACY_OFFICER_CACHE_KEY, SCHOOL_SETTINGS_CACHE_KEY

# What is read from the settings row and cached: dropped together when the owner changes it.
SETTINGS_CACHE_KEYS = (SCHOOL_SETTINGS_CACHE_KEY, PRIVACY_OFFICER_CACHE_KEY)


@transaction.atomic
def school_settings_update(*, school_settings: SchoolSettings, **fields: Any) -> SchoolSettings:
    for name, value in fields.items():
        setattr(school_settings, name, value)
    school_settings.full_clean()
    school_settings.save()
    # Dropped now, so this transaction reads its own change, and again after commit, in case another
    # request cached the old row in between.
    cache.delete_many(SETTINGS_CACHE_KEYS)
    transaction.on_commit(lambda: cache.delete_many(SETTINGS_CACHE_KEYS))
    return school_settings


def audit_record(*, actor, action: str, obj: models.Model, changes: dict[str, Any] | None = None) -> AuditEvent:
    """Note who read or changed a family's or a child's record; `changes` maps field → [old, new]."""
    return AuditEvent.objects.create(
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


def audited_update(*, actor, obj: models.Model, **fields: Any) -> models.Model:
    """Change a family's or a child's record, validated; the audit event lists what really changed."""
    changes = {
        name: [str(getattr(obj, name)), str(value)] for name, value in fields.items() if getattr(obj, name) != value
    }
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    with transaction.atomic(savepoint=False):
        obj.save()
        if changes:
            audit_record(actor=actor, action="update", obj=obj, changes=changes)
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


@transaction.atomic
def privacy_notice_draft_save(*, actor, title: str, body: str, draft: PrivacyNotice | None = None) -> PrivacyNotice:
    """Write the privacy notice's next version: the draft given, or a new one numbered after the newest. A published
    version is refused (it is what families read: the database refuses it too)."""
    if draft is not None and draft.published_at is not None:
        raise PrivacyNoticeNotEditable("A published notice is never changed: write a new version.")
    if not body.strip():
        raise InvalidInput("Write the notice.", fields={"body": ["Write the notice."]})
    if draft is None:
        if PrivacyNotice.objects.filter(published_at__isnull=True).exists():
            raise InvalidInput("A draft is already open: edit it, or publish it first.")
        newest = PrivacyNotice.objects.select_for_update().order_by("-version").first()
        draft = PrivacyNotice(version=(newest.version if newest else 0) + 1)
    created = draft.pk is None
    before = {"title": draft.title, "body": draft.body}
    draft.title, draft.body = title, body
    draft.full_clean()
    draft.save()
    changes = {name: [old, getattr(draft, name)] for name, old in before.items() if old != getattr(draft, name)}
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        obj=draft,
        changes=changes,
    )
    return draft


@transaction.atomic
def privacy_notice_publish(*, actor, notice: PrivacyNotice) -> PrivacyNotice:
    """Make a draft the notice families read from now on; from then on it never changes."""
    notice = PrivacyNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.published_at is not None:
        raise PrivacyNoticeNotEditable(f"Version {notice.version} is already published.")
    notice.published_at = timezone.now()
    notice.save(update_fields=["published_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=notice,
        changes={"published_at": [None, str(notice.published_at)]},
    )
    return notice
