"""The teacher's API: their day or week, what is left to mark, their make-up blocks; the school sees every
teacher's, a parent none."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from scheduling.makeup_blocks import makeup_block_create
from scheduling.models import Lesson, MakeupBlock
from scheduling.outcomes import Outcome
from scheduling.services import lesson_create, lesson_outcome_set
from tests.factories import StudentFactory, TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def owner():
    return UserFactory(role="admin", is_staff=True, is_superuser=True)


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def book(week, start: datetime, teacher=None) -> Lesson:
    teacher = teacher or week.teacher
    student = week.student if teacher == week.teacher else StudentFactory(teacher=teacher)
    return lesson_create(
        teacher=teacher,
        student=student,
        start_at=start,
        end_at=start + timedelta(minutes=30),
        term=week.term,
        check_availability=False,
    )


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


def test_a_teacher_gets_their_own_lessons_of_a_day_or_of_the_week(week):
    other = TeacherFactory()
    today, later, beyond = book(week, local(0, 12)), book(week, local(6, 9)), book(week, local(7, 9))
    theirs = book(week, local(0, 14), teacher=other)
    client = api(week.teacher.user)

    assert ids(client.get("/api/v1/teach/day/")) == [today.pk]
    assert ids(client.get("/api/v1/teach/day/", {"week": "true"})) == [today.pk, later.pk]
    assert ids(client.get("/api/v1/teach/day/", {"date": local(7, 0).date().isoformat()})) == [beyond.pk]
    assert ids(client.get("/api/v1/teach/day/", {"teacher": other.pk})) == [today.pk]  # always their own
    assert theirs.pk in ids(api(owner()).get("/api/v1/teach/day/"))
    assert ids(api(owner()).get("/api/v1/teach/day/", {"teacher": other.pk})) == [theirs.pk]


def test_a_lesson_reads_as_its_teacher_teaches_it(week):
    lesson = book(week, local(0, 12))
    lesson.family_note, lesson.notes = "Well done.", "Private."
    lesson.save()

    [row] = api(week.teacher.user).get("/api/v1/teach/day/").json()["results"]

    assert row["student_name"] == str(week.student) and row["instrument"] == week.student.instrument.name
    assert (row["outcome"], row["family_note"], row["notes"], row["kind"]) == ("", "Well done.", "Private.", "regular")
    assert row["start_at"] == timezone.localtime(lesson.start_at).isoformat()


def test_the_day_runs_the_same_queries_however_many_lessons(week, django_assert_max_num_queries):
    for hour in range(8, 20):
        book(week, local(1, hour))
    client = api(week.teacher.user)

    with django_assert_max_num_queries(8):
        assert len(ids(client.get("/api/v1/teach/day/", {"week": "1"}))) == 12


@pytest.mark.parametrize(
    ("query", "field"),
    [({"date": "31-12-2026"}, "date"), ({"date": "9999-12-31"}, "date"), ({"week": "maybe"}, "week")],
)
def test_a_day_that_cannot_be_read_is_a_400_naming_it(week, query, field):
    response = api(week.teacher.user).get("/api/v1/teach/day/", query)

    assert response.status_code == 400 and field in response.json()["fields"]


def test_unmarked_lists_a_teachers_ended_lessons_without_an_outcome_oldest_first(week):
    older, newer = book(week, local(-5, 10)), book(week, local(-2, 10))
    marked = book(week, local(-3, 10))
    lesson_outcome_set(lesson=marked, outcome=Outcome.NO_SHOW, actor=week.teacher.user)
    book(week, local(2, 10))
    someone_elses = book(week, local(-4, 10), teacher=TeacherFactory())

    assert ids(api(week.teacher.user).get("/api/v1/teach/unmarked/")) == [older.pk, newer.pk]
    assert ids(api(owner()).get("/api/v1/teach/unmarked/")) == [older.pk, someone_elses.pk, newer.pk]


@pytest.mark.parametrize("path", ["/api/v1/teach/day/", "/api/v1/teach/unmarked/", "/api/v1/makeup-blocks/"])
def test_a_parent_has_no_teachers_api_and_someone_signed_out_none(week, path):
    assert api(week.parent).get(path).status_code == 403
    assert api().get(path).status_code == 401


# Make-up blocks


def block_body(day_offset: int, start: int, end: int) -> dict:
    return {"start_at": local(day_offset, start).isoformat(), "end_at": local(day_offset, end).isoformat()}


def test_a_teacher_adds_their_own_block(week):
    response = api(week.teacher.user).post("/api/v1/makeup-blocks/", block_body(3, 10, 12), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["teacher"] == week.teacher.pk
    assert MakeupBlock.objects.get().start_at == local(3, 10)


def test_a_teacher_naming_a_teacher_is_refused_by_name(week):
    other = TeacherFactory()

    response = api(week.teacher.user).post(
        "/api/v1/makeup-blocks/", {**block_body(3, 10, 12), "teacher": other.pk}, format="json"
    )

    assert response.status_code == 400 and list(response.json()["fields"]) == ["teacher"]
    assert not MakeupBlock.objects.exists()


def test_the_school_adds_a_block_for_a_teacher_it_names(week):
    client = api(owner())

    missing = client.post("/api/v1/makeup-blocks/", block_body(3, 10, 12), format="json")
    named = client.post("/api/v1/makeup-blocks/", {**block_body(3, 10, 12), "teacher": week.teacher.pk}, format="json")

    assert missing.status_code == 400 and "teacher" in missing.json()["fields"]
    assert named.status_code == 201 and MakeupBlock.objects.get().teacher == week.teacher


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (block_body(3, 11, 13), 409, "makeup_block_overlap"),
        (block_body(3, 13, 12), 400, "invalid"),
        (block_body(-2, 10, 11), 400, "invalid"),
        ({"start_at": local(3, 6).isoformat(), "end_at": local(3, 19).isoformat()}, 400, "invalid"),
    ],
    ids=["overlap", "backwards", "past", "longer than twelve hours"],
)
def test_a_block_that_cannot_be_is_refused_with_its_code(week, body, status, code):
    makeup_block_create(teacher=week.teacher, start_at=local(3, 10), end_at=local(3, 12))

    response = api(week.teacher.user).post("/api/v1/makeup-blocks/", body, format="json")

    assert response.status_code == status and response.json()["code"] == code
    assert MakeupBlock.objects.count() == 1


def test_the_list_holds_a_teachers_own_blocks_not_over_yet(week):
    mine = makeup_block_create(teacher=week.teacher, start_at=local(3, 10), end_at=local(3, 12))
    theirs = makeup_block_create(teacher=TeacherFactory(), start_at=local(3, 10), end_at=local(3, 12))
    over = MakeupBlock.objects.create(teacher=week.teacher, start_at=local(-3, 10), end_at=local(-3, 12))

    assert ids(api(week.teacher.user).get("/api/v1/makeup-blocks/")) == [mine.pk]
    assert set(ids(api(owner()).get("/api/v1/makeup-blocks/"))) == {mine.pk, theirs.pk}
    assert api(week.teacher.user).get(f"/api/v1/makeup-blocks/{over.pk}/").status_code == 200
    assert api(week.teacher.user).get(f"/api/v1/makeup-blocks/{theirs.pk}/").status_code == 404


def test_a_block_is_deleted_by_its_teacher_unless_a_make_up_is_booked_inside(week):
    free = makeup_block_create(teacher=week.teacher, start_at=local(3, 10), end_at=local(3, 12))
    taken = makeup_block_create(teacher=week.teacher, start_at=local(4, 10), end_at=local(4, 12))
    lesson_create(
        teacher=week.teacher,
        student=week.student,
        start_at=local(4, 11),
        end_at=local(4, 11, 30),
        kind=Lesson.Kind.MAKEUP,
        check_availability=False,
    )
    client = api(week.teacher.user)

    assert api(TeacherFactory().user).delete(f"/api/v1/makeup-blocks/{free.pk}/").status_code == 404
    assert client.delete(f"/api/v1/makeup-blocks/{free.pk}/").status_code == 204
    refused = client.delete(f"/api/v1/makeup-blocks/{taken.pk}/")

    assert refused.status_code == 409 and refused.json()["code"] == "makeup_block_in_use"
    assert list(MakeupBlock.objects.values_list("pk", flat=True)) == [taken.pk]
