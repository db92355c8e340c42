"""The enrollment pipeline: an online form (or the owner, or the API) to a booked demo lesson.

validate_enrollment → create_family_account → assign_teacher → book_demo_lesson → queue_welcome_emails →
hand_off_to_billing. Every step runs in one durable transaction (the runner's): a failure anywhere leaves
no rows and sends nothing, and the failed run is still recorded. Emails and billing leave only after
commit. A replayed submission (the same idempotency key) returns the same enrollments.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentRecord, Family, User, normalize_email
from accounts.policy import PRIVACY_POLICY_VERSION
from accounts.services import set_password_link_build
from cedarheights.emails import email_owner, email_parents, email_queue, email_rebuilder
from cedarheights.errors import DomainError, EmailNotResendable, InvalidInput, TryAgain
from cedarheights.models import EmailLog
from cedarheights.pipeline import run_pipeline, step
from cedarheights.roles import is_parent
from cedarheights.selectors import school_settings_get
from enrollment.calendar import lesson_ics, lesson_ics_filename
from enrollment.confirmation import confirmation_token_make
from enrollment.models import Enrollment, PreferredWindow
from enrollment.selectors import tuition_plans_offered
from enrollment.signals import enrollment_booked, enrollment_card_offered
from scheduling.errors import LessonConflict
from scheduling.models import Instrument, Lesson, Student, Teacher, Term, WeeklyAvailability
from scheduling.services import lesson_create, term_lessons_generate
from scheduling.slots import Slot, Window, slots_free

MAX_SLOT_ATTEMPTS = 8  # slots lost to concurrent enrollments before a child goes on the waitlist
SUBMIT_ATTEMPTS = 3  # whole runs of a submission that PostgreSQL ended for a concurrent transaction
ENDED_FOR_A_CONCURRENT_TRANSACTION = {"40P01", "40001"}  # deadlock_detected, serialization_failure


@dataclass(frozen=True)
class ChildInput:
    first_name: str
    last_name: str
    date_of_birth: date
    instrument_id: int
    level: str = Student.Level.BEGINNER
    lesson_minutes: int = 30


@dataclass(frozen=True)
class EnrollmentInput:
    children: list[ChildInput]
    windows: list[Window]
    tuition_plan_id: int
    consent: bool
    payment_method_id: str
    parent_first_name: str = ""
    parent_last_name: str = ""
    email: str = ""
    phone: str = ""
    policy_version: str = PRIVACY_POLICY_VERSION
    source: str = Enrollment.Source.WEB


@dataclass
class EnrollmentContext:
    form: EnrollmentInput
    idempotency_key: uuid.UUID
    user: User | None = None
    site_url: str = ""
    family: Family | None = None
    parent: User | None = None
    new_account: bool = False
    # The account an anonymous submission's address already has: nothing is booked, its owner is written to.
    address_owner: User | None = None
    enrollments: list[Enrollment] = field(default_factory=list)
    # enrollment id → the slot found with each fitting teacher, the assignment rules' choice first
    slots: dict[int, list[Slot]] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return f"submission:{self.idempotency_key}"


def child_key(key: uuid.UUID, index: int) -> uuid.UUID:
    """Each child's enrollment has its own unique key, derived from the submission's."""
    return uuid.uuid5(key, f"child:{index}")


def _field_error(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={name: [message]})


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@step("Validate enrollment")
def validate_enrollment(ctx: EnrollmentContext) -> None:
    form, school = ctx.form, school_settings_get()
    today = timezone.localdate()
    signed_in = ctx.user is not None and is_parent(ctx.user)
    if not signed_in:
        for name in ("parent_first_name", "parent_last_name", "email", "phone"):
            if not getattr(form, name).strip():
                raise _field_error(name, "Please fill this in.")
    if not form.consent:
        raise _field_error("consent", "Please agree to the privacy policy to enroll.")
    # The owner enrolling from a phone call may leave the card to the family (billing starts once they add it).
    if form.source != Enrollment.Source.ADMIN and not form.payment_method_id.startswith("pm_"):
        raise _field_error("payment_method_id", "Please add a card.")
    if not form.children:
        raise _field_error("children", "Add at least one child.")
    if not form.windows:
        raise _field_error("windows", "Give at least one weekly time that suits you.")
    if not tuition_plans_offered().filter(pk=form.tuition_plan_id).exists():
        raise _field_error("tuition_plan", "Choose one of the plans offered.")
    seen = set()
    for n, child in enumerate(form.children):
        prefix = f"children-{n}-"
        if child.date_of_birth > today:
            raise _field_error(prefix + "date_of_birth", "The date of birth cannot be in the future.")
        if _age_on(child.date_of_birth, today) < school.minimum_age_years:
            raise _field_error(prefix + "date_of_birth", f"Students start at {school.minimum_age_years} years old.")
        if not Instrument.objects.filter(pk=child.instrument_id, active=True).exists():
            raise _field_error(prefix + "instrument", "Choose one of the instruments we teach.")
        if not _windows_served(child.instrument_id, form.windows):
            raise _field_error("windows", "No teacher of this instrument teaches at those times; please add others.")
        identity = (child.first_name.strip().lower(), child.last_name.strip().lower(), child.date_of_birth)
        if identity in seen or (signed_in and _already_enrolled(ctx.user.family_id, child)):
            raise _field_error(prefix + "first_name", f"{child.first_name} is already enrolled.")
        seen.add(identity)


def _windows_served(instrument_id: int, windows: list[Window]) -> bool:
    overlap = Q()
    for w in windows:
        overlap |= Q(weekday=w.weekday, start_time__lt=w.end_time, end_time__gt=w.start_time)
    return WeeklyAvailability.objects.filter(overlap, teacher__active=True, teacher__instruments=instrument_id).exists()


def _already_enrolled(family_id: int, child: ChildInput) -> bool:
    return (
        Enrollment.objects.filter(
            student__family_id=family_id,
            student__first_name__iexact=child.first_name.strip(),
            student__date_of_birth=child.date_of_birth,
        )
        .exclude(status__in=[Enrollment.Status.CANCELLED, Enrollment.Status.COMPLETED])
        .exists()
    )


@step("Create the family's account")
def create_family_account(ctx: EnrollmentContext) -> None:
    """The parent (no usable password: a set-password link follows), the family, consent, each child.

    An address that already has an account is never attached to a new family, nor revealed: the family is
    answered as a new one would be, nothing is booked, and the address's owner is told by email how to enroll
    from their account (see README, "Enrolling with an existing address"). The owner, enrolling for a family
    from the admin, is told at once.
    """
    form = ctx.form
    if ctx.user is not None and is_parent(ctx.user):
        ctx.parent, ctx.family = ctx.user, ctx.user.family
    else:
        email = normalize_email(form.email)
        if owner := User.objects.filter(email__iexact=email).first():
            if form.source == Enrollment.Source.ADMIN:
                raise _field_error("email", "This address already has an account: enroll from that family.")
            ctx.address_owner = owner
            return
        ctx.family = Family.objects.create(name=f"{form.parent_last_name.strip()} family")
        ctx.parent = User.objects.create_user(
            email=email,
            first_name=form.parent_first_name.strip(),
            last_name=form.parent_last_name.strip(),
            phone=form.phone.strip(),
            role=User.Role.PARENT,
            family=ctx.family,
        )
        ctx.new_account = True
    ConsentRecord.objects.create(
        family=ctx.family,
        purpose=ConsentRecord.Purpose.PRIVACY_POLICY,
        policy_version=form.policy_version,
        given_by=ctx.parent,
        given_at=timezone.now(),
    )
    for n, child in enumerate(form.children):
        student = Student(
            family=ctx.family,
            first_name=child.first_name.strip(),
            last_name=child.last_name.strip(),
            date_of_birth=child.date_of_birth,
            instrument_id=child.instrument_id,
            level=child.level,
        )
        student.full_clean(exclude=["family", "instrument"])  # both just checked or made: no query for each
        student.save()
        enrollment = Enrollment.objects.create(
            student=student,
            instrument_id=child.instrument_id,
            lesson_minutes=child.lesson_minutes,
            tuition_plan_id=form.tuition_plan_id,
            idempotency_key=child_key(ctx.idempotency_key, n),
            submission_key=ctx.idempotency_key,
            source=form.source,
        )
        PreferredWindow.objects.bulk_create(
            PreferredWindow(enrollment=enrollment, weekday=w.weekday, start_time=w.start_time, end_time=w.end_time)
            for w in form.windows
        )
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
    # Counted per teacher from the (teacher, status) index alone, rather than joining every student.
    active_students = (
        Student.objects.filter(teacher=OuterRef("pk"), status=Student.Status.ACTIVE)
        .order_by()
        .values("teacher")
        .annotate(count=Count("*"))
        .values("count")
    )
    for enrollment in ctx.enrollments:
        candidates = (
            Teacher.objects.filter(active=True, instruments=enrollment.instrument_id)
            .annotate(load=Coalesce(Subquery(active_students), 0))
            .order_by()
            .values_list("id", "load", "capacity")
        )
        loads = {pk: load for pk, load, capacity in candidates if load < capacity}
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


def _term_on(day: date) -> Term | None:
    return Term.objects.filter(start_date__lte=day, end_date__gte=day).first()


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
    teachers = Teacher.objects.select_related(None).order_by()
    for slot in found:
        if teacher := teachers.select_for_update(skip_locked=True).filter(pk=slot.teacher_id).first():
            return slot, teacher
    return found[0], teachers.select_for_update().get(pk=found[0].teacher_id)


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
            except (LessonConflict, DomainError):
                continue
        else:
            enrollment.status = Enrollment.Status.WAITLISTED
            enrollment.save(update_fields=["status", "updated_at"])
            continue
        student = enrollment.student
        student.teacher, student.status = teacher, Student.Status.ACTIVE
        student.save(update_fields=["teacher", "status"])
        enrollment.demo_lesson, enrollment.status = demo, Enrollment.Status.ACTIVE
        enrollment.save(update_fields=["demo_lesson", "status", "updated_at"])


def _book(enrollment: Enrollment, teacher: Teacher, start_at: datetime, demo_minutes: int) -> Lesson:
    demo = lesson_create(
        teacher=teacher,
        student=enrollment.student,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=demo_minutes),
        kind=Lesson.Kind.DEMO,
        payment_status=Lesson.PaymentStatus.WAIVED,
    )
    local = timezone.localtime(start_at)
    if term := _term_on(local.date()):
        term_lessons_generate(
            student=enrollment.student,
            teacher=teacher,
            term=term,
            weekday=local.weekday(),
            start_time=time(local.hour, local.minute),
            minutes=enrollment.lesson_minutes,
            from_date=local.date() + timedelta(days=1),
        )
    return demo


def first_regular_lesson(enrollment: Enrollment) -> Lesson | None:
    return (
        Lesson.objects.filter(student=enrollment.student, kind=Lesson.Kind.REGULAR, status=Lesson.Status.SCHEDULED)
        .order_by("start_at")
        .first()
    )


def _demo_file(enrollment: Enrollment) -> tuple[str, str, str]:
    """The demo lesson as an .ics attachment."""
    return (lesson_ics_filename(enrollment.demo_lesson), lesson_ics(enrollment.demo_lesson), "text/calendar")


def _teacher_welcome(enrollment: Enrollment) -> None:
    email_queue(
        to=enrollment.demo_lesson.teacher.user.email,
        template="welcome_teacher",
        related=enrollment,
        dedupe_key=f"welcome-teacher:{enrollment.pk}",
        context={"enrollment": enrollment},
        attachments=[_demo_file(enrollment)],
    )


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
    context, attachments = _welcome_parent_content(
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
        _teacher_welcome(enrollment)
    if waitlisted := context["waitlisted"]:
        email_owner(
            template="waitlist_owner",
            dedupe_key=f"waitlist:{ctx.idempotency_key}",
            related=waitlisted[0],
            context={"waitlisted": waitlisted, "family": ctx.family},
        )


def _welcome_parent_content(
    *, enrollments: list[Enrollment], submission_key: uuid.UUID | None, site_url: str, set_password_url: str
) -> tuple[dict, list[tuple[str, str, str]]]:
    """The welcome email's context and its .ics files: each booked child's demo lesson, each waitlisted child."""
    booked = [e for e in enrollments if e.status == Enrollment.Status.ACTIVE]
    context = {
        "booked": booked,
        "waitlisted": [e for e in enrollments if e.status == Enrollment.Status.WAITLISTED],
        "set_password_url": set_password_url,
        "confirmation_url": site_url + confirmation_path(submission_key) if submission_key else "",
    }
    # A booked child may have no demo lesson (enrolled by the office, or its demo lesson deleted since).
    return context, [_demo_file(e) for e in booked if e.demo_lesson is not None]


@email_rebuilder("welcome_parent")
def welcome_parent_rebuild(log: EmailLog) -> tuple[dict, list[tuple[str, str, str]]]:
    """A resent welcome email (`cedarheights.emails.email_resend`) says what is true now: the children of the
    submission as they stand, their demo lessons, and, while the parent has not chosen a password, a fresh
    set-password link (building it makes every earlier link stop working). A parent who has a password gets no
    link, and nothing about their account changes."""
    enrollment = log.related_object
    if enrollment is None:
        raise EmailNotResendable(
            f"Email #{log.pk} was about an enrollment that has been deleted, so it cannot be rebuilt: not resent."
        )
    family = enrollment.student.family
    parent = family.parents.filter(email__iexact=log.recipient).first()
    if parent is None:
        raise EmailNotResendable(f"{log.recipient} is no longer a parent of {family}: email #{log.pk} not resent.")
    key = enrollment.submission_key
    siblings = Enrollment.objects.filter(submission_key=key).order_by("pk") if key else [enrollment]
    set_password_url = (
        "" if parent.has_usable_password() else set_password_link_build(user=parent, base_url=settings.SITE_URL)
    )
    context, attachments = _welcome_parent_content(
        enrollments=list(siblings), submission_key=key, site_url=settings.SITE_URL, set_password_url=set_password_url
    )
    return {**context, "parent": parent}, attachments


@step("Hand off to billing")
def hand_off_to_billing(ctx: EnrollmentContext) -> None:
    """Billing starts for each booked child after commit, with the first regular lesson: enrollment announces
    the booking (`enrollment_booked`) and billing, which listens, records it in this transaction."""
    if not ctx.form.payment_method_id:
        return  # no card yet: the owner starts billing from the family's page once the parent adds one
    for enrollment in ctx.enrollments:
        if enrollment.status != Enrollment.Status.ACTIVE:
            continue
        first = first_regular_lesson(enrollment)
        enrollment_booked.send(
            sender=Enrollment,
            enrollment=enrollment,
            payment_method_id=ctx.form.payment_method_id,
            starts_at=first.start_at if first else None,
        )


STEPS = (
    validate_enrollment,
    create_family_account,
    assign_teacher,
    book_demo_lesson,
    queue_welcome_emails,
    hand_off_to_billing,
)


def enrollment_submit(
    *, form: EnrollmentInput, idempotency_key: uuid.UUID, user: User | None = None, site_url: str = ""
) -> list[Enrollment]:
    """Run the pipeline once per idempotency key; a replay (even a concurrent one) returns the same enrollments.

    A run PostgreSQL ended to let a concurrent transaction through (a deadlock or a serialization failure)
    left no rows: it runs again whole, a bounded number of times, then the parent is asked to send it again.

    The card is offered first (`enrollment_card_offered`: billing checks it with Stripe), outside the transaction
    (Stripe may be slow or away): a card Stripe refuses is an error on it, Stripe out of reach a "try again", and
    either way nothing is written.
    An anonymous submission with an address that has an account books nothing and returns no enrollments.
    """
    if done := submission_enrollments(idempotency_key):
        return done
    if form.payment_method_id:
        enrollment_card_offered.send(sender=Enrollment, payment_method_id=form.payment_method_id)
    for _attempt in range(SUBMIT_ATTEMPTS):
        if done := submission_enrollments(idempotency_key):
            return done
        ctx = EnrollmentContext(form=form, idempotency_key=idempotency_key, user=user, site_url=site_url)
        try:
            run_pipeline("enrollment", STEPS, ctx)
        except IntegrityError:
            if done := submission_enrollments(idempotency_key):
                return done  # a concurrent replay committed first
            raise
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) not in ENDED_FOR_A_CONCURRENT_TRANSACTION:
                raise
            continue
        return ctx.enrollments
    raise TryAgain("Many families are enrolling at this moment: please send the form again.")


def submission_enrollments(idempotency_key: uuid.UUID) -> list[Enrollment]:
    """The enrollments one submission made, in the order of its children."""
    return list(
        Enrollment.objects.filter(submission_key=idempotency_key)
        .select_related("student__teacher__user", "demo_lesson", "instrument")
        .order_by("pk")
    )


def confirmation_path(submission_key: uuid.UUID) -> str:
    """The confirmation page of a submission, through a signed link that expires (see enrollment.confirmation)."""
    return reverse("enroll-done", args=[confirmation_token_make(submission_key=submission_key)])


def waitlist_offer(*, enrollment: Enrollment, site_url: str = "") -> Enrollment:
    """Offer a waitlisted child the first free slot now (a teacher freed one), by the rules of enrollment.

    Billing is not started here: the owner starts it from the family's page once a card is on file.
    """
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().select_related("student__family").get(pk=enrollment.pk)
        if enrollment.status != Enrollment.Status.WAITLISTED:
            raise InvalidInput(f"{enrollment.student} is not on the waitlist.")
        windows = [Window(w.weekday, w.start_time, w.end_time) for w in enrollment.preferred_windows.all()]
        family = enrollment.student.family
        ctx = EnrollmentContext(
            form=EnrollmentInput(
                children=[],
                windows=windows,
                tuition_plan_id=enrollment.tuition_plan_id,
                consent=True,
                payment_method_id="",
            ),
            idempotency_key=enrollment.submission_key or uuid.uuid4(),
            site_url=site_url,
            family=family,
            parent=family.parents.order_by("id").first(),
            enrollments=[enrollment],
        )
        assign_teacher(ctx)
        book_demo_lesson(ctx)
        if enrollment.status == Enrollment.Status.ACTIVE:
            demo_file = [_demo_file(enrollment)]
            email_parents(
                family=family,
                template="welcome_parent",
                dedupe_key=f"offer:{enrollment.pk}",
                related=enrollment,
                attachments=demo_file,
                context={"booked": [enrollment], "waitlisted": [], "set_password_url": ""},
            )
            _teacher_welcome(enrollment)
        return enrollment
