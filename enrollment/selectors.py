from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from cedarheights.roles import is_parent, is_school_admin, is_teacher
from enrollment.models import Enrollment, TuitionPlan
from scheduling.models import Lesson, Student


def tuition_plans_offered() -> QuerySet[TuitionPlan]:
    """The plans a family may choose, wherever it enrolls (form, API, the owner's Enroll by phone): active and
    on Stripe. A plan without a Stripe price would be accepted and then fail in background billing."""
    return TuitionPlan.objects.filter(active=True).exclude(stripe_price_id="")


def student_list_visible_to(user) -> QuerySet[Student]:
    """Admin: every student; a parent: their family's; a teacher: those they teach (assigned, or in a lesson)."""
    students = Student.objects.select_related("instrument", "teacher__user").order_by("last_name", "first_name", "id")
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
