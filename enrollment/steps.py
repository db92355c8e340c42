"""The named steps of enrollment's pipelines (`enrollment.pipelines`), each `step(ctx) -> None`, and their rules.

A step has no transaction code of its own: the pipeline's runner holds one durable transaction around them all, so
a failure anywhere leaves no rows and sends nothing. Emails and billing leave only after commit. Each title
(`@step`) is registered on import, so the admin names the steps of every run.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.db import transaction
from django.utils import timezone

from accounts.models import Family, User, normalize_email
from accounts.services import family_create, marketing_consent_give, parent_create, set_password_link_build
from cedarheights.emails import email_owner, email_parents, email_queue
from cedarheights.errors import DomainError, InvalidInput
from cedarheights.models import PrivacyNotice
from cedarheights.pipeline import step
from cedarheights.roles import is_parent
from cedarheights.selectors import privacy_notice_current, privacy_notices_published, school_settings_get
from enrollment.consents import child_consent_give
from enrollment.emails import welcome_parent_content, welcome_teacher_queue
from enrollment.errors import AddressHasAccount, NotWaitlisted
from enrollment.inputs import EnrollmentInput, child_key
from enrollment.models import ChildConsent, Enrollment, TuitionPlan
from enrollment.selectors import (
    child_already_enrolled,
    first_regular_lesson,
    instrument_taught_in_windows,
    instruments_taught,
    teacher_loads_below_capacity,
    tuition_plans_offered,
)
from enrollment.services import enrollment_create
from enrollment.signals import enrollment_booked
from scheduling.models import Instrument, Lesson, Teacher
from scheduling.services import lesson_create, student_create, student_teacher_assign
from scheduling.slots import Slot, Window, slots_free
from scheduling.weekly_lessons import weekly_lesson_book

MAX_SLOT_ATTEMPTS = 8  # slots lost to concurrent enrollments before a child goes on the waitlist


@dataclass
class EnrollmentContext:
    form: EnrollmentInput
    idempotency_key: uuid.UUID
    # Who sends it, when signed in: a parent enrolls into their own family; anyone else (the owner on the phone,
    # an API user) enrolls a new one. The account services' audit rows name them.
    user: User | None = None
    site_url: str = ""
    family: Family | None = None
    parent: User | None = None
    new_account: bool = False
    # The account an anonymous submission's address already has: nothing is booked, its owner is written to.
    address_owner: User | None = None
    enrollments: list[Enrollment] = field(default_factory=list)
    notice: PrivacyNotice | None = None  # the privacy notice version consented to
    # Read once while validating: the enrollments, their emails and billing take them from here.
    tuition_plan: TuitionPlan | None = None
    instruments: dict[int, Instrument] = field(default_factory=dict)
    # enrollment id → the slot found with each fitting teacher, the assignment rules' choice first
    slots: dict[int, list[Slot]] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return f"submission:{self.idempotency_key}"


def _field_error(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={name: [message]})


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@step("Validate enrollment")
def validate_enrollment(ctx: EnrollmentContext) -> None:
    form, school = ctx.form, school_settings_get()
    today = timezone.localdate()
    signed_in = is_parent(ctx.user)
    if not signed_in:
        for name in ("parent_first_name", "parent_last_name", "email", "phone"):
            if not getattr(form, name).strip():
                raise _field_error(name, "Please fill this in.")
    if not form.consent:
        raise _field_error("consent", "Please agree to the privacy notice to enroll.")
    if form.notice_version is None:
        ctx.notice = ctx.notice or privacy_notice_current()  # the submission may have read it already
    else:
        ctx.notice = privacy_notices_published().filter(version=form.notice_version).first()
    if ctx.notice is None:
        raise _field_error("consent", "This privacy notice version is unknown: please read the current one and agree.")
    # The owner enrolling from a phone call may leave the card to the family (billing starts once they add it).
    if form.source != Enrollment.Source.ADMIN and not form.payment_method_id.startswith("pm_"):
        raise _field_error("payment_method_id", "Please add a card.")
    if not form.children:
        raise _field_error("children", "Add at least one child.")
    if not form.windows:
        raise _field_error("windows", "Give at least one weekly time that suits you.")
    ctx.tuition_plan = tuition_plans_offered().filter(pk=form.tuition_plan_id).first()
    if ctx.tuition_plan is None:
        raise _field_error("tuition_plan", "Choose one of the plans offered.")
    ctx.instruments = instruments_taught(instrument_ids={child.instrument_id for child in form.children})
    seen = set()
    for n, child in enumerate(form.children):
        prefix = f"children-{n}-"
        if child.date_of_birth > today:
            raise _field_error(prefix + "date_of_birth", "The date of birth cannot be in the future.")
        if _age_on(child.date_of_birth, today) < school.minimum_age_years:
            raise _field_error(prefix + "date_of_birth", f"Students start at {school.minimum_age_years} years old.")
        if child.instrument_id not in ctx.instruments:
            raise _field_error(prefix + "instrument", "Choose one of the instruments we teach.")
        if not instrument_taught_in_windows(instrument_id=child.instrument_id, windows=form.windows):
            raise _field_error("windows", "No teacher of this instrument teaches at those times; please add others.")
        identity = (child.first_name.strip().lower(), child.last_name.strip().lower(), child.date_of_birth)
        if identity in seen or (
            signed_in
            and child_already_enrolled(
                family_id=ctx.user.family_id, first_name=child.first_name, date_of_birth=child.date_of_birth
            )
        ):
            raise _field_error(prefix + "first_name", f"{child.first_name} is already enrolled.")
        seen.add(identity)


@step("Create the family's account")
def create_family_account(ctx: EnrollmentContext) -> None:
    """The parent (no usable password: a set-password link follows), the family, each child and the guardian's
    consents for them (the notice version and the words shown). The family, the parent and the parent's own
    consent are made by the account services, whose audit rows name who sent the form (no one,
    for a family enrolling without signing in).

    An address that already has an account is never attached to a new family, nor revealed: the family is
    answered as a new one would be, nothing is booked, and the address's owner is told by email how to enroll
    from their account (see README, "Enrolling with an existing address"). The owner, enrolling for a family
    from the admin, is told at once.
    """
    form = ctx.form
    if is_parent(ctx.user):
        ctx.parent, ctx.family = ctx.user, ctx.user.family
    else:
        email = normalize_email(form.email)
        if owner := User.objects.filter(email__iexact=email).first():
            if form.source == Enrollment.Source.ADMIN:
                message = "This address already has an account: enroll from that family."
                raise AddressHasAccount(message, fields={"email": [message]})
            ctx.address_owner = owner
            return
        ctx.family = family_create(actor=ctx.user, name=f"{form.parent_last_name.strip()} family")
        ctx.parent = parent_create(
            actor=ctx.user,
            family=ctx.family,
            email=email,
            first_name=form.parent_first_name.strip(),
            last_name=form.parent_last_name.strip(),
            phone=form.phone.strip(),
        )
        ctx.new_account = True
    if form.marketing:
        marketing_consent_give(actor=ctx.user, parent=ctx.parent, notice=ctx.notice)
    for n, child in enumerate(form.children):
        student = student_create(
            actor=ctx.user,
            family=ctx.family,
            first_name=child.first_name.strip(),
            last_name=child.last_name.strip(),
            date_of_birth=child.date_of_birth,
            instrument_id=child.instrument_id,
            level=child.level,
        )
        student.instrument = ctx.instruments[child.instrument_id]
        purposes = [ChildConsent.Purpose.LESSONS] + ([ChildConsent.Purpose.PHOTOS] if child.photos else [])
        for purpose in purposes:
            child_consent_give(actor=ctx.user, student=student, purpose=purpose, given_by=ctx.parent, notice=ctx.notice)
        enrollment = enrollment_create(
            student=student,
            instrument_id=child.instrument_id,
            lesson_minutes=child.lesson_minutes,
            tuition_plan_id=form.tuition_plan_id,
            idempotency_key=child_key(ctx.idempotency_key, n),
            submission_key=ctx.idempotency_key,
            source=form.source,
            windows=form.windows,
        )
        enrollment.instrument, enrollment.tuition_plan = student.instrument, ctx.tuition_plan
        ctx.enrollments.append(enrollment)


def _horizon() -> tuple[date, date]:
    today = timezone.localdate()
    return today, today + timedelta(days=school_settings_get().booking_horizon_days)


def _earliest_slots(
    *, teacher_ids: list[int], since: date, until: date, minutes: int, windows: list[Window]
) -> dict[int, Slot]:
    """Each teacher's first free slot in the family's windows between two dates; teachers without one are left
    out."""
    if not teacher_ids or until < since:
        return {}
    slots = slots_free(
        teacher_ids=teacher_ids, start_date=since, end_date=until, minutes=minutes, windows=windows, per_teacher=1
    )
    return {slot.teacher_id: slot for slot in slots}


@step("Assign a teacher")
def assign_teacher(ctx: EnrollmentContext) -> None:
    """Rules, in order: teaches the instrument; below capacity; has a free slot in the family's windows within
    the booking horizon. Then the fewest active students, then the earliest slot, then the lowest id.
    No teacher fits: the enrollment is waitlisted (the owner and the parent are told), not refused.

    The searches follow the rules: the least-loaded teachers first, as they win whenever one of them has a
    slot, and among them the first week first, as their earliest slot decides (a weekly free time usually
    shows there); the rest of the horizon, then the other teachers, only when nothing was found."""
    start, end = _horizon()
    week_end = min(end, start + timedelta(days=6))
    for enrollment in ctx.enrollments:
        loads = teacher_loads_below_capacity(instrument_id=enrollment.instrument_id)
        fewest = min(loads.values(), default=None)
        lightest = [pk for pk, load in loads.items() if load == fewest]
        others = [pk for pk, load in loads.items() if load != fewest]
        search = {"minutes": enrollment.lesson_minutes, "windows": ctx.form.windows}
        earliest = (
            _earliest_slots(teacher_ids=lightest, since=start, until=week_end, **search)
            or _earliest_slots(teacher_ids=lightest, since=week_end + timedelta(days=1), until=end, **search)
            or _earliest_slots(teacher_ids=others, since=start, until=end, **search)
        )
        if earliest:
            ranked = sorted(earliest, key=lambda pk: (loads[pk], earliest[pk].start_at, pk))
            ctx.slots[enrollment.pk] = [earliest[pk] for pk in ranked[:MAX_SLOT_ATTEMPTS]]
            continue
        enrollment.status = Enrollment.Status.WAITLISTED
        enrollment.save(update_fields=["status", "updated_at"])


def _lock_first_choices_in_order(ctx: EnrollmentContext) -> None:
    """Several children: lock each child's first-choice teacher up front, in one statement, in pk order.

    Locked child by child, two families could take their teachers in opposite orders (one holds X and waits
    for Y, the other holds Y and waits for X) and PostgreSQL would end one with a deadlock. Taken in one
    global order, whoever holds the first waits for no one. Each child then books with its first choice, as
    a lock this transaction holds is never skipped; a single child keeps the SKIP LOCKED spread below."""
    first_choices = {found[0].teacher_id for found in ctx.slots.values() if found}
    if len(ctx.enrollments) > 1 and first_choices:
        list(Teacher.objects.select_related(None).select_for_update().filter(pk__in=first_choices).order_by("pk"))


def _lock_a_teacher(found: list[Slot]) -> tuple[Slot, Teacher]:
    """The first teacher found whom no other enrollment is booking at this moment, locked; when every one is,
    the first, once free. Families enrolling at the same moment are spread over the teachers who fit, rather
    than queueing for one (the next family would have got the next teacher anyway, that one's load having
    grown)."""
    # With the teacher's user (named in the audit row and the teacher's email), whose row is not locked.
    teachers = Teacher.objects.order_by()
    for slot in found:
        if teacher := teachers.select_for_update(skip_locked=True, of=("self",)).filter(pk=slot.teacher_id).first():
            return slot, teacher
    return found[0], teachers.select_for_update(of=("self",)).get(pk=found[0].teacher_id)


def _starts_to_try(ctx: EnrollmentContext, enrollment: Enrollment, found: Slot, teacher: Teacher) -> Iterator[datetime]:
    """The slot found while assigning the teacher, then, only if that one has gone since, the teacher's next
    free slots as they are now. Booking checks each again in full under the teacher's lock."""
    yield found.start_at
    start, end = _horizon()
    free = slots_free(
        teacher_ids=[teacher.pk],
        start_date=start,
        end_date=end,
        minutes=enrollment.lesson_minutes,
        windows=ctx.form.windows,
        per_teacher=MAX_SLOT_ATTEMPTS,
    )
    yield from (slot.start_at for slot in free if slot.start_at != found.start_at)  # that one was just tried


@step("Book the demo lesson")
def book_demo_lesson(ctx: EnrollmentContext) -> None:
    """The slot found for the child, booked under a lock on the teacher, the database having the last word; a
    slot lost to a concurrent enrollment moves on to the next (bounded). The same weekly time then becomes the
    regular lesson for the rest of the term, so no one else is offered it."""
    school = school_settings_get()
    _lock_first_choices_in_order(ctx)
    for enrollment in ctx.enrollments:
        if not (found := ctx.slots.get(enrollment.pk)):
            continue
        slot, teacher = _lock_a_teacher(found)
        for start_at in islice(_starts_to_try(ctx, enrollment, slot, teacher), MAX_SLOT_ATTEMPTS):
            try:
                with transaction.atomic():
                    demo = _book(enrollment, teacher, start_at, school.demo_lesson_minutes)
                    break
            except DomainError:  # taken since, closed, or no longer in the teacher's hours: the next one
                continue
        else:
            enrollment.status = Enrollment.Status.WAITLISTED
            enrollment.save(update_fields=["status", "updated_at"])
            continue
        student_teacher_assign(actor=ctx.user, student=enrollment.student, teacher=teacher)
        enrollment.demo_lesson, enrollment.status = demo, Enrollment.Status.ACTIVE
        enrollment.activated_at = timezone.now()
        enrollment.save(update_fields=["demo_lesson", "status", "activated_at", "updated_at"])


def _book(enrollment: Enrollment, teacher: Teacher, start_at: datetime, demo_minutes: int) -> Lesson:
    demo = lesson_create(
        teacher=teacher,
        student=enrollment.student,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=demo_minutes),
        kind=Lesson.Kind.DEMO,
        payment_status=Lesson.PaymentStatus.WAIVED,
    )
    # The demo's weekday and wall-clock time become the child's standing weekly time, booked from the next week in
    # every term already made.
    local = start_at.astimezone(school_settings_get().zone)
    weekly_lesson_book(
        student=enrollment.student,
        teacher=teacher,
        weekday=local.weekday(),
        start_time=time(local.hour, local.minute),
        minutes=enrollment.lesson_minutes,
        starts_on=local.date() + timedelta(days=1),
    )
    return demo


@step("Queue the welcome emails")
def queue_welcome_emails(ctx: EnrollmentContext) -> None:
    """Parent (set-password link if new, each demo lesson, .ics attached) and each teacher; waitlisted
    children honestly, and the owner told. Sent by django-q2 after commit, once each. An address that already
    has an account gets only the way to enroll from it."""
    if ctx.address_owner is not None:
        email_queue(
            to=ctx.address_owner.email,
            template="enrollment_existing_address",
            dedupe_key=f"existing-address:{ctx.idempotency_key}",
            context={"owner": ctx.address_owner},
        )
        return
    set_password_url = set_password_link_build(user=ctx.parent, base_url=ctx.site_url) if ctx.new_account else ""
    context, attachments = welcome_parent_content(
        enrollments=ctx.enrollments,
        submission_key=ctx.idempotency_key,
        site_url=ctx.site_url,
        set_password_url=set_password_url,
    )
    email_parents(
        family=ctx.family,
        template="welcome_parent",
        dedupe_key=f"welcome:{ctx.idempotency_key}",
        related=ctx.enrollments[0],
        attachments=attachments,
        context=context,
    )
    for enrollment in context["booked"]:
        welcome_teacher_queue(enrollment=enrollment)
    if waitlisted := context["waitlisted"]:
        email_owner(
            template="waitlist_owner",
            dedupe_key=f"waitlist:{ctx.idempotency_key}",
            related=waitlisted[0],
            context={"waitlisted": waitlisted, "family": ctx.family},
        )


@step("Hand off to billing")
def hand_off_to_billing(ctx: EnrollmentContext) -> None:
    """Billing starts for each booked child after commit, with the first regular lesson: enrollment announces
    the booking (`enrollment_booked`) and billing, which listens, records it in this transaction."""
    if not ctx.form.payment_method_id:
        return  # no card yet: the owner starts billing from the family's page once the parent adds one
    for enrollment in ctx.enrollments:
        if enrollment.status != Enrollment.Status.ACTIVE:
            continue
        first = first_regular_lesson(enrollment=enrollment)
        enrollment_booked.send(
            sender=Enrollment,
            enrollment=enrollment,
            payment_method_id=ctx.form.payment_method_id,
            starts_at=first.start_at if first else None,
        )


# The waitlist offer's own steps; between them it runs `assign_teacher` and `book_demo_lesson` as above.


@step("Check the child is still waitlisted")
def check_still_waitlisted(ctx: EnrollmentContext) -> None:
    """The enrollment locked, so two offers of one child book one lesson, and still waitlisted; its family's
    weekly windows are where the teachers' free slots are looked for."""
    [offered] = ctx.enrollments
    enrollment = Enrollment.objects.select_for_update().select_related("student__family").get(pk=offered.pk)
    if enrollment.status != Enrollment.Status.WAITLISTED:
        raise NotWaitlisted(f"{enrollment.student} is not on the waitlist.")
    windows = [Window(w.weekday, w.start_time, w.end_time) for w in enrollment.preferred_windows.all()]
    ctx.form = replace(ctx.form, windows=windows)
    ctx.family = enrollment.student.family
    ctx.enrollments = [enrollment]


@step("Queue the offer's welcome emails")
def queue_offer_emails(ctx: EnrollmentContext) -> None:
    """A child booked from the waitlist: the parents get the welcome email with the demo lesson (.ics attached),
    the teacher theirs. A child still without a slot stays on the waitlist, and no one is written to."""
    [enrollment] = ctx.enrollments
    if enrollment.status != Enrollment.Status.ACTIVE:
        return
    context, attachments = welcome_parent_content(
        enrollments=[enrollment], submission_key=None, site_url="", set_password_url=""
    )
    email_parents(
        family=ctx.family,
        template="welcome_parent",
        dedupe_key=f"offer:{enrollment.pk}",
        related=enrollment,
        attachments=attachments,
        context=context,
    )
    welcome_teacher_queue(enrollment=enrollment)
