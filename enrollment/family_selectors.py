"""What the family's portal and the family's API read, one family at a time: each child's next lessons and open
credits, a lesson with what cancelling it would mean now, the credits with their status and ledger, and the
make-up times a credit (or a lesson about to be rescheduled) may book. The rules are makeups.py's and credits.py's;
this module only gathers them for a page or an answer.
"""

from dataclasses import dataclass, field
from datetime import date
from itertools import groupby

from django.db import models
from django.db.models import Case, F, Prefetch, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from accounts.models import ConsentRecord
from accounts.selectors import ReminderChoice, reminder_preferences_of
from cedarheights.models import PrivacyNotice
from cedarheights.money import default_currency, format_cents
from cedarheights.roles import is_parent, is_school_admin
from cedarheights.selectors import privacy_notice_current
from enrollment.credits import credit_of_lesson, credits_with_last_kind, enrollment_for_lesson
from enrollment.errors import CreditNotUsable, NoCreditEarned
from enrollment.makeups import (
    CancellationPreview,
    MakeupOffer,
    cancellation_preview,
    makeup_credit_usable_check,
    makeup_slots_offer,
    makeup_teachers,
)
from enrollment.models import ChildConsent, Enrollment, EnrollmentPause, MakeupCredit, MakeupCreditEntry
from scheduling.models import Lesson, Student, Teacher, WeeklyLesson
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_validate
from scheduling.transitions import STILL_TO_COME

NEXT_LESSONS = 4  # per child on the home page
RECENT_NOTES = 5


class CreditStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    HELD = "held", "Held until the tuition is paid"
    USED = "used", "Used"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Taken back"


OPEN = (CreditStatus.AVAILABLE, CreditStatus.HELD)


def credits_with_status(credits: QuerySet[MakeupCredit] | None = None) -> QuerySet[MakeupCredit]:
    """Credits annotated with `balance` and `status`: open (available, or held until the tuition is paid) while
    the balance is 1 and the expiry has not passed; otherwise what their last ledger line made them. A credit past
    its expiry is expired at once, before the nightly job writes its line."""
    Kind = MakeupCreditEntry.Kind
    return credits_with_last_kind(credits).annotate(
        status=Case(
            When(balance=1, expires_on__lt=timezone.localdate(), then=Value(CreditStatus.EXPIRED)),
            When(balance=1, held_until_paid=True, then=Value(CreditStatus.HELD)),
            When(balance=1, then=Value(CreditStatus.AVAILABLE)),
            When(last_kind=Kind.REDEEMED, then=Value(CreditStatus.USED)),
            When(last_kind=Kind.REVOKED, then=Value(CreditStatus.REVOKED)),
            default=Value(CreditStatus.EXPIRED),
            output_field=models.CharField(),
        ),
    )


def _credits_read() -> QuerySet[MakeupCredit]:
    entries = MakeupCreditEntry.objects.select_related("lesson").order_by("sequence")
    return MakeupCredit.objects.select_related("enrollment__student", "instrument", "missed_lesson").prefetch_related(
        Prefetch("entries", queryset=entries)
    )


def makeup_credit_list_visible_to(user) -> QuerySet[MakeupCredit]:
    """The school: every credit; a parent: their family's; anyone else: none. Soonest expiry first."""
    credits = _credits_read()
    if is_parent(user):
        credits = credits.filter(enrollment__student__family_id=user.family_id)
    elif not is_school_admin(user):
        credits = credits.none()
    return credits_with_status(credits).order_by("expires_on", "pk")


def credit_left_by(*, lesson: Lesson) -> MakeupCredit | None:
    """The open credit a cancelled lesson left the family (its own, or the one a make-up gave back), if any."""
    credit = credit_of_lesson(lesson=lesson)
    if credit is None:
        return None
    return credits_with_status(_credits_read().filter(pk=credit.pk)).filter(status__in=OPEN).first()


def family_lessons(*, family_id: int) -> QuerySet[Lesson]:
    """Every lesson of the family's children, newest first."""
    return (
        Lesson.objects.filter(student__family_id=family_id)
        .select_related("student__instrument", "teacher__user", "room")
        .order_by("-start_at", "-pk")
    )


def family_credit_get(*, family_id: int, credit_id: int) -> MakeupCredit:
    """One of the family's credits, with its status (`MakeupCredit.DoesNotExist` for anyone else's)."""
    return credits_with_status(_credits_read().filter(enrollment__student__family_id=family_id)).get(pk=credit_id)


@dataclass(frozen=True)
class ChildWeek:
    student: Student
    next_lessons: list[Lesson]
    open_credits: int
    soonest_expiry: date | None
    held_credits: int = 0  # of the open ones, those waiting for the tuition to be paid
    weekly: list[WeeklyLesson] = field(default_factory=list)  # the standing weekly times, as changed since
    enrollment: Enrollment | None = None  # the active one: a withdrawal's last lesson (`ends_on`), withdrawing
    pause: EnrollmentPause | None = None  # a vacation pause on now or to come


@dataclass(frozen=True)
class FamilyHome:
    children: list[ChildWeek]
    notes: list[Lesson]  # past lessons with the teacher's note to the family, newest first


def family_home(*, family_id: int) -> FamilyHome:
    """Each child (but those withdrawn) with their next lessons, teacher and open credits; recent teachers' notes."""
    now = timezone.now()
    students = (
        Student.objects.filter(family_id=family_id)
        .exclude(status=Student.Status.WITHDRAWN)
        .select_related("instrument", "teacher__user")
        .order_by("first_name", "pk")
    )
    ranked = Window(RowNumber(), partition_by=[F("student_id")], order_by=[F("start_at").asc(), F("pk").asc()])
    upcoming = (
        family_lessons(family_id=family_id)
        .filter(outcome=STILL_TO_COME, end_at__gt=now)
        .annotate(rank=ranked)
        .filter(rank__lte=NEXT_LESSONS)
        .order_by("start_at", "pk")
    )
    lessons_of: dict[int, list[Lesson]] = {}
    for lesson in upcoming:
        lessons_of.setdefault(lesson.student_id, []).append(lesson)
    expiries_of: dict[int, list[date]] = {}
    held_of: dict[int, int] = {}
    open_credits = credits_with_status(MakeupCredit.objects.filter(enrollment__student__family_id=family_id))
    for student_id, expires_on, status in open_credits.filter(status__in=OPEN).values_list(
        "enrollment__student_id", "expires_on", "status"
    ):
        expiries_of.setdefault(student_id, []).append(expires_on)
        held_of[student_id] = held_of.get(student_id, 0) + (status == CreditStatus.HELD)
    lifecycle = _children_lifecycle(family_id=family_id)
    children = [
        ChildWeek(
            student=student,
            next_lessons=lessons_of.get(student.pk, []),
            open_credits=len(expiries_of.get(student.pk, [])),
            soonest_expiry=min(expiries_of.get(student.pk, []), default=None),
            held_credits=held_of.get(student.pk, 0),
            **lifecycle.get(student.pk, {}),
        )
        for student in students
    ]
    notes = family_lessons(family_id=family_id).filter(start_at__lt=now).exclude(family_note="")[:RECENT_NOTES]
    return FamilyHome(children=children, notes=list(notes))


def family_enrollment_get(*, family_id: int, enrollment_id: int) -> Enrollment:
    """One of the family's active enrollments (a 404 for anyone else's, or one that ended)."""
    try:
        return Enrollment.objects.select_related("student", "instrument").get(
            pk=enrollment_id, student__family_id=family_id, status=Enrollment.Status.ACTIVE
        )
    except Enrollment.DoesNotExist as error:
        raise Http404("No such enrollment.") from error


def _children_lifecycle(*, family_id: int) -> dict[int, dict]:
    """Per child: their standing weekly times, their active enrollment (withdrawing or not) and the vacation pause
    on now or to come; three queries for the family."""
    today = timezone.localdate()
    found: dict[int, dict] = {}
    weekly = WeeklyLesson.objects.filter(student__family_id=family_id, ended_on__isnull=True).select_related(
        "teacher__user"
    )
    for weekly_lesson in weekly.order_by("weekday", "start_time"):
        found.setdefault(weekly_lesson.student_id, {}).setdefault("weekly", []).append(weekly_lesson)
    enrollments = Enrollment.objects.filter(student__family_id=family_id, status=Enrollment.Status.ACTIVE)
    for enrollment in enrollments.order_by("created_at"):
        found.setdefault(enrollment.student_id, {})["enrollment"] = enrollment
    pauses = EnrollmentPause.objects.filter(
        enrollment__student__family_id=family_id, ended_at__isnull=True, resumes_on__gt=today
    ).select_related("enrollment")
    for pause in pauses.order_by("-starts_on"):
        found.setdefault(pause.enrollment.student_id, {})["pause"] = pause
    return found


@dataclass(frozen=True)
class OfferDay:
    day: date
    offers: list[MakeupOffer]


def offers_by_day(offers: list[MakeupOffer]) -> list[OfferDay]:
    """Offers (earliest first, in the school's zone) grouped by their local day."""
    return [OfferDay(day, list(group)) for day, group in groupby(offers, key=lambda offer: offer.start_at.date())]


def makeup_offers_usable(
    *, credit: MakeupCredit, day: date | None = None, teacher_id: int | None = None
) -> list[MakeupOffer]:
    """The times a credit may book now; `CreditNotUsable` when it can book none (used, expired, held)."""
    makeup_credit_usable_check(credit=credit)
    return makeup_slots_offer(credit=credit, day=day, teacher_id=teacher_id)


@dataclass(frozen=True)
class BookingPage:
    credit: MakeupCredit
    unusable: str  # why the credit cannot book now, or ""
    offer_days: list[OfferDay]
    teachers: list[Teacher]  # whom the credit may book with (a choice when the school allows any teacher)


def makeup_booking_page(
    *, family_id: int, credit_id: int, day: date | None = None, teacher_id: int | None = None
) -> BookingPage:
    credit = family_credit_get(family_id=family_id, credit_id=credit_id)
    try:
        offers = makeup_offers_usable(credit=credit, day=day, teacher_id=teacher_id)
    except CreditNotUsable as error:
        return BookingPage(credit=credit, unusable=error.message, offer_days=[], teachers=[])
    return BookingPage(
        credit=credit, unusable="", offer_days=offers_by_day(offers), teachers=makeup_teachers(credit=credit)
    )


@dataclass(frozen=True)
class FamilyCredits:
    open: list[MakeupCredit]
    past: list[MakeupCredit]  # used, expired or taken back: their ledger is their history


def family_credits(*, family_id: int) -> FamilyCredits:
    credits = list(
        credits_with_status(_credits_read().filter(enrollment__student__family_id=family_id)).order_by(
            "expires_on", "pk"
        )
    )
    past = sorted((c for c in credits if c.status not in OPEN), key=lambda c: c.created_at, reverse=True)
    return FamilyCredits(open=[c for c in credits if c.status in OPEN], past=past)


def reschedule_offers(
    *, lesson: Lesson, preview: CancellationPreview, day: date | None = None, teacher_id: int | None = None
) -> list[MakeupOffer]:
    """The make-up times a reschedule of `lesson` may move to: those the credit its cancellation would earn (or give
    back, for a make-up) may book. None when the cancellation earns no credit (a reschedule needs one)."""
    if not preview.earns_credit:
        return []
    credit = credit_of_lesson(lesson=lesson) if lesson.kind == Lesson.Kind.MAKEUP else None
    if credit is None:  # not issued yet: the credit the cancellation would issue
        credit = MakeupCredit(
            enrollment=enrollment_for_lesson(lesson=lesson),
            instrument_id=lesson.student.instrument_id,
            lesson_minutes=round((lesson.end_at - lesson.start_at).total_seconds() / 60),
            expires_on=preview.credit_expires_on,
        )
    return makeup_slots_offer(credit=credit, day=day, teacher_id=teacher_id)


def fee_text(preview: CancellationPreview | None) -> str:
    """The fee a cancellation would carry, in words and money; "" when none."""
    if preview is None or preview.fee is None:
        return ""
    amount = format_cents(preview.fee.amount_cents, default_currency())
    kind = Outcome(preview.fee.outcome).label.lower()
    if preview.fee.waived_because:
        return f"The {kind} fee of {amount} is waived: {preview.fee.waived_because}."
    return f"A {kind} fee of {amount} applies (the school reviews it before it is charged)."


def reschedule_offers_for(
    *, lesson: Lesson, actor, day: date | None = None, teacher_id: int | None = None
) -> list[MakeupOffer]:
    """The times `actor` may reschedule the lesson to, refused as the reschedule itself would be: a lesson started,
    decided already, or whose cancellation would earn no credit (`NoCreditEarned`, saying why)."""
    preview = cancellation_preview_for(lesson=lesson, actor=actor)
    if not preview.earns_credit:
        raise NoCreditEarned(f"This lesson cannot be rescheduled online: {preview.why_no_credit}.")
    return reschedule_offers(lesson=lesson, preview=preview, day=day, teacher_id=teacher_id)


@dataclass(frozen=True)
class LessonPage:
    lesson: Lesson
    to_come: bool  # a family may still cancel or reschedule it
    preview: CancellationPreview | None  # what cancelling now means
    sick_preview: CancellationPreview | None  # the same with a sick pass, when late and one is left
    offer_days: list[OfferDay]  # where a reschedule may move it

    @property
    def minutes(self) -> int:
        return round((self.lesson.end_at - self.lesson.start_at).total_seconds() / 60)

    @property
    def fee(self) -> str:
        return fee_text(self.preview)

    @property
    def sick_fee(self) -> str:
        return fee_text(self.sick_preview)


def family_lesson_get(*, family_id: int, lesson_id: int) -> Lesson:
    """One of the family's lessons (`Lesson.DoesNotExist` for anyone else's)."""
    return family_lessons(family_id=family_id).get(pk=lesson_id)


def cancellation_preview_for(*, lesson: Lesson, actor, use_sick_pass: bool = False) -> CancellationPreview:
    """What `actor`'s cancellation of the lesson would be now; refused (`lesson_outcome_validate`) as the
    cancellation itself would be: started, or cancelled or marked already."""
    preview = cancellation_preview(lesson=lesson, use_sick_pass=use_sick_pass)
    lesson_outcome_validate(lesson=lesson, outcome=preview.outcome, actor=actor)
    return preview


def family_lesson_page(*, family_id: int, lesson_id: int, day: date | None = None) -> LessonPage:
    lesson = family_lesson_get(family_id=family_id, lesson_id=lesson_id)
    if lesson.outcome != STILL_TO_COME or lesson.start_at <= timezone.now():
        return LessonPage(lesson=lesson, to_come=False, preview=None, sick_preview=None, offer_days=[])
    preview = cancellation_preview(lesson=lesson)
    sick = None
    if preview.late and preview.sick_passes_left > 0:
        sick = cancellation_preview(lesson=lesson, use_sick_pass=True)
    offers = reschedule_offers(lesson=lesson, preview=preview, day=day)
    return LessonPage(lesson=lesson, to_come=True, preview=preview, sick_preview=sick, offer_days=offers_by_day(offers))


@dataclass
class ChildPrivacy:
    """A child's consents: those in force (lessons, photos) and every one ever given, newest first."""

    student: Student
    lessons: ChildConsent | None
    photos: ChildConsent | None
    history: list[ChildConsent]


@dataclass
class PrivacyPage:
    """The parent's "Privacy and consent" page: the notice, each child's consents, their own news opt-in (with its
    history) and their reminder emails."""

    notice: PrivacyNotice | None
    children: list[ChildPrivacy]
    marketing: ConsentRecord | None
    marketing_history: list[ConsentRecord]
    reminders: list[ReminderChoice]


def family_privacy_page(*, parent) -> PrivacyPage:
    consents = ChildConsent.objects.select_related("notice", "given_by").order_by("-given_at", "-pk")
    students = (
        Student.objects.filter(family_id=parent.family_id)
        .prefetch_related(Prefetch("consents", queryset=consents))
        .order_by("first_name", "pk")
    )
    children = []
    for student in students:
        history = list(student.consents.all())
        in_force = {consent.purpose: consent for consent in history if consent.withdrawn_at is None}
        children.append(
            ChildPrivacy(
                student, in_force.get(ChildConsent.Purpose.LESSONS), in_force.get(ChildConsent.Purpose.PHOTOS), history
            )
        )
    marketing_history = list(
        ConsentRecord.objects.filter(given_by=parent, purpose=ConsentRecord.Purpose.MARKETING)
        .select_related("notice")
        .order_by("-given_at", "-pk")
    )
    return PrivacyPage(
        notice=privacy_notice_current(),
        children=children,
        marketing=next((c for c in marketing_history if c.withdrawn_at is None), None),
        marketing_history=marketing_history,
        reminders=reminder_preferences_of(parent),
    )
