from collections.abc import Iterable
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from cedarheights.errors import InvalidInput, PrivacyNoticeNotEditable
from cedarheights.model_validation import model_validate
from cedarheights.models import AuditEvent, PrivacyNotice, SchoolSettings, WorkerHeartbeat
from cedarheights.roles import is_school_admin, is_teacher
from cedarheights.selectors import PRIVACY_OFFICER_CACHE_KEY, SCHOOL_SETTINGS_CACHE_KEY

# What is read from the settings row and cached: dropped together when the owner changes it.
SETTINGS_CACHE_KEYS = (SCHOOL_SETTINGS_CACHE_KEY, PRIVACY_OFFICER_CACHE_KEY)


@transaction.atomic
def school_settings_update(*, school_settings: SchoolSettings, **fields: Any) -> SchoolSettings:
    for name, value in fields.items():
        setattr(school_settings, name, value)
    model_validate(school_settings)
    school_settings.save()
    # Dropped now, so this transaction reads its own change, and again after commit, in case another
    # request cached the old row in between.
    cache.delete_many(SETTINGS_CACHE_KEYS)
    transaction.on_commit(lambda: cache.delete_many(SETTINGS_CACHE_KEYS))
    return school_settings


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    family_id: int | None = None,
    student_id: int | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Note who read or changed a family's or a child's record; `changes` maps field → [old, new]. Whose record it
    was (family_id, student_id; a family's export collects its events by them) is read off the record when not
    given; `request` gives the event its request id."""
    found_family_id, found_student_id = audit_subject_ids(obj)
    return AuditEvent.objects.create(
        actor=_audit_actor(actor),
        action=action,
        object_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=changes or {},
        family_id=family_id or found_family_id,
        student_id=student_id or found_student_id,
        request_id=getattr(request, "request_id", ""),
    )


def audit_read(*, actor, obj: models.Model, request: HttpRequest | None = None) -> AuditEvent | None:
    """One family's or child's record shown to staff or a teacher: one VIEW event. A parent reads only their own
    family (every queryset of theirs is scoped to it), which is not audited."""
    if not _audited_reader(actor):
        return None
    return audit_record(actor=actor, action=AuditEvent.Action.VIEW, obj=obj, request=request)


def audit_page_read(
    *, actor, model: type[models.Model], shown: Iterable[models.Model], request: HttpRequest | None = None
) -> AuditEvent | None:
    """A page of families' or children's records shown to staff or a teacher: one VIEW event for the page, the ids
    it showed in `changes`, rather than one per row."""
    if not _audited_reader(actor):
        return None
    shown = list(shown)
    changes = {"shown": [record.pk for record in shown]}
    return _audit_records(
        actor=actor, action=AuditEvent.Action.VIEW, model=model, records=shown, changes=changes, request=request
    )


def audit_export(
    *,
    actor,
    model: type[models.Model],
    exported: Iterable[models.Model],
    request: HttpRequest | None = None,
    file_format: str = "",
) -> AuditEvent:
    """Records written out of the school (a spreadsheet of families, a table's export): one EXPORT event, whoever
    exports, naming the rows (`changes["exported"]` is [model label, ids]) and the format. Only an export of one
    family's rows carries its family_id. One record's export (a family's zip) is `audit_record(action=EXPORT, …)`."""
    exported = list(exported)
    changes: dict[str, Any] = {"exported": [model._meta.label, [record.pk for record in exported]]}
    if file_format:
        changes["format"] = [None, file_format]
    return _audit_records(
        actor=actor, action=AuditEvent.Action.EXPORT, model=model, records=exported, changes=changes, request=request
    )


def _audit_records(
    *,
    actor,
    action: str,
    model: type[models.Model],
    records: list[models.Model],
    changes: dict[str, Any],
    request: HttpRequest | None,
) -> AuditEvent:
    family_ids = {audit_subject_ids(record)[0] for record in records}
    return AuditEvent.objects.create(
        actor=_audit_actor(actor),
        action=action,
        object_type=ContentType.objects.get_for_model(model),
        object_id="",
        object_repr=f"{len(records)} {model._meta.verbose_name_plural}"[:200],
        changes=changes,
        # Records of one family only (a family's lessons) are found with that family's events.
        family_id=family_ids.pop() if len(family_ids) == 1 else None,
        request_id=getattr(request, "request_id", ""),
    )


def _audit_actor(actor):
    """The person on the event: a signed-in user, or none (the school's own jobs, an anonymous visitor)."""
    return actor if actor is not None and actor.is_authenticated else None


def _audited_reader(user) -> bool:
    return is_school_admin(user) or is_teacher(user)


# The core points to no app, so it knows the two records everything else hangs from by their labels.
FAMILY_LABEL = "accounts.Family"
STUDENT_LABEL = "scheduling.Student"
# Relations through which a record belongs to a child, followed only when already loaded: never a query.
RELATIONS_TO_A_CHILD = ("student", "enrollment", "credit", "lesson")


def audit_subject_ids(obj: models.Model) -> tuple[int | None, int | None]:
    """(family_id, student_id) of the family or child a record is about, from what is already loaded."""
    label = obj._meta.label
    if label == FAMILY_LABEL:
        return obj.pk, None
    if label == STUDENT_LABEL:
        return obj.family_id, obj.pk
    family_id = getattr(obj, "family_id", None)  # a parent, a consent, a calendar link, a family fee…
    for name in RELATIONS_TO_A_CHILD:
        field = _relation(obj, name)
        if field is not None and field.is_cached(obj) and (related := getattr(obj, name)) is not None:
            related_family_id, student_id = audit_subject_ids(related)
            return family_id or related_family_id, student_id
    return family_id, getattr(obj, "student_id", None)


def _relation(obj: models.Model, name: str) -> models.ForeignKey | None:
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if field.many_to_one or (field.one_to_one and field.concrete) else None


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
    model_validate(obj, exclude=[name for name, value in fields.items() if _saved(value)])
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
    model_validate(obj)
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
    model_validate(record)
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
    model_validate(draft)
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
