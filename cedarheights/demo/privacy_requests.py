"""The demo's privacy requests (issue 18 §2), told through accounts' services: the Singhs asked by email 22 days ago
and wait (the owner's list warns from day 20), their export built and not yet downloaded; the Rossis asked in person
40 days ago and were answered within a week; the MacDonalds ask to correct a lesson's record (open), and the
Okonkwos disputed a no-show, kept on their record as an annotation. Each part looks for what it made first, so
seeding again changes nothing."""

from datetime import date, timedelta

from accounts.models import AccessRequest, CorrectionRequest, Family, User
from accounts.privacy_requests import (
    access_request_answer,
    access_request_log,
    correction_request_raise,
    correction_request_resolve,
    data_export_request,
)
from cedarheights.privacy_export import data_export_build

WAITING = "Singh family"
ANSWERED = "Rossi family"
CORRECTION_OPEN = "MacDonald family"
CORRECTION_ANNOTATED = "Okonkwo family"


def privacy_requests_tell(*, today: date, owner: User) -> None:
    waiting = Family.objects.get(name=WAITING)
    if not AccessRequest.objects.filter(family=waiting).exists():
        request = access_request_log(
            actor=owner,
            family=waiting,
            channel=AccessRequest.Channel.EMAIL,
            received_on=today - timedelta(days=22),
            details="Harpreet asked by email for everything the school holds about the family.",
        )
        export = data_export_request(actor=owner, access_request=request)
        data_export_build(export.pk)  # as the worker will (it then finds the export built, and does nothing)
    answered = Family.objects.get(name=ANSWERED)
    if not AccessRequest.objects.filter(family=answered).exists():
        request = access_request_log(
            actor=owner, family=answered, channel=AccessRequest.Channel.IN_PERSON, received_on=today - timedelta(40)
        )
        access_request_answer(
            actor=owner,
            access_request=request,
            answered_on=today - timedelta(days=33),
            note="Giulia came in and was given her family's records, printed.",
        )
    _correction(
        family=Family.objects.get(name=CORRECTION_OPEN),
        about="Attendance of last Tuesday's lesson",
        requested_change="Our son was there: the lesson is marked as a no-show.",
    )
    disputed = _correction(
        family=Family.objects.get(name=CORRECTION_ANNOTATED),
        about="A no-show in October",
        requested_change="We called ahead to cancel, so this should not be a no-show.",
    )
    if disputed.status == CorrectionRequest.Status.OPEN:
        correction_request_resolve(
            actor=owner,
            correction=disputed,
            status=CorrectionRequest.Status.ANNOTATED,
            annotation="The school has no record of the call and keeps the no-show; the family disagrees: they say "
            "they called the office the day before.",
        )


def _correction(*, family: Family, about: str, requested_change: str) -> CorrectionRequest:
    parent = family.parents.order_by("pk").first()
    return CorrectionRequest.objects.filter(family=family, about=about).first() or correction_request_raise(
        family=family, parent=parent, about=about, requested_change=requested_change
    )
