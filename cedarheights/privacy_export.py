"""A family's data export (PIPEDA principle 9): every record the school holds about the family, each kind as JSON
and CSV in one zip with a README. It reads across every app, so it sits with the wiring; accounts keeps the built
zip and gives it once (`accounts.privacy_requests`).

What is left out, and why: passwords and link secrets (they protect the family, they are not about them), the
teachers' private lesson notes (their working notes; the notes teachers share with the family are in), and the
export zips themselves."""

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.template import engines
from django.utils import timezone

from accounts.models import AccessRequest, ConsentRecord, CorrectionRequest, DataExport, Family, User
from accounts.privacy_requests import data_export_store
from billing.models import (
    BillingProfile,
    FamilyDiscount,
    FamilyFee,
    LedgerEntry,
    LessonFee,
    Payment,
    PaymentFailure,
    PromotionRedemption,
    Receipt,
    TuitionCharge,
    TuitionSubscription,
    WithdrawalSettlement,
)
from cedarheights.models import AuditEvent, EmailLog
from cedarheights.selectors import privacy_officer, school_settings_get
from enrollment.models import (
    ChildConsent,
    Enrollment,
    EnrollmentChange,
    EnrollmentPause,
    MakeupCredit,
    MakeupCreditEntry,
)
from scheduling.models import Lesson, Student, WeeklyLesson

# Never exported, whatever model holds them: secrets that guard the family's account, and bulky copies.
LEFT_OUT = {"password", "password_link_nonce", "token_hash", "content", "html_body", "attachments"}


@dataclass(frozen=True)
class Dataset:
    """One kind of record in the export: `name`.json and `name`.csv, a row per record with its own fields (related
    records by id), less `exclude`, plus `labels` (column -> how to name a related record for a person)."""

    name: str
    description: str
    records: models.QuerySet
    exclude: frozenset[str] = frozenset()
    labels: dict[str, Callable[[models.Model], object]] = field(default_factory=dict)

    def _fields(self) -> list[str]:
        meta = self.records.model._meta
        return [f.attname for f in meta.concrete_fields if f.attname not in LEFT_OUT | self.exclude]

    def columns(self) -> list[str]:
        """The CSV's header: written for an empty kind too, so a family sees what such a record would hold."""
        return [*self._fields(), *self.labels]

    def rows(self) -> list[dict]:
        fields = self._fields()
        return [
            {
                **{name: getattr(record, name) for name in fields},
                **{column: label(record) for column, label in self.labels.items()},
            }
            for record in self.records
        ]


def _name(person) -> str:
    return str(person) if person is not None else ""


def family_consent_datasets(family: Family) -> list[Dataset]:
    """The family's consents: the one place every consent record joins the export."""
    given_by = {"given_by_name": lambda consent: _name(consent.given_by)}
    return [
        Dataset(
            "consents",
            "Each consent a guardian gave for a child (lessons under the privacy notice, photos and recordings): the "
            "notice version, the words shown, who gave it, when, and when withdrawn.",
            ChildConsent.objects.filter(student__family=family).select_related("given_by").order_by("pk"),
            labels=given_by,
        ),
        Dataset(
            "news_consents",
            "Each parent's consent to the school's news by email: the notice version, the words shown, when given "
            "and when withdrawn.",
            ConsentRecord.objects.filter(family=family).select_related("given_by").order_by("pk"),
            labels=given_by,
        ),
    ]


def family_datasets(family: Family) -> list[Dataset]:
    """Every record about `family`, by kind: only its own rows (by its id, its children's ids, its parents'
    addresses), never another family's."""
    parents = User.objects.filter(family=family).order_by("pk")
    addresses = [email.lower() for email in parents.values_list("email", flat=True)]
    students = Student.objects.filter(family=family)
    student_ids = list(students.values_list("pk", flat=True))
    enrollments = Enrollment.objects.filter(student__family=family)
    teacher = {"teacher_name": lambda row: _name(row.teacher)}
    return [
        Dataset(
            "family",
            "The family's record: name, address, emergency contact, notes.",
            Family.objects.filter(pk=family.pk),
        ),
        Dataset(
            "parents",
            "Each parent's account: name, email, phone, when it was made and last used.",
            parents,
            exclude=frozenset({"is_superuser", "is_staff"}),
        ),
        Dataset(
            "children",
            "Each child: name, date of birth, instrument, level, teacher, status.",
            students.select_related("teacher__user", "instrument").order_by("pk"),
            labels={**teacher, "instrument_name": lambda s: str(s.instrument)},
        ),
        Dataset("enrollments", "Each child's enrollment: instrument, plan, status, dates.", enrollments.order_by("pk")),
        Dataset(
            "enrollment_pauses",
            "Vacation and unpaid pauses.",
            EnrollmentPause.objects.filter(enrollment__in=enrollments).order_by("pk"),
        ),
        Dataset(
            "enrollment_changes",
            "Changes to a weekly lesson (day, time, teacher, length).",
            EnrollmentChange.objects.filter(enrollment__in=enrollments).order_by("pk"),
        ),
        Dataset(
            "weekly_lessons",
            "Each child's weekly lesson time.",
            WeeklyLesson.objects.filter(student__family=family).select_related("teacher__user").order_by("pk"),
            labels=teacher,
        ),
        Dataset(
            "lessons",
            "Every lesson: when, teacher, room, outcome, and the teacher's note to the family. (Teachers' private "
            "working notes are not included.)",
            Lesson.objects.filter(student__family=family).select_related("teacher__user").order_by("start_at", "pk"),
            exclude=frozenset({"notes"}),
            labels=teacher,
        ),
        Dataset(
            "makeup_credits",
            "Make-up credits: why given, until when, status.",
            MakeupCredit.objects.filter(enrollment__in=enrollments).order_by("pk"),
        ),
        Dataset(
            "makeup_credit_entries",
            "Each credit's history: given, used, returned, extended, expired.",
            MakeupCreditEntry.objects.filter(credit__enrollment__in=enrollments).order_by("pk"),
        ),
        Dataset(
            "payments",
            "Every payment: amount, purpose, status, dates.",
            Payment.objects.filter(family=family).order_by("pk"),
        ),
        Dataset(
            "receipts", "Every receipt: number, amount, date.", Receipt.objects.filter(family=family).order_by("pk")
        ),
        Dataset(
            "ledger",
            "The family's account: every charge and payment.",
            LedgerEntry.objects.filter(family=family).order_by("pk"),
        ),
        Dataset("tuition_charges", "Tuition charged.", TuitionCharge.objects.filter(family=family).order_by("pk")),
        Dataset(
            "lesson_fees", "Late-cancellation and no-show fees.", LessonFee.objects.filter(family=family).order_by("pk")
        ),
        Dataset("family_fees", "Registration and late fees.", FamilyFee.objects.filter(family=family).order_by("pk")),
        Dataset("discounts", "The family's tuition discount.", FamilyDiscount.objects.filter(family=family)),
        Dataset(
            "promotion_redemptions",
            "Promotion codes used.",
            PromotionRedemption.objects.filter(family=family).order_by("pk"),
        ),
        Dataset(
            "subscriptions", "Tuition subscriptions.", TuitionSubscription.objects.filter(family=family).order_by("pk")
        ),
        Dataset(
            "payment_failures",
            "Payments that failed, and what followed.",
            PaymentFailure.objects.filter(family=family).order_by("pk"),
        ),
        Dataset(
            "withdrawal_settlements",
            "What was settled when a child withdrew.",
            WithdrawalSettlement.objects.filter(enrollment__in=enrollments).order_by("pk"),
        ),
        Dataset(
            "billing_profile",
            "The family's billing profile (card details stay with Stripe).",
            BillingProfile.objects.filter(family=family),
        ),
        *family_consent_datasets(family),
        Dataset(
            "emails",
            "Every email the school sent to the parents' addresses: the text as sent, its links removed.",
            EmailLog.objects.annotate(address=Lower("recipient")).filter(address__in=addresses).order_by("pk"),
            exclude=frozenset({"related_type", "related_id", "dedupe_key", "text_body"}),
            labels={"text_as_sent": lambda email: LINK.sub("[link removed]", email.text_body)},
        ),
        Dataset(
            "audit_events",
            "Who created, read, changed or exported the family's and the children's records, and when.",
            AuditEvent.objects.filter(Q(family_id=family.pk) | Q(student_id__in=student_ids))
            .select_related("actor")
            .order_by("at", "pk"),
            labels={"actor_name": lambda event: _name(event.actor)},
        ),
        Dataset(
            "access_requests",
            "The family's requests for their data.",
            AccessRequest.objects.filter(family=family).order_by("pk"),
        ),
        Dataset(
            "correction_requests",
            "Corrections the family asked for, and how each was resolved (a disagreement is annotated).",
            CorrectionRequest.objects.filter(family=family).order_by("pk"),
        ),
    ]


def _json_ready(rows: list[dict]) -> str:
    return json.dumps(rows, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)


def _csv(dataset: Dataset, rows: list[dict]) -> str:
    """One row per record; a nested value (an audit event's changes) as JSON in its cell."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=dataset.columns())
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: json.dumps(v, cls=DjangoJSONEncoder) if isinstance(v, dict | list) else v for k, v in row.items()}
        )
    return out.getvalue()


def family_export_zip(family: Family) -> tuple[bytes, dict[str, int]]:
    """The zip of every dataset of `family` (JSON and CSV each, and README.txt), and how many records of each."""
    collected = [(dataset, dataset.rows()) for dataset in family_datasets(family)]
    counts = {dataset.name: len(rows) for dataset, rows in collected}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(family, collected))
        for dataset, rows in collected:
            archive.writestr(f"json/{dataset.name}.json", _json_ready(rows))
            archive.writestr(f"csv/{dataset.name}.csv", _csv(dataset, rows))
    return buffer.getvalue(), counts


# A link in an email may still work (a set-password link, a calendar feed, another export): one parent's link must not
# reach the other parent through the family's zip, and a link is no information about the family.
LINK = re.compile(r"https?://\S+")


def _readme(family: Family, collected: Iterable[tuple[Dataset, list[dict]]]) -> str:
    return (
        engines["text"]
        .get_template("privacy/export_readme.txt")
        .render(
            {
                "family": family,
                "school": school_settings_get(),
                "officer": privacy_officer(),
                "made_at": timezone.localtime(timezone.now(), school_settings_get().zone),
                "datasets": [(dataset, len(rows)) for dataset, rows in collected],
            }
        )
    )


def data_export_build(export_id: int) -> None:
    """django-q2 task: build the export's zip and hand it to accounts, which keeps it and emails the link. A rerun
    after a build finds it built and does nothing."""
    export = DataExport.objects.select_related("family").get(pk=export_id)
    if export.built_at is not None:
        return
    content, counts = family_export_zip(export.family)
    data_export_store(export=export, content=content, record_counts=counts)
