"""The teacher's pages (/teach/): their week in the school's zone, one-tap attendance, notes the family reads,
cancelling with a reason, their students, make-up blocks; nobody else's lessons, and no page for anyone else."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cedarheights.models import EmailLog
from enrollment.models import MakeupCredit
from scheduling.api.serializers import LessonSerializer
from scheduling.makeup_blocks import makeup_block_create
from scheduling.models import Lesson, MakeupBlock, Student, TeacherCancellation
from scheduling.outcomes import Outcome
from scheduling.services import lesson_create, lesson_outcome_set
from tests.concurrency import at_once
from tests.factories import RoomFactory, StudentFactory, TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time `day_offset` days from today in the school's zone (the `school` fixture: Toronto)."""
    day = timezone.localdate() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def book(week, start: datetime, *, minutes: int = 30, **fields) -> Lesson:
    return lesson_create(
        teacher=fields.pop("teacher", week.teacher),
        student=fields.pop("student", week.student),
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        term=week.term,
        check_availability=False,
        **fields,
    )


def other_teacher_lesson(week, start: datetime) -> Lesson:
    teacher = TeacherFactory()
    student = StudentFactory(teacher=teacher, instrument=week.student.instrument)
    return book(week, start, teacher=teacher, student=student)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def mark(client, lesson: Lesson, value: str):
    url = reverse("teach-lesson-mark", args=[lesson.pk])
    return client.post(url, {"mark": value, "next": reverse("teach-home")}, follow=True)


# The week


def test_the_week_lists_today_first_then_the_next_days_in_the_schools_zone(week):
    later = book(week, local(2, 17, 30))
    today = book(week, local(0, 12), room=RoomFactory(name="Studio Oak"))
    tomorrow = book(week, local(1, 9, 15), kind=Lesson.Kind.MAKEUP)
    beyond = book(week, local(8, 10))
    theirs = other_teacher_lesson(week, local(0, 15))

    response = client_of(week.teacher.user).get(reverse("teach-home"))

    assert response.status_code == 200
    page = response.content.decode()
    today_heading = f"Today, {timezone.localdate():%A} {timezone.localdate().day}"
    assert page.index(today_heading) < page.index("12:00 PM") < page.index("9:15 AM") < page.index("5:30 PM")
    assert "Studio Oak" in page and "Make-up" in page and str(week.student.instrument) in page
    shown = [lesson.pk for _, lessons in response.context["week"].days for lesson in lessons]
    assert shown == [today.pk, tomorrow.pk, later.pk]
    assert beyond.pk not in shown and theirs.pk not in shown


def test_a_lesson_to_come_offers_cancel_and_a_started_one_the_one_tap_marks(week):
    started = week.lesson_in(hours=-1)
    to_come = week.lesson_in(hours=30)

    page = client_of(week.teacher.user).get(reverse("teach-home")).content.decode()

    assert f'action="{reverse("teach-lesson-mark", args=[started.pk])}"' in page
    assert f'href="{reverse("teach-lesson-cancel", args=[to_come.pk])}"' in page
    assert f'action="{reverse("teach-lesson-mark", args=[to_come.pk])}"' not in page
    assert f'href="{reverse("teach-lesson-cancel", args=[started.pk])}"' not in page


def test_still_to_mark_lists_earlier_lessons_without_an_outcome_whatever_their_date(week):
    week.student.first_name, week.student.last_name = "Lucia", "Lopez"
    week.student.save()
    forgotten = book(week, local(-40, 10))
    yesterday = book(week, local(-1, 16))
    marked = book(week, local(-2, 16))
    lesson_outcome_set(lesson=marked, outcome=Outcome.ATTENDED, actor=week.teacher.user)
    Lesson.objects.filter(pk=marked.pk).update(outcome_set_at=timezone.now() - timedelta(hours=1))
    other_teacher_lesson(week, local(-3, 16))

    response = client_of(week.teacher.user).get(reverse("teach-home"))

    assert [lesson.pk for lesson in response.context["week"].still_to_mark] == [forgotten.pk, yesterday.pk]
    page = response.content.decode()
    assert "Still to mark" in page
    assert f'aria-label="Attended: Lucia Lopez, {timezone.localtime(forgotten.start_at):%a %-d %b %-I:%M %p}"' in page


def test_an_earlier_lesson_just_marked_stays_in_the_box_with_its_undo(week):
    """Made to fail first: the box held unmarked lessons only, so a lesson of yesterday marked by a wrong tap left the
    page with no way to undo it (seen in CI at half past midnight, school time)."""
    week.student.first_name, week.student.last_name = "Lucia", "Lopez"
    week.student.save()
    yesterday = book(week, local(-1, 16))
    client = client_of(week.teacher.user)

    mark(client, yesterday, "no_show")
    response = client.get(reverse("teach-home"))

    assert [lesson.pk for lesson in response.context["week"].still_to_mark] == [yesterday.pk]
    label = f"Undo the mark: Lucia Lopez, {timezone.localtime(yesterday.start_at):%a %-d %b %-I:%M %p}"
    assert f'aria-label="{label}"' in response.content.decode()


def test_nothing_left_to_mark_shows_no_box(week):
    assert "Still to mark" not in client_of(week.teacher.user).get(reverse("teach-home")).content.decode()


# One-tap attendance


@pytest.mark.parametrize(("button", "outcome"), [("attended", Outcome.ATTENDED), ("no_show", Outcome.NO_SHOW)])
def test_one_tap_marks_a_started_lesson_as_its_teacher(week, button, outcome):
    lesson = week.lesson_in(hours=-1)

    response = mark(client_of(week.teacher.user), lesson, button)

    assert response.redirect_chain[-1][0] == reverse("teach-home")
    lesson.refresh_from_db()
    assert lesson.outcome == outcome and lesson.outcome_set_by == week.teacher.user
    assert any(Outcome(outcome).label.lower() in message for message in messages_of(response))


def test_marking_a_lesson_before_it_starts_is_refused_with_the_reason(week):
    lesson = week.lesson_in(hours=3)

    response = mark(client_of(week.teacher.user), lesson, "attended")

    assert response.status_code == 200
    lesson.refresh_from_db()
    assert lesson.outcome == ""
    assert messages_of(response) == [f"{week.student}: A lesson can be marked attended once it has started."]


def test_a_mark_taken_back_leaves_the_lesson_still_to_mark(week):
    lesson = week.lesson_in(hours=-1)
    client = client_of(week.teacher.user)
    mark(client, lesson, "attended")

    mark(client, lesson, "undo")

    lesson.refresh_from_db()
    assert lesson.outcome == "" and lesson.status == Lesson.Status.SCHEDULED


def test_a_mark_that_is_no_mark_is_refused_and_changes_nothing(week):
    lesson = week.lesson_in(hours=-1)

    response = mark(client_of(week.teacher.user), lesson, "")

    lesson.refresh_from_db()
    assert lesson.outcome == "" and messages_of(response) == ["Choose attended, no-show or undo."]


def test_a_form_from_elsewhere_returns_to_the_teachers_week(week):
    lesson = week.lesson_in(hours=-1)
    url = reverse("teach-lesson-mark", args=[lesson.pk])

    response = client_of(week.teacher.user).post(url, {"mark": "attended", "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == reverse("teach-home")


# A lesson: notes


def test_the_teacher_saves_both_notes_and_the_family_note_is_one_line(week):
    lesson = week.lesson_in(hours=-1)
    client = client_of(week.teacher.user)
    url = reverse("teach-lesson", args=[lesson.pk])

    response = client.post(
        url, {"family_note": "Great scales today.\nPractise the G major.", "notes": "Wrist tension.\nWatch it."}
    )

    assert response.status_code == 302 and response["Location"] == url
    lesson.refresh_from_db()
    assert lesson.family_note == "Great scales today. Practise the G major."
    assert lesson.notes == "Wrist tension.\nWatch it."
    page = client.get(url).content.decode()
    assert "Great scales today. Practise the G major." in page and "Wrist tension." in page


@pytest.mark.skipif(
    "family_note" not in LessonSerializer.Meta.fields,
    reason="the lesson API shows `family_note` once the outcomes branch (issue 15, H5) is merged",
)
def test_the_family_reads_the_teachers_note_through_the_lesson_api_and_never_the_private_notes(week):
    lesson = week.lesson_in(hours=-1)
    client_of(week.teacher.user).post(
        reverse("teach-lesson", args=[lesson.pk]), {"family_note": "Lovely phrasing.", "notes": "Private: tired."}
    )

    body = client_of(week.parent).get(f"/api/v1/lessons/{lesson.pk}/").json()

    assert body["family_note"] == "Lovely phrasing."
    assert "Private: tired." not in str(body)


# Cancelling with a reason


def test_cancelling_without_a_reason_is_a_form_error_and_the_lesson_stays(week):
    lesson = week.lesson_in(hours=30)

    response = client_of(week.teacher.user).post(reverse("teach-lesson-cancel", args=[lesson.pk]), {"reason": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["Say why the lesson is cancelled."]}
    assert 'name="reason"' in response.content.decode()
    lesson.refresh_from_db()
    assert lesson.outcome == "" and not TeacherCancellation.objects.exists()


def test_a_teacher_cancels_with_a_reason_the_family_gets_a_credit_and_both_emails_go_once(week):
    lesson = week.lesson_in(hours=30)
    client = client_of(week.teacher.user)
    url = reverse("teach-lesson-cancel", args=[lesson.pk])
    assert "Why is the lesson cancelled?" in client.get(url).content.decode()

    first = client.post(url, {"reason": "Concert tour"}, follow=True)
    client.post(url, {"reason": "Concert tour"})

    assert first.redirect_chain[-1][0] == reverse("teach-home")
    lesson.refresh_from_db()
    assert lesson.outcome == Outcome.TEACHER_CANCELLED and lesson.cancellation_reason == "Concert tour"
    assert TeacherCancellation.objects.get().reason == "Concert tour"
    assert MakeupCredit.objects.get(missed_lesson=lesson).origin == MakeupCredit.Origin.TEACHER
    family = EmailLog.objects.get(template="teacher_cancelled_family")
    assert family.recipient == week.parent.email
    assert "/family/credits/" in family.text_body and "make-up credit was issued automatically" in family.text_body
    assert f"{timezone.localtime(lesson.start_at):%-I:%M %p}" in family.text_body
    assert EmailLog.objects.filter(template="teacher_cancelled_owner").count() == 1


def test_a_cancelled_make_up_tells_the_family_its_credit_is_back(week):
    lesson = book(week, local(3, 10), kind=Lesson.Kind.MAKEUP)

    client_of(week.teacher.user).post(reverse("teach-lesson-cancel", args=[lesson.pk]), {"reason": "Sick"})

    assert "given back" in EmailLog.objects.get(template="teacher_cancelled_family").text_body


# Students


def test_the_students_page_lists_the_teachers_active_students_with_their_familys_contact(week):
    week.parent.first_name, week.parent.last_name, week.parent.phone = "Maya", "Lopez", "416-555-0101"
    week.parent.save()
    next_lesson = week.lesson_in(hours=50)
    week.lesson_in(hours=-30)
    withdrawn = StudentFactory(first_name="Wren", teacher=week.teacher, status=Student.Status.WITHDRAWN)
    someone_elses = StudentFactory(first_name="Sol", teacher=TeacherFactory())

    response = client_of(week.teacher.user).get(reverse("teach-students"))

    assert [student.pk for student in response.context["students"]] == [week.student.pk]
    assert response.context["students"][0].next_lesson_at == next_lesson.start_at
    page = response.content.decode()
    assert week.parent.email in page and "416-555-0101" in page and "Maya Lopez" in page
    assert f"{timezone.localtime(next_lesson.start_at):%-I:%M %p}" in page
    assert withdrawn.first_name not in page and someone_elses.first_name not in page


# Make-up blocks


def block_form(day_offset: int, start: str, end: str) -> dict:
    return {"day": (timezone.localdate() + timedelta(days=day_offset)).isoformat(), "start": start, "end": end}


def test_a_teacher_adds_a_make_up_block_in_local_time(week):
    client = client_of(week.teacher.user)

    response = client.post(reverse("teach-makeup-blocks"), block_form(3, "10:00", "12:00"), follow=True)

    block = MakeupBlock.objects.get()
    assert (block.teacher, block.start_at, block.end_at) == (week.teacher, local(3, 10), local(3, 12))
    assert "10:00 AM–12:00 PM" in response.content.decode()


def test_an_overlapping_block_is_refused_clearly_keeping_what_was_typed(week):
    makeup_block_create(teacher=week.teacher, start_at=local(3, 10), end_at=local(3, 12))

    response = client_of(week.teacher.user).post(reverse("teach-makeup-blocks"), block_form(3, "11:30", "13:00"))

    assert response.status_code == 200 and MakeupBlock.objects.count() == 1
    errors = response.context["form"].non_field_errors()
    assert errors == [f"This overlaps another make-up block of {week.teacher} ({local(3, 10):%a %-d %b} 10:00–12:00)."]
    assert 'value="11:30"' in response.content.decode()


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (block_form(3, "12:00", "10:00"), "end", "The block must end after it starts."),
        (block_form(-1, "10:00", "11:00"), "start", "Choose a time ahead."),
        ({"day": "", "start": "10:00", "end": "11:00"}, "day", "This field is required."),
    ],
)
def test_a_block_that_cannot_be_is_a_form_error(week, form, field, message):
    response = client_of(week.teacher.user).post(reverse("teach-makeup-blocks"), form)

    assert response.status_code == 200 and not MakeupBlock.objects.exists()
    assert message in response.context["form"].errors[field]


def test_a_block_is_removed_unless_a_make_up_is_booked_inside(week):
    free = makeup_block_create(teacher=week.teacher, start_at=local(3, 10), end_at=local(3, 12))
    taken = makeup_block_create(teacher=week.teacher, start_at=local(4, 10), end_at=local(4, 12))
    book(week, local(4, 10, 30), kind=Lesson.Kind.MAKEUP)
    client = client_of(week.teacher.user)

    page = client.get(reverse("teach-makeup-blocks")).content.decode()
    removed = client.post(reverse("teach-makeup-block-delete", args=[free.pk]), follow=True)
    refused = client.post(reverse("teach-makeup-block-delete", args=[taken.pk]), follow=True)

    assert page.count("A make-up lesson is booked in it") == 1
    assert list(MakeupBlock.objects.values_list("pk", flat=True)) == [taken.pk]
    assert messages_of(removed) == [f"Make-up time removed: {local(3, 10):%A %-d %B}, 10:00."]
    assert messages_of(refused) == [
        f"A make-up lesson is booked in this block ({week.student}, {local(4, 10, 30):%a %-d %b} 10:30–11:00): "
        "it stays while that lesson does."
    ]


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_blocks_sent_at_once_make_one(school):
    teacher = TeacherFactory()

    def add(hour):
        return lambda: makeup_block_create(teacher=teacher, start_at=local(5, hour), end_at=local(5, hour + 2))

    outcomes = at_once([add(10), add(11)])

    assert MakeupBlock.objects.count() == 1
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["MakeupBlock", "MakeupBlockOverlap"]


# Who reaches the pages


def teacher_urls(lesson: Lesson, block: MakeupBlock) -> list[tuple[str, str]]:
    return [
        ("get", reverse("teach-home")),
        ("get", reverse("teach-lesson", args=[lesson.pk])),
        ("post", reverse("teach-lesson-mark", args=[lesson.pk])),
        ("get", reverse("teach-lesson-cancel", args=[lesson.pk])),
        ("get", reverse("teach-students")),
        ("get", reverse("teach-makeup-blocks")),
        ("post", reverse("teach-makeup-block-delete", args=[block.pk])),
    ]


def test_the_teacher_reaches_every_page(week):
    lesson = week.lesson_in(hours=30)
    block = makeup_block_create(teacher=week.teacher, start_at=local(3, 10), end_at=local(3, 12))
    client = client_of(week.teacher.user)

    for method, url in teacher_urls(lesson, block):
        assert getattr(client, method)(url).status_code in {200, 302}, url


@pytest.mark.parametrize("who", ["parent", "owner", "another teacher"])
def test_nobody_else_reaches_the_teachers_pages_or_lessons(week, who):
    lesson = week.lesson_in(hours=-1)
    block = makeup_block_create(teacher=week.teacher, start_at=local(3, 10), end_at=local(3, 12))
    user = {
        "parent": lambda: week.parent,
        "owner": lambda: UserFactory(role="admin", is_staff=True, is_superuser=True),
        "another teacher": lambda: TeacherFactory().user,
    }[who]()
    client = client_of(user)
    urls = teacher_urls(lesson, block)
    if who == "another teacher":  # their own week, students and blocks are theirs to see: not these records
        urls = [(method, url) for method, url in urls if any(str(pk) in url for pk in (lesson.pk, block.pk))]

    for method, url in urls:
        assert getattr(client, method)(url, {"mark": "attended", "reason": "x"}).status_code == 404, url
    lesson.refresh_from_db()
    assert lesson.outcome == "" and MakeupBlock.objects.filter(pk=block.pk).exists()


def test_someone_signed_out_is_sent_to_sign_in(week):
    response = Client().get(reverse("teach-home"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_teacher_signing_in_lands_on_their_week(week):
    client = Client()

    response = client.post(reverse("login"), {"username": week.teacher.user.email, "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("teach-home")
    assert response.templates[0].name == "scheduling/teach/home.html"


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [("teacher", "teach-home"), ("parent", "family-home"), ("owner", "admin:index"), ("nobody", "login")],
)
def test_the_front_door_sends_each_role_to_its_own_first_page(week, who, lands_on):
    user = {
        "teacher": week.teacher.user,
        "parent": week.parent,
        "owner": UserFactory(role="admin", is_staff=True, is_superuser=True),
        "nobody": None,
    }[who]
    client = client_of(user) if user else Client()

    response = client.get("/")

    assert response.status_code == 302 and response["Location"].split("?")[0] == reverse(lands_on)
