from django.db.models import Exists, OuterRef, QuerySet

from accounts.roles import is_parent, is_school_admin, is_teacher
from enrollment.models import Student
from scheduling.models import Lesson


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
