"""The demo's audit log of reads: the owner opened the Nguyens' family page, Ava's record and her enrollment, and a
page of the families' list; Amelia Hart, Ava's piano teacher, opened her students and one of Ava's lessons. So the
admin's audit page shows who read which child's record beside the changes the seed made. Each read goes through the
service the pages call; a seed run again finds them and reads nothing more (the log is append-only)."""

from accounts.models import Family, User
from cedarheights.demo.school import OWNER
from cedarheights.models import AuditEvent
from cedarheights.services import audit_page_read, audit_read
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student

TEACHER_EMAIL = "amelia.hart@cedarheights.test"
PAGE_OF_FAMILIES = 25  # as the API's pages


def audit_reads_tell() -> None:
    if AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists():
        return
    owner = User.objects.get(email=OWNER.email)
    family = Family.objects.get(name="Nguyen family")
    ava = Student.objects.get(family=family, first_name="Ava")
    audit_page_read(actor=owner, model=Family, shown=Family.objects.order_by("name")[:PAGE_OF_FAMILIES])
    audit_read(actor=owner, obj=family)
    audit_read(actor=owner, obj=ava)
    if enrollment := Enrollment.objects.filter(student=ava).order_by("pk").first():
        audit_read(actor=owner, obj=enrollment)
    teacher = User.objects.get(email=TEACHER_EMAIL)
    audit_page_read(actor=teacher, model=Student, shown=Student.objects.filter(teacher__user=teacher).order_by("pk"))
    if lesson := Lesson.objects.select_related("student").filter(student=ava).order_by("start_at").last():
        audit_read(actor=teacher, obj=lesson)
