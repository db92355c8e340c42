"""Issue 18 §4: every read of a child's or a family's record by staff or a teacher writes exactly one audit event
(who, what, whose, the request's id), a list page one for the page; a parent reading their own family writes none.

Made to fail: `ReadAuditedAdmin` taken off StudentAdmin (the student's change page wrote no event), the
`AuditedReadsMixin` off CreateRetrieveUpdateListViewSet (the API's student and family reads wrote none), the
teacher's lesson page without its `audit_read` line, and `_audited_reader` returning True (parents' reads counted)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Family, User
from cedarheights.models import AuditEvent
from cedarheights.services import audit_export, audit_read, audit_record
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student
from tests.factories import EnrollmentFactory, LedgerEntryFactory, PaymentFactory

pytestmark = pytest.mark.django_db

VIEW = AuditEvent.Action.VIEW


def reads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=VIEW).order_by("pk"))


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_one_read(response, *, actor, obj, family_id, student_id) -> AuditEvent:
    assert response.status_code == 200
    events = reads()
    assert len(events) == 1, [str(event) for event in events]
    event = events[0]
    assert event.actor == actor
    assert (event.object_type, event.object_id) == (ContentType.objects.get_for_model(obj), str(obj.pk))
    assert (event.family_id, event.student_id) == (family_id, student_id)
    assert event.request_id and event.request_id == response["X-Request-ID"]
    return event


# The API


def test_the_schools_api_read_of_a_child_writes_one_event(world):
    student = world.student_a

    response = api_client(world.admin).get(f"/api/v1/students/{student.pk}/")

    assert_one_read(response, actor=world.admin, obj=student, family_id=student.family_id, student_id=student.pk)


def test_the_schools_api_read_of_a_family_writes_one_event(world):
    family = world.parent_b.family

    response = api_client(world.admin).get(f"/api/v1/families/{family.pk}/")

    assert_one_read(response, actor=world.admin, obj=family, family_id=family.pk, student_id=None)


def test_a_teachers_api_read_of_their_students_lesson_writes_one_event(world):
    lesson = world.lesson_a

    response = api_client(world.teacher_x).get(f"/api/v1/lessons/{lesson.pk}/")

    student = world.student_a
    assert_one_read(response, actor=world.teacher_x, obj=lesson, family_id=student.family_id, student_id=student.pk)


def test_the_schools_api_read_of_an_enrollment_writes_one_event(world):
    enrollment = EnrollmentFactory(student=world.student_b, status=Enrollment.Status.ACTIVE)

    response = api_client(world.admin).get(f"/api/v1/enrollments/{enrollment.pk}/")

    student = world.student_b  # read with the enrollment, so its family is known too
    assert_one_read(response, actor=world.admin, obj=enrollment, family_id=student.family_id, student_id=student.pk)


def test_an_api_list_page_writes_one_event_with_the_ids_it_showed(world):
    response = api_client(world.admin).get("/api/v1/students/")

    assert response.status_code == 200
    [event] = reads()
    shown = [row["id"] for row in response.json()["results"]]
    assert len(shown) == 2 and event.changes == {"shown": shown}
    assert event.object_type == ContentType.objects.get_for_model(Student) and event.object_id == ""
    assert event.actor == world.admin and event.request_id == response["X-Request-ID"]


def test_a_teachers_day_list_writes_one_event(world):
    day = world.lesson_a.start_at.date().isoformat()

    response = api_client(world.teacher_x).get("/api/v1/teach/day/", {"date": day})

    assert response.status_code == 200
    [event] = reads()
    assert event.changes == {"shown": [world.lesson_a.pk]} and event.actor == world.teacher_x
    assert event.family_id == world.student_a.family_id  # a page of one family's records is found with it


def test_a_parent_reading_their_own_family_writes_nothing(world):
    client = api_client(world.parent_a)
    family, student = world.parent_a.family, world.student_a

    answers = [
        client.get(f"/api/v1/families/{family.pk}/"),
        client.get("/api/v1/families/"),
        client.get(f"/api/v1/students/{student.pk}/"),
        client.get("/api/v1/students/"),
        client.get(f"/api/v1/lessons/{world.lesson_a.pk}/"),
    ]

    assert [answer.status_code for answer in answers] == [200] * 5
    assert reads() == []


def test_a_refused_read_writes_nothing(world):
    """Another family's child is a 404 for a teacher who does not teach them: nothing was read."""
    response = api_client(world.teacher_x).get(f"/api/v1/lessons/{world.lesson_b.pk}/")

    assert response.status_code == 404 and reads() == []


# The admin


@pytest.mark.parametrize("kind", ["family", "student", "parent", "enrollment", "payment"])
def test_an_admin_change_page_writes_one_event(world, kind):
    student = world.student_a
    family = student.family
    enrollment = EnrollmentFactory(student=student, status=Enrollment.Status.ACTIVE)
    payment = PaymentFactory(family=family)
    record, url, ids = {
        "family": (family, "admin:accounts_family_change", (family.pk, None)),
        "student": (student, "admin:scheduling_student_change", (family.pk, student.pk)),
        "parent": (world.parent_a, "admin:accounts_user_change", (family.pk, None)),
        "enrollment": (enrollment, "admin:enrollment_enrollment_change", (family.pk, student.pk)),
        "payment": (payment, "admin:billing_payment_change", (family.pk, None)),
    }[kind]

    response = client_of(world.admin).get(reverse(url, args=[record.pk]))

    assert_one_read(response, actor=world.admin, obj=record, family_id=ids[0], student_id=ids[1])


def test_an_admin_list_page_writes_one_event_with_the_ids_it_showed(world):
    response = client_of(world.admin).get(reverse("admin:accounts_family_changelist"))

    assert response.status_code == 200
    [event] = reads()
    shown = [family.pk for family in response.context["cl"].result_list]
    assert sorted(event.changes["shown"]) == sorted(shown) == sorted(Family.objects.values_list("pk", flat=True))
    assert event.object_type == ContentType.objects.get_for_model(Family) and event.family_id is None


def test_a_familys_ledger_page_in_the_admin_writes_one_event_for_that_family(world):
    family = world.parent_a.family
    LedgerEntryFactory(family=family)

    response = client_of(world.admin).get(
        reverse("admin:billing_ledgerentry_changelist"), {"family__id__exact": family.pk}
    )

    assert response.status_code == 200
    [event] = reads()
    assert event.family_id == family.pk and len(event.changes["shown"]) == len(response.context["cl"].result_list) > 0


# The teacher's pages


def test_the_teachers_lesson_page_writes_one_event(week):
    lesson = week.lesson_in(hours=30)

    response = client_of(week.teacher.user).get(reverse("teach-lesson", args=[lesson.pk]))

    student = week.student
    assert_one_read(response, actor=week.teacher.user, obj=lesson, family_id=student.family_id, student_id=student.pk)


def test_the_teachers_students_and_week_pages_write_one_event_each(week):
    lesson = week.lesson_in(hours=30)
    client = client_of(week.teacher.user)

    students_page = client.get(reverse("teach-students"))
    home = client.get(reverse("teach-home"))

    assert students_page.status_code == home.status_code == 200
    first, second = reads()
    assert first.object_type == ContentType.objects.get_for_model(Student)
    assert first.changes == {"shown": [week.student.pk]} and first.request_id == students_page["X-Request-ID"]
    assert second.object_type == ContentType.objects.get_for_model(Lesson)
    assert second.changes == {"shown": [lesson.pk]} and second.request_id == home["X-Request-ID"]


# The cost


def test_a_read_is_one_insert_and_no_other_query(world, rf):
    """The record's family and child come from what is loaded: a lesson read with its student and teacher, as every
    page that shows it reads it, costs no look-up."""
    lesson = Lesson.objects.select_related("student", "teacher__user").get(pk=world.lesson_a.pk)
    request = rf.get("/")
    request.request_id = "req-1"
    ContentType.objects.get_for_model(Lesson)  # cached once per process

    with CaptureQueriesContext(connection) as captured:
        event = audit_read(actor=world.admin, obj=lesson, request=request)

    assert [query["sql"].split()[0] for query in captured] == ["INSERT"]
    assert (event.family_id, event.student_id, event.request_id) == (
        world.student_a.family_id,
        lesson.student_id,
        "req-1",
    )


def test_no_read_is_recorded_for_a_person_who_is_neither_staff_nor_teacher(world):
    parent = User.objects.get(pk=world.parent_b.pk)

    assert audit_read(actor=parent, obj=world.student_b) is None and reads() == []


# Exports


def test_an_export_writes_one_event_whoever_exports(world):
    """An export is audited even when a parent takes their own family's records out (their access request)."""
    lessons = Lesson.objects.filter(student__family=world.parent_a.family).select_related("student")

    by_parent = audit_export(actor=world.parent_a, model=Lesson, exported=lessons)
    by_owner = audit_record(actor=world.admin, action=AuditEvent.Action.EXPORT, obj=world.parent_b.family)

    assert by_parent.action == by_owner.action == AuditEvent.Action.EXPORT
    assert by_parent.changes == {"exported": ["scheduling.Lesson", [world.lesson_a.pk]]}
    assert by_parent.family_id == world.parent_a.family_id
    assert (by_owner.family_id, by_owner.object_id) == (world.parent_b.family_id, str(world.parent_b.family_id))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 2


def test_an_export_of_several_families_is_about_none_of_them_alone(world):
    """An export names a family only when every row is theirs: the admin's exports once named their first row's."""
    event = audit_export(actor=world.admin, model=Family, exported=Family.objects.order_by("pk"), file_format="csv")

    assert event.family_id is None and event.object_id == ""
    assert event.changes == {
        "exported": ["accounts.Family", list(Family.objects.order_by("pk").values_list("pk", flat=True))],
        "format": [None, "csv"],
    }
