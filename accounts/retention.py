"""Accounts' part of the retention schedule (cedarheights/privacy_retention.py runs it): a family's names and
contacts replaced once its records are past their period, and old failed sign-ins deleted."""

from datetime import datetime

from axes.models import AccessAttempt, AccessFailureLog
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Family, User
from accounts.services import tokens_revoke_all
from cedarheights.email_retention import email_log_anonymise
from cedarheights.models import AuditEvent
from cedarheights.services import audit_record

ANONYMISED_EMAIL_DOMAIN = "anonymised.invalid"  # RFC 2606: never delivered


def anonymised_family_name(family_id: int) -> str:
    return f"Former family #{family_id}"


@transaction.atomic(savepoint=False)
def family_anonymise(*, family: Family) -> Family:
    """Replace what names or reaches the family and its parents, and the copies of the emails sent to them: the
    parents can no longer sign in and their addresses lead nowhere. Ids, dates and the links between rows stay, so
    totals and statistics do too. A family already anonymised is returned unchanged."""
    if family.anonymised_at is not None:
        return family
    for parent in User.objects.filter(family=family).select_for_update().order_by("pk"):
        anonymised_email = f"former-parent-{parent.pk}@{ANONYMISED_EMAIL_DOMAIN}"
        email_log_anonymise(recipient=parent.email, replacement=anonymised_email)
        parent.first_name = "Former parent"
        parent.last_name = f"#{parent.pk}"
        parent.email = anonymised_email
        parent.phone = ""
        parent.is_active = False
        parent.set_unusable_password()
        parent.save(update_fields=["first_name", "last_name", "email", "phone", "is_active", "password"])
        tokens_revoke_all(user=parent)
    family.name = anonymised_family_name(family.pk)
    family.street = family.city = family.province = family.postal_code = ""
    family.emergency_contact_name = family.emergency_contact_phone = ""
    family.notes = ""
    family.external_id = ""  # an imported family's id may be a parent's email
    family.anonymised_at = timezone.now()
    family.save()
    # The event names no replaced value: the audit table keeps what it is given for good.
    audit_record(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        obj=family,
        changes={"anonymised": [None, "names, contacts and address replaced under the retention schedule"]},
    )
    return family


def failed_signins_prune(*, before: datetime) -> int:
    """Delete the records of failed sign-ins older than `before` (django-axes keeps them otherwise)."""
    attempts, _ = AccessAttempt.objects.filter(attempt_time__lt=before).delete()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=before).delete()
    return attempts + failures


def failed_signins_count(*, before: datetime) -> int:
    return (
        AccessAttempt.objects.filter(attempt_time__lt=before).count()
        + AccessFailureLog.objects.filter(attempt_time__lt=before).count()
    )


def family_last_sign_in(*, family_ids) -> dict[int, datetime]:
    rows = (
        User.objects.filter(family_id__in=list(family_ids), last_login__isnull=False)
        .values("family_id")
        .annotate(last=Max("last_login"))
    )
    return {row["family_id"]: row["last"] for row in rows}
