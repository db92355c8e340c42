from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, DateField, ExpressionWrapper, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import (
    AccessRequest,
    ConsentRecord,
    CorrectionRequest,
    DataExport,
    Family,
    ReminderPreference,
    User,
)
from cedarheights.roles import is_parent, is_school_admin, is_teacher
from cedarheights.selectors import school_today


def family_list_visible_to(user) -> QuerySet[Family]:
    """Admin: every family; a parent: their own; anyone else: none."""
    parents = User.objects.only("id", "family_id", "email", "first_name", "last_name", "phone")  # what a list shows
    families = Family.objects.prefetch_related(Prefetch("parents", queryset=parents)).order_by("name", "id")
    if is_school_admin(user):
        return families
    if is_parent(user):
        return families.filter(id=user.family_id)
    return families.none()


@dataclass(frozen=True)
class ReminderChoice:
    """One kind of reminder email as a person has it: on unless they turned it off, and when they last chose
    (None: never, so it is on)."""

    kind: str
    label: str
    enabled: bool
    changed_at: datetime | None


def reminder_kinds_for(user) -> tuple[str, ...]:
    """The reminder emails a person gets, by role: a parent, the family's lessons of the next day and the nudge
    before a lesson's free-cancellation window closes; a teacher, their next teaching day; anyone else none."""
    if is_parent(user):
        return (ReminderPreference.Kind.LESSONS_TOMORROW, ReminderPreference.Kind.CANCEL_WINDOW)
    if is_teacher(user):
        return (ReminderPreference.Kind.TEACHING_TOMORROW,)
    return ()


def reminder_preferences_of(user) -> list[ReminderChoice]:
    """Each reminder kind the person gets, as they have it now."""
    kinds = reminder_kinds_for(user)
    chosen = {row.kind: row for row in ReminderPreference.objects.filter(user=user, kind__in=kinds)}
    return [
        ReminderChoice(
            kind=kind,
            label=ReminderPreference.Kind(kind).label,
            enabled=chosen[kind].enabled if kind in chosen else True,
            changed_at=chosen[kind].changed_at if kind in chosen else None,
        )
        for kind in kinds
    ]


def reminders_turned_off(*, kind: str, user_ids: Collection[int]) -> set[int]:
    """Those of `user_ids` who turned `kind` off: one query, however many people a reminder job emails."""
    return set(
        ReminderPreference.objects.filter(kind=kind, enabled=False, user_id__in=list(user_ids)).values_list(
            "user_id", flat=True
        )
    )


def reminder_wanted(*, kind: str, email: str) -> bool:
    """Whether the person at `email` still gets reminders of `kind` (asked again as each one is sent)."""
    return not ReminderPreference.objects.filter(kind=kind, enabled=False, user__email__iexact=email).exists()


def marketing_consent_of(parent) -> ConsentRecord | None:
    """The parent's opt-in to the school's news in force, or None."""
    return ConsentRecord.objects.filter(
        given_by=parent, purpose=ConsentRecord.Purpose.MARKETING, withdrawn_at__isnull=True
    ).first()


def marketing_opted_in(*, email: str) -> bool:
    """Whether the person at `email` gets the school's news now (asked again as each news email is sent)."""
    return ConsentRecord.objects.filter(
        given_by__email__iexact=email, purpose=ConsentRecord.Purpose.MARKETING, withdrawn_at__isnull=True
    ).exists()


def parents_opted_in_to_marketing() -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        consentrecord__purpose=ConsentRecord.Purpose.MARKETING,
        consentrecord__withdrawn_at__isnull=True,
    ).distinct()


def family_ids_on_legal_hold() -> set[int]:
    """Families with an open access request or an open correction request: nothing of theirs is anonymised or
    destroyed until it is answered (PIPEDA: never destroy information under an open request)."""
    return set(AccessRequest.objects.filter(answered_on__isnull=True).values_list("family_id", flat=True)) | set(
        CorrectionRequest.objects.filter(status=CorrectionRequest.Status.OPEN).values_list("family_id", flat=True)
    )


def access_request_open_for(*, family_id: int) -> AccessRequest | None:
    return AccessRequest.objects.filter(family_id=family_id, answered_on__isnull=True).first()


def data_export_latest(*, family_id: int) -> DataExport | None:
    """The family's newest export: building, ready, downloaded or expired (the portal says which)."""
    return DataExport.objects.filter(family_id=family_id).order_by("-created_at", "-pk").first()


def data_export_by_link(*, family_id: int, token: str) -> DataExport | None:
    """The family's export that the emailed link names, while it can still be downloaded."""
    export = DataExport.objects.filter(family_id=family_id, token_hash=DataExport.link_token_hash(token)).first()
    return export if export is not None and export.is_downloadable(timezone.now()) else None


def correction_requests_of(*, family_id: int) -> QuerySet[CorrectionRequest]:
    return CorrectionRequest.objects.filter(family_id=family_id).order_by("-raised_at")


ANSWER_WITH_EXTENSION = AccessRequest.ANSWER_DAYS + AccessRequest.EXTENSION_DAYS


def access_requests_by_urgency() -> QuerySet[AccessRequest]:
    """Every request with its answer's last day (`due`, an extended request's 30 days longer): the open ones first,
    the soonest due first; then the answered ones, the latest answered first."""
    return AccessRequest.objects.annotate(
        due=ExpressionWrapper(
            F("received_on")
            + Case(
                When(extended_at__isnull=False, then=Value(timedelta(days=ANSWER_WITH_EXTENSION))),
                default=Value(timedelta(days=AccessRequest.ANSWER_DAYS)),
            ),
            output_field=DateField(),
        )
    ).order_by(F("answered_on").desc(nulls_first=True), "due", "pk")


def privacy_request_figures() -> dict[str, int]:
    """The owner's dashboard: access requests and correction requests waiting for an answer."""
    warn_from = school_today() - timedelta(days=AccessRequest.WARN_AFTER_DAYS)
    return {
        **AccessRequest.objects.filter(answered_on__isnull=True).aggregate(
            access_requests_open=Count("id"), access_requests_due_soon=Count("id", filter=Q(received_on__lte=warn_from))
        ),
        "correction_requests_open": CorrectionRequest.objects.filter(status=CorrectionRequest.Status.OPEN).count(),
    }
