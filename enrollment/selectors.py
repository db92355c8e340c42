import uuid
from datetime import date, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from cedarheights.roles import is_parent, is_school_admin, is_teacher
from cedarheights.selectors import school_settings_get
from enrollment.credits import credits_with_balance
from enrollment.models import Enrollment, MakeupCredit, TuitionPlan
from scheduling.models import Instrument, Lesson, Student, Teacher, WeeklyAvailability
from scheduling.slots import Window


def tuition_plans_offered() -> QuerySet[TuitionPlan]:
    """The plans a family may choose, wherever it enrolls (form, API, the owner's Enroll by phone): active and
    on Stripe. A plan without a Stripe price would be accepted and then fail in background billing."""
    return TuitionPlan.objects.filter(active=True).exclude(stripe_price_id="")


def student_list_visible_to(user) -> QuerySet[Student]:
    """Admin: every student; a parent: their family's; a teacher: those they teach (assigned, or in a lesson)."""
    # Every role's serializer shows the instrument and the teacher by id: nothing to join.
    students = Student.objects.order_by("last_name", "first_name", "id")
    if is_school_admin(user):
        return students
    if is_parent(user):
        return students.filter(family_id=user.family_id)
    if is_teacher(user):
        teaches = Lesson.objects.filter(student=OuterRef("pk"), teacher_id=user.teacher.pk)
        return students.filter(
            Exists(teaches) | Exists(Student.objects.filter(pk=OuterRef("pk"), teacher_id=user.teacher.pk))
        )
    return students.none()


def enrollment_queue_figures() -> dict[str, int]:
    """The owner's dashboard: enrollments waiting for a decision or for a teacher."""
    return Enrollment.objects.aggregate(
        pending_enrollments=Count("id", filter=Q(status=Enrollment.Status.PENDING)),
        waitlisted=Count("id", filter=Q(status=Enrollment.Status.WAITLISTED)),
    )


def submission_enrollments(*, idempotency_key: uuid.UUID) -> list[Enrollment]:
    """The enrollments one submission made, in the order of its children, each with `booked_until`
    (`enrollments_booked_until`)."""
    return enrollments_booked_until(
        enrollments=list(
            Enrollment.objects.filter(submission_key=idempotency_key)
            .select_related("student__teacher__user", "demo_lesson", "instrument")
            .order_by("pk")
        )
    )


def enrollments_booked_until(*, enrollments: list[Enrollment]) -> list[Enrollment]:
    """Until when each enrolled child's weekly lessons are booked, as the confirmation and the welcome email say it:
    `booked_until` on each enrollment, the day (in the school's zone) of the child's last regular lesson booked; None
    when none is (no term covers the weeks yet: the owner's rollover books them once the term is made). One query."""
    last_lessons = dict(
        Lesson.objects.filter(student_id__in={e.student_id for e in enrollments}, kind=Lesson.Kind.REGULAR)
        .exclude(status=Lesson.Status.CANCELLED)
        .values("student_id")
        .annotate(last=Max("start_at"))
        .values_list("student_id", "last")
    )
    zone = school_settings_get().zone
    for enrollment in enrollments:
        last = last_lessons.get(enrollment.student_id)
        enrollment.booked_until = last.astimezone(zone).date() if last else None
    return enrollments


def child_already_enrolled(*, family_id: int, first_name: str, date_of_birth: date) -> bool:
    """The family has this child in an enrollment that is not over (cancelled or completed)."""
    return (
        Enrollment.objects.filter(
            student__family_id=family_id,
            student__first_name__iexact=first_name.strip(),
            student__date_of_birth=date_of_birth,
        )
        .exclude(status__in=[Enrollment.Status.CANCELLED, Enrollment.Status.COMPLETED])
        .exists()
    )


def first_regular_lesson(*, enrollment: Enrollment) -> Lesson | None:
    """The enrolled child's first weekly lesson still to be given: billing starts with it."""
    return (
        Lesson.objects.filter(student=enrollment.student, kind=Lesson.Kind.REGULAR, status=Lesson.Status.SCHEDULED)
        .order_by("start_at")
        .first()
    )


# What the enrollment rules ask of the school's catalogue and calendar (scheduling's tables, read only).


def instruments_taught(*, instrument_ids: set[int]) -> dict[int, Instrument]:
    """{id: instrument} for each of these instruments the school teaches (active); the others are left out."""
    return Instrument.objects.filter(pk__in=instrument_ids, active=True).in_bulk()


def instrument_taught_in_windows(*, instrument_id: int, windows: list[Window]) -> bool:
    """Some active teacher of the instrument is available at some time overlapping one of the windows."""
    overlap = Q()
    for w in windows:
        overlap |= Q(weekday=w.weekday, start_time__lt=w.end_time, end_time__gt=w.start_time)
    return WeeklyAvailability.objects.filter(overlap, teacher__active=True, teacher__instruments=instrument_id).exists()


def teacher_loads_below_capacity(*, instrument_id: int) -> dict[int, int]:
    """{teacher id: active students} for each active teacher of the instrument who has room for one more."""
    # Counted per teacher from the (teacher, status) index alone, rather than joining every student.
    active_students = (
        Student.objects.filter(teacher=OuterRef("pk"), status=Student.Status.ACTIVE)
        .order_by()
        .values("teacher")
        .annotate(count=Count("*"))
        .values("count")
    )
    candidates = (
        Teacher.objects.filter(active=True, instruments=instrument_id)
        .annotate(load=Coalesce(Subquery(active_students), 0))
        .order_by()
        .values_list("id", "load", "capacity")
    )
    return {pk: load for pk, load, capacity in candidates if load < capacity}


# Families are reminded of a credit this many days before it expires; the owner's dashboard counts them.
EXPIRING_SOON_DAYS = 14


def makeup_credits_expiring_soon() -> QuerySet[MakeupCredit]:
    """Unused credits that expire within EXPIRING_SOON_DAYS (today included)."""
    today = timezone.localdate()
    return credits_with_balance(
        MakeupCredit.objects.filter(expires_on__gte=today, expires_on__lte=today + timedelta(days=EXPIRING_SOON_DAYS))
    ).filter(balance=1)


def makeup_credit_figures() -> dict[str, int]:
    """The owner's dashboard: unused make-up credits about to expire."""
    return {"credits_expiring_soon": makeup_credits_expiring_soon().count()}
