"""Make-up credits: issued when a lesson's outcome earns one, revoked when it stops earning it, redeemed by a
make-up lesson and returned when that is cancelled in time, extended by the owner, expired when unused. Every
change is a new line of the credit's ledger (`MakeupCreditEntry`) written under a lock on the credit, carrying the
balance after it; the database refuses a balance outside 0..1 and a sequence number used twice.
"""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery

from cedarheights.errors import InvalidInput, TryAgain
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import audit_record
from enrollment.errors import CreditAlreadyUsed, CreditNotUsable
from enrollment.models import Enrollment, MakeupCredit, MakeupCreditEntry
from enrollment.signals import makeup_credit_expired, makeup_credit_issued
from scheduling.models import Lesson, Term
from scheduling.outcomes import FLAGS, CreditRule, Outcome
from scheduling.selectors import term_on

Kind = MakeupCreditEntry.Kind
Origin = MakeupCredit.Origin
CHANGE = {Kind.ISSUED: 1, Kind.RETURNED: 1, Kind.REDEEMED: -1, Kind.EXPIRED: -1, Kind.REVOKED: -1, Kind.EXTENDED: 0}
ORIGIN_OF_RULE = {CreditRule.CAPPED: Origin.NOTICE, CreditRule.SICK_PASS: Origin.SICK_PASS}
ORIGIN_OF_OUTCOME = {Outcome.TEACHER_CANCELLED: Origin.TEACHER, Outcome.SCHOOL_CLOSED: Origin.SCHOOL}
# Credits that the school's side caused: they last to the term's end plus a grace, then become money.
SCHOOL_ORIGINS = frozenset({Origin.TEACHER, Origin.SCHOOL})


def _latest_line(field: str) -> Subquery:
    """A credit's latest ledger line's `field`, to annotate credits with."""
    return Subquery(MakeupCreditEntry.objects.filter(credit=OuterRef("pk")).order_by("-sequence").values(field)[:1])


def credits_with_balance(credits: QuerySet[MakeupCredit] | None = None) -> QuerySet[MakeupCredit]:
    """Credits annotated with `balance`: the balance after their latest ledger line."""
    return (credits if credits is not None else MakeupCredit.objects.all()).annotate(
        balance=_latest_line("balance_after")
    )


def credits_with_last_kind(credits: QuerySet[MakeupCredit] | None = None) -> QuerySet[MakeupCredit]:
    """Credits annotated with `balance` and `last_kind`, what their latest ledger line was (issued, redeemed…)."""
    return credits_with_balance(credits).annotate(last_kind=_latest_line("kind"))


def _entry_append(
    *,
    credit: MakeupCredit,
    kind: str,
    actor=None,
    lesson: Lesson | None = None,
    reason: str = "",
    expires_on: date | None = None,
) -> MakeupCreditEntry:
    """The credit's next ledger line. The caller holds the credit's row lock, so the last line read is the last."""
    last = credit.entries.order_by("-sequence").first()
    balance = (last.balance_after if last else 0) + CHANGE[kind]
    if not 0 <= balance <= 1:
        raise CreditNotUsable("This credit is used already." if balance < 0 else "This credit is available already.")
    try:
        with transaction.atomic():
            return MakeupCreditEntry.objects.create(
                credit=credit,
                sequence=(last.sequence + 1) if last else 1,
                kind=kind,
                change=CHANGE[kind],
                balance_after=balance,
                lesson=lesson,
                expires_on=expires_on,
                actor=actor if actor is not None and actor.is_authenticated else None,
                reason=reason[:200],
            )
    except IntegrityError as error:  # a writer without the lock: the sequence is taken; the database said no
        raise TryAgain("The credit changed meanwhile; please try again.") from error


def _locked(credit: MakeupCredit) -> MakeupCredit:
    return MakeupCredit.objects.select_for_update().get(pk=credit.pk)


def credit_balance(*, credit: MakeupCredit) -> int:
    last = credit.entries.order_by("-sequence").values_list("balance_after", flat=True).first()
    return last or 0


def credit_of_lesson(*, lesson: Lesson) -> MakeupCredit | None:
    """The credit a lesson's cancellation concerns: a weekly lesson's own (issued for it), or the credit that paid
    for a make-up lesson (given back when the make-up is cancelled in time)."""
    if lesson.kind == Lesson.Kind.MAKEUP:
        entry = MakeupCreditEntry.objects.filter(lesson=lesson, kind=Kind.REDEEMED).select_related("credit").first()
        return entry.credit if entry else None
    return MakeupCredit.objects.filter(missed_lesson=lesson).first()


def enrollment_for_lesson(*, lesson: Lesson) -> Enrollment | None:
    """The enrollment a lesson belongs to: the child's latest enrollment for the lesson's instrument that got a
    place (a waitlisted or pending one has no lessons)."""
    return (
        Enrollment.objects.filter(student_id=lesson.student_id, instrument_id=lesson.student.instrument_id)
        .exclude(status__in=[Enrollment.Status.PENDING, Enrollment.Status.WAITLISTED])
        .order_by("-created_at")
        .first()
    )


def _lesson_day(lesson: Lesson) -> date:
    return lesson.start_at.astimezone(school_settings_get().zone).date()


def _term_of(lesson: Lesson) -> Term | None:
    if lesson.term_id:
        return lesson.term
    day = _lesson_day(lesson)
    return term_on(day=day)


def credit_expiry(*, origin: str, missed_on: date, term: Term | None) -> date:
    """A family's credit lasts `family_credit_days` from the missed lesson's date; a teacher's or a closure's to the
    term's end plus `school_credit_grace_days` (from the lesson's date, when it has no term)."""
    school = school_settings_get()
    if origin in SCHOOL_ORIGINS:
        return (term.end_date if term else missed_on) + timedelta(days=school.school_credit_grace_days)
    return missed_on + timedelta(days=school.family_credit_days)


def lesson_credit_origin(*, outcome: str) -> str:
    """The origin of the credit an outcome earns (one that earns one)."""
    return ORIGIN_OF_OUTCOME.get(outcome) or ORIGIN_OF_RULE[FLAGS[outcome].credit]


def lesson_credit_expiry(*, lesson: Lesson, outcome: str) -> date:
    """When the credit `outcome` earns on this lesson would expire: what the preview says and the ledger writes."""
    origin = lesson_credit_origin(outcome=outcome)
    return credit_expiry(origin=origin, missed_on=_lesson_day(lesson), term=_term_of(lesson))


def capped_credits_used(*, enrollment: Enrollment, term: Term | None, excluding_lesson_id: int | None = None) -> int:
    """Credits of the enrollment in the term that count toward the cap and stand (issued and not revoked)."""
    credits = MakeupCredit.objects.filter(enrollment=enrollment, term=term, counts_toward_cap=True)
    if excluding_lesson_id:
        credits = credits.exclude(missed_lesson_id=excluding_lesson_id)
    return credits.annotate(last_kind=_latest_line("kind")).exclude(last_kind=Kind.REVOKED).count()


def credit_rule_for(*, lesson: Lesson, outcome: str) -> tuple[bool, str]:
    """Whether `outcome` on this lesson would earn a make-up credit now, and if not, why (the portal shows it)."""
    if lesson.kind != Lesson.Kind.REGULAR:
        return False, "only weekly lessons earn make-up credits"
    rule = FLAGS[outcome].credit if outcome else CreditRule.NONE
    if rule == CreditRule.NONE:
        school = school_settings_get()
        return False, f"it is less than {school.cancellation_notice_hours} hours before the lesson"
    if (enrollment := enrollment_for_lesson(lesson=lesson)) is None:
        return False, "the child has no enrollment for this instrument"
    if rule == CreditRule.CAPPED:
        cap = school_settings_get().makeup_credits_per_term
        if capped_credits_used(enrollment=enrollment, term=_term_of(lesson), excluding_lesson_id=lesson.pk) >= cap:
            return False, f"this term's {cap} make-up credits have been issued already"
    return True, ""


def makeup_credit_follow_outcome(*, lesson: Lesson, previous: str, actor) -> None:
    """What a lesson's new outcome means for credits (scheduling's `lesson_outcome_changed`, in its transaction):
    a make-up lesson cancelled in time gives its credit back, or takes it again; a weekly lesson's own credit is
    revoked when the old outcome earned one and issued when the new one does, once. A credit spent on a make-up
    pins the outcome (refused); one that expired stays expired unless the new outcome's credit lasts past today and
    it never became money."""
    if lesson.kind == Lesson.Kind.MAKEUP:
        _makeup_lesson_follow(lesson=lesson, actor=actor)
        return
    earns, _ = credit_rule_for(lesson=lesson, outcome=lesson.outcome)
    credit = MakeupCredit.objects.select_for_update().filter(missed_lesson=lesson).first()
    last = credit.entries.order_by("-sequence").first() if credit else None
    if last is not None and last.kind == Kind.REDEEMED:
        raise CreditAlreadyUsed(
            "The make-up credit of this lesson was used for a make-up lesson: cancel that make-up first."
        )
    if last is not None and last.kind == Kind.EXPIRED:
        # Issuing it again would expire it again: a school's credit would become money twice.
        if not earns or credit.origin in SCHOOL_ORIGINS:
            return
        if lesson_credit_expiry(lesson=lesson, outcome=lesson.outcome) < school_today():
            return
    if last is not None and last.balance_after == 1:
        was = Outcome(previous).label.lower() if previous else "still to come"
        _entry_append(
            credit=credit, kind=Kind.REVOKED, actor=actor, reason=f"The lesson was {was}; its outcome changed"
        )
    if earns:
        _credit_issue_for(lesson=lesson, credit=credit, actor=actor)


def _credit_issue_for(*, lesson: Lesson, credit: MakeupCredit | None, actor) -> MakeupCredit:
    origin = lesson_credit_origin(outcome=lesson.outcome)
    fields = {
        "origin": origin,
        "counts_toward_cap": FLAGS[lesson.outcome].credit == CreditRule.CAPPED,
        "term": _term_of(lesson),
        "expires_on": lesson_credit_expiry(lesson=lesson, outcome=lesson.outcome),
        "lesson_minutes": round((lesson.end_at - lesson.start_at).total_seconds() / 60),
        "instrument_id": lesson.student.instrument_id,
    }
    if credit is None:
        enrollment = enrollment_for_lesson(lesson=lesson)
        credit = MakeupCredit.objects.create(enrollment=enrollment, missed_lesson=lesson, **fields)
    else:
        for name, value in fields.items():
            setattr(credit, name, value)
        credit.save(update_fields=[name for name in fields if name != "instrument_id"] + ["instrument"])
    _entry_append(credit=credit, kind=Kind.ISSUED, actor=actor, lesson=None, reason=Outcome(lesson.outcome).label)
    makeup_credit_issued.send(sender=MakeupCredit, credit=credit)
    return credit


def _makeup_lesson_follow(*, lesson: Lesson, actor) -> None:
    """A make-up lesson's credit: returned when the make-up is cancelled with a credit-earning outcome (in time, by
    the teacher, a closure), taken again when that is undone; a late cancel or a no-show forfeits it."""
    entry = (
        MakeupCreditEntry.objects.filter(lesson=lesson, kind__in=[Kind.REDEEMED, Kind.RETURNED])
        .order_by("-created_at", "-pk")
        .first()
    )
    if entry is None:
        return  # a make-up booked by the owner without a credit
    credit = _locked(entry.credit)
    gives_back = bool(lesson.outcome) and FLAGS[lesson.outcome].issues_credit
    if gives_back and entry.kind == Kind.REDEEMED:
        _entry_append(credit=credit, kind=Kind.RETURNED, actor=actor, lesson=lesson, reason="Make-up cancelled")
    elif not gives_back and entry.kind == Kind.RETURNED:
        if credit_balance(credit=credit) == 0:
            raise CreditAlreadyUsed("The credit given back for this make-up was used again: cancel that one first.")
        _entry_append(credit=credit, kind=Kind.REDEEMED, actor=actor, lesson=lesson, reason="Make-up reopened")


@transaction.atomic
def makeup_credit_grant(
    *, enrollment: Enrollment, actor, lesson_minutes: int | None = None, goodwill: bool = False, reason: str
) -> MakeupCredit:
    """The owner's credit: it counts toward the term's cap unless marked goodwill. Typed by the enrollment's
    instrument and lesson length (or `lesson_minutes`)."""
    if not reason.strip():
        raise InvalidInput("Say why the credit is given.", fields={"reason": ["Give a reason."]})
    today = school_today()
    term = term_on(day=today)
    origin = Origin.GOODWILL if goodwill else Origin.OWNER
    credit = MakeupCredit.objects.create(
        enrollment=enrollment,
        instrument_id=enrollment.instrument_id,
        lesson_minutes=lesson_minutes or enrollment.lesson_minutes,
        origin=origin,
        counts_toward_cap=not goodwill,
        term=term,
        expires_on=credit_expiry(origin=origin, missed_on=today, term=term),
        reason=reason[:200],
    )
    _entry_append(credit=credit, kind=Kind.ISSUED, actor=actor, reason=reason)
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=credit, changes={"reason": ["", reason]})
    makeup_credit_issued.send(sender=MakeupCredit, credit=credit)
    return credit


@transaction.atomic
def makeup_credit_extend(*, credit: MakeupCredit, actor, expires_on: date, reason: str) -> MakeupCredit:
    """The owner moves a credit's expiry later, with a reason (audited; a line of its ledger)."""
    credit = _locked(credit)
    if not reason.strip():
        raise InvalidInput("Say why the credit is extended.", fields={"reason": ["Give a reason."]})
    if expires_on > school_today() + timedelta(days=366):
        raise InvalidInput(
            "An extension lasts at most a year from today.", fields={"expires_on": ["Within a year from today."]}
        )
    if expires_on <= credit.expires_on:
        raise InvalidInput(
            "An extension moves the expiry later.", fields={"expires_on": [f"After {credit.expires_on:%-d %b %Y}."]}
        )
    if credit_balance(credit=credit) != 1:
        raise CreditNotUsable("Only an unused credit can be extended.")
    _entry_append(credit=credit, kind=Kind.EXTENDED, actor=actor, reason=reason, expires_on=expires_on)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=credit,
        changes={"expires_on": [credit.expires_on.isoformat(), expires_on.isoformat()], "reason": ["", reason]},
    )
    credit.expires_on = expires_on
    credit.save(update_fields=["expires_on"])
    return credit


@transaction.atomic
def makeup_credit_void(*, credit: MakeupCredit, actor, reason: str) -> MakeupCredit:
    """The owner takes an unused credit back (a mistake), with a reason: a `revoked` line, audited."""
    credit = _locked(credit)
    if not reason.strip():
        raise InvalidInput("Say why the credit is voided.", fields={"reason": ["Give a reason."]})
    if credit_balance(credit=credit) != 1:
        raise CreditNotUsable("Only an unused credit can be voided.")
    _entry_append(credit=credit, kind=Kind.REVOKED, actor=actor, reason=reason)
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=credit, changes={"voided": ["", reason]})
    return credit


def makeup_credit_redeem(*, credit: MakeupCredit, lesson: Lesson, actor) -> MakeupCredit:
    """Inside a make-up booking's transaction: the credit pays for `lesson`. The caller holds the credit's lock."""
    _entry_append(credit=credit, kind=Kind.REDEEMED, actor=actor, lesson=lesson, reason="Make-up booked")
    return credit


@transaction.atomic
def makeup_credit_hold(*, credit: MakeupCredit) -> MakeupCredit:
    """The missed lesson's tuition is unpaid (billing says): the credit waits until it is paid."""
    MakeupCredit.objects.filter(pk=credit.pk).update(held_until_paid=True)
    credit.held_until_paid = True
    return credit


HELD_CREDIT_GRACE = timedelta(days=14)


def makeup_credits_release(*, family_id: int) -> int:
    """The family's tuition is paid (billing says): its held credits can be used. One whose expiry passed, or is
    near, while it could not be used gets a fortnight from today (an `extended` line)."""
    held = list(MakeupCredit.objects.filter(enrollment__student__family_id=family_id, held_until_paid=True))
    MakeupCredit.objects.filter(pk__in=[credit.pk for credit in held]).update(held_until_paid=False)
    soon = school_today() + HELD_CREDIT_GRACE
    for credit in held:
        if credit.expires_on < soon and credit_balance(credit=credit) == 1:
            makeup_credit_extend(credit=credit, actor=None, expires_on=soon, reason="Held until the tuition was paid")
    return len(held)


def makeup_credits_expire(*, today: date | None = None) -> int:
    """The nightly job: every unused credit past its expiry gets an `expired` line, each in its own transaction; a
    teacher's or a closure's becomes money on the family's account (billing listens to `makeup_credit_expired`).
    Safe to run again: an expired credit has no balance left."""
    today = today or school_today()
    # A held credit cannot be used, so it does not run out either: its release gives it time (makeup_credits_release).
    due = credits_with_balance(MakeupCredit.objects.filter(expires_on__lt=today, held_until_paid=False)).filter(
        balance=1
    )
    expired = 0
    for credit_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            credit = _locked(MakeupCredit(pk=credit_id))
            if credit_balance(credit=credit) != 1 or credit.expires_on >= today or credit.held_until_paid:
                continue
            _entry_append(credit=credit, kind=Kind.EXPIRED, reason=f"Unused by {credit.expires_on:%-d %b %Y}")
            if credit.origin in SCHOOL_ORIGINS:
                makeup_credit_expired.send(sender=MakeupCredit, credit=credit)
            expired += 1
    return expired
