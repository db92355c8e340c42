"""A family's rights over what the school holds about them (PIPEDA principle 9): an access request and its 30-day
clock, the family's data export downloadable once, and corrections (made by the parent, or asked for and resolved
by the owner as corrected or annotated). The export's zip is put together above the apps
(cedarheights/privacy_export.py), which hands it back to `data_export_store`."""

import secrets
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.errors import AccessRequestRefused, ExportGone
from accounts.models import AccessRequest, CorrectionRequest, DataExport, Family, User
from accounts.selectors import data_export_latest
from accounts.services import FAMILY_FIELDS, PROFILE_FIELDS, user_update_profile
from cedarheights.emails import email_parents
from cedarheights.errors import InvalidInput
from cedarheights.model_validation import model_validate
from cedarheights.models import AuditEvent
from cedarheights.outbox import task_enqueue_with_commit
from cedarheights.selectors import school_today
from cedarheights.services import audit_record, audited_update

EXPORT_BUILD_TASK = "cedarheights.privacy_export.data_export_build"
# Where a family may complain about how their request was handled (PIPEDA s. 11; named in the extension notice).
PRIVACY_COMMISSIONER = "the Office of the Privacy Commissioner of Canada (priv.gc.ca, 1-800-282-1376)"


def _locked_family(family: Family) -> Family:
    """One family's requests are made one at a time: two clicks never open two requests."""
    return Family.objects.select_for_update().get(pk=family.pk)


@transaction.atomic
def access_request_ask(*, family: Family, parent: User) -> tuple[AccessRequest, bool, bool]:
    """A parent asks in the portal for the family's data: a request received today (the school's day), and its
    export built at once. One open request at a time: asking again returns the open one (not created), with a new
    copy of the data when the last one was downloaded or its link expired (a download that failed half-way must not
    leave the family waiting for the owner). Returns (request, created, new copy)."""
    _locked_family(family)
    if open_request := AccessRequest.objects.filter(family=family, answered_on__isnull=True).first():
        latest = data_export_latest(family_id=family.pk)
        spent = latest is not None and latest.is_spent(timezone.now())
        if spent:
            data_export_request(actor=parent, access_request=open_request)
        return open_request, False, spent
    access_request = AccessRequest.objects.create(
        family=family, channel=AccessRequest.Channel.PORTAL, requested_by=parent, received_on=school_today()
    )
    audit_record(
        actor=parent,
        action=AuditEvent.Action.CREATE,
        obj=access_request,
        changes={"channel": [None, access_request.channel]},
        family_id=family.pk,
    )
    data_export_request(actor=parent, access_request=access_request)
    return access_request, True, True


@transaction.atomic
def access_request_log(
    *, actor: User, family: Family, channel: str, received_on: date, details: str = ""
) -> AccessRequest:
    """The owner logs a request received by email, phone, mail or in person, on the day it was received."""
    access_request = AccessRequest(
        family=family, channel=channel, logged_by=actor, received_on=received_on, details=details
    )
    try:
        model_validate(access_request)
    except ValidationError as error:
        raise InvalidInput("Check the request's details.", fields=error.message_dict) from error
    access_request.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=access_request,
        changes={"channel": [None, channel], "received_on": [None, str(received_on)]},
        family_id=family.pk,
    )
    return access_request


def _locked_request(access_request: AccessRequest) -> AccessRequest:
    return AccessRequest.objects.select_for_update().select_related("family").get(pk=access_request.pk)


@transaction.atomic
def access_request_extend(*, actor: User, access_request: AccessRequest, reason: str) -> AccessRequest:
    """The one extension of 30 days PIPEDA allows, given within the first 30 days with its reason: the family is
    emailed the new date, the reason and their right to complain to the Privacy Commissioner."""
    access_request = _locked_request(access_request)
    today = school_today()
    if access_request.answered_on is not None:
        raise AccessRequestRefused("This request is answered: there is nothing to extend.")
    if access_request.extended_at is not None:
        raise AccessRequestRefused("This request was extended already: the law allows one extension.")
    if today > access_request.last_day_to_extend:
        raise AccessRequestRefused(
            f"An extension is given within the first 30 days (by {access_request.last_day_to_extend:%-d %B %Y})."
        )
    if not reason.strip():
        raise InvalidInput("Say why the answer needs more time.", fields={"reason": ["Required."]})
    access_request.extended_at = timezone.now()
    access_request.extension_reason = reason.strip()
    model_validate(access_request)
    access_request.save(update_fields=["extended_at", "extension_reason"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=access_request,
        changes={
            "due_on": [
                str(access_request.due_on - timedelta(days=AccessRequest.EXTENSION_DAYS)),
                str(access_request.due_on),
            ],
            "extension_reason": ["", access_request.extension_reason],
        },
        family_id=access_request.family_id,
    )
    email_parents(
        family=access_request.family,
        template="access_request_extended",
        context={"access_request": access_request, "commissioner": PRIVACY_COMMISSIONER},
        dedupe_key=f"access_request:{access_request.pk}:extended",
        related=access_request,
    )
    return access_request


@transaction.atomic
def access_request_answer(
    *, actor: User, access_request: AccessRequest, answered_on: date, note: str = ""
) -> AccessRequest:
    """Record the day the school answered the request, and how."""
    access_request = _locked_request(access_request)
    if access_request.answered_on is not None:
        raise AccessRequestRefused(f"This request was answered on {access_request.answered_on:%-d %B %Y}.")
    if answered_on < access_request.received_on or answered_on > school_today():
        raise InvalidInput(
            "The answer's date is between the request's receipt and today.",
            fields={"answered_on": [f"From {access_request.received_on:%-d %b %Y} to today."]},
        )
    access_request.answered_on = answered_on
    access_request.answer_note = note
    model_validate(access_request)
    access_request.save(update_fields=["answered_on", "answer_note"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=access_request,
        changes={"answered_on": [None, str(answered_on)]},
        family_id=access_request.family_id,
    )
    return access_request


def data_export_request(*, actor: User, access_request: AccessRequest) -> DataExport:
    """A new export of the request's family, built in the background once this transaction commits."""
    export = DataExport.objects.create(
        family_id=access_request.family_id, access_request=access_request, requested_by=actor
    )
    task_enqueue_with_commit(EXPORT_BUILD_TASK, export.pk)
    return export


@transaction.atomic
def data_export_store(*, export: DataExport, content: bytes, record_counts: dict[str, int]) -> DataExport:
    """Keep a built export's zip and email the family's parents a link that works once, for 7 days; only the
    link's hash is kept. Every export leaves an EXPORT audit event. A rerun of the task keeps the first build."""
    export = DataExport.objects.select_for_update().select_related("family").get(pk=export.pk)
    if export.built_at is not None:
        return export
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    export.content = content
    export.size_bytes = len(content)
    export.token_hash = DataExport.link_token_hash(token)
    export.built_at = now
    export.expires_at = now + timedelta(days=DataExport.EXPIRES_AFTER_DAYS)
    export.save(update_fields=["content", "size_bytes", "token_hash", "built_at", "expires_at"])
    audit_record(
        actor=export.requested_by,
        action=AuditEvent.Action.EXPORT,
        obj=export.family,
        changes={"records": record_counts, "data_export": export.pk},
        family_id=export.family_id,
    )
    email_parents(
        family=export.family,
        template="data_export_ready",
        context={
            "export": export,
            "download_url": settings.SITE_URL.rstrip("/") + reverse("family-data-export-link", args=[token]),
        },
        dedupe_key=f"data_export:{export.pk}:ready",
        related=export,
    )
    return export


@transaction.atomic
def data_export_take(*, family_id: int, token: str | None = None, export_id: int | None = None) -> DataExport:
    """The family's export, given once: by the emailed link's token or by its id in the portal (a parent of the
    family, either way). The download is recorded and the zip dropped from the database in the same transaction;
    a second download, or one after the link expired, is refused (ExportGone)."""
    exports = DataExport.objects.select_for_update().filter(family_id=family_id)
    if token is not None:
        export = exports.filter(token_hash=DataExport.link_token_hash(token)).first()
    else:
        export = exports.filter(pk=export_id, built_at__isnull=False).first()
    now = timezone.now()
    if export is None or not export.is_downloadable(now):
        raise ExportGone()
    content = bytes(export.content)
    export.downloaded_at = now
    export.content = b""
    export.save(update_fields=["downloaded_at", "content"])
    export.content = content
    return export


@transaction.atomic
def correction_request_raise(*, family: Family, parent: User, about: str, requested_change: str) -> CorrectionRequest:
    """A parent asks to correct something they cannot change themselves: logged for the owner. The family's row
    lock orders it with the retention job, which re-checks its legal hold under the same lock."""
    _locked_family(family)
    correction = CorrectionRequest(family=family, requested_by=parent, about=about, requested_change=requested_change)
    model_validate(correction)
    correction.save()
    audit_record(
        actor=parent,
        action=AuditEvent.Action.CREATE,
        obj=correction,
        changes={"about": [None, about], "requested_change": [None, requested_change]},
        family_id=family.pk,
    )
    return correction


@transaction.atomic
def correction_request_resolve(
    *, actor: User, correction: CorrectionRequest, status: str, annotation: str
) -> CorrectionRequest:
    """The owner's answer: corrected (what was changed), or annotated (the family's disagreement, kept on their
    record and in their export) when the school keeps the record as it is."""
    correction = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
    if correction.status != CorrectionRequest.Status.OPEN:
        raise InvalidInput(f"This request is {correction.get_status_display().lower()} already.")
    if status not in (CorrectionRequest.Status.CORRECTED, CorrectionRequest.Status.ANNOTATED):
        raise InvalidInput("Corrected or annotated.", fields={"status": ["Corrected or annotated."]})
    if not annotation.strip():
        raise InvalidInput(
            "Say what was corrected, or the family's disagreement as it stays on their record.",
            fields={"annotation": ["Required."]},
        )
    correction.status = status
    correction.annotation = annotation.strip()
    correction.resolved_at = timezone.now()
    correction.resolved_by = actor
    model_validate(correction)
    correction.save(update_fields=["status", "annotation", "resolved_at", "resolved_by"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=correction,
        changes={"status": [CorrectionRequest.Status.OPEN, status], "annotation": ["", correction.annotation]},
        family_id=correction.family_id,
    )
    return correction


# What a parent corrects themselves: the family's details less its name (the school's label) and the staff's notes.
FAMILY_CORRECTABLE = tuple(name for name in FAMILY_FIELDS if name not in {"name", "notes"})


@transaction.atomic
def contact_details_correct(*, parent: User, parent_fields: dict, family_fields: dict) -> None:
    """A parent corrects their own name and phone and the family's address and emergency contact; each record
    changed leaves an audit event with the old and new values."""
    if refused := sorted((set(parent_fields) - set(PROFILE_FIELDS)) | (set(family_fields) - set(FAMILY_CORRECTABLE))):
        raise InvalidInput("Only contact details are corrected here.", fields={name: ["Not here."] for name in refused})
    family = _locked_family(parent.family)
    user_update_profile(user=parent, **parent_fields)
    audited_update(actor=parent, obj=family, family_id=family.pk, **family_fields)


def data_exports_expired_clear() -> int:
    """django-q2 task (hourly): the zips of exports whose link expired unused are dropped (a copy of a family's data
    is kept no longer than it can be downloaded); the row stays, saying when it was built and that it expired."""
    return (
        DataExport.objects.filter(downloaded_at__isnull=True, expires_at__lte=timezone.now())
        .exclude(content=b"")
        .update(content=b"")
    )
