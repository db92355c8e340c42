"""Weekly lessons and the next term: a child's standing weekly time booked term by term (`weekly_lesson_book`,
`term_rollover`), the owner's preview and confirmation in the admin and the API, and the "booked until" an enrolling
family reads.

Dates are relative to today: the term rolled into starts two weeks from now, and the DST test finds the next change
of America/Toronto's offset with zoneinfo.
"""

import functools
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from cedarheights.models import AuditEvent
from enrollment.confirmation import confirmation_path
from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from enrollment.services import enrollment_pause_unpaid
from scheduling.errors import LessonConflict, WeeklyTimeTaken
from scheduling.models import Lesson, Student, Term, WeeklyLesson
from scheduling.outcomes import Outcome
from scheduling.services import (
    availability_update,
    lesson_create,
    lesson_outcome_set,
    teacher_update,
    term_update,
)
from scheduling.weekly_lessons import (
    RolloverResult,
    term_rollover,
    term_rollover_preview,
    weekly_lesson_book,
    weekly_lesson_end,
)
from tests.concurrency import at_once
from tests.factories import (
    AvailabilityFactory,
    ClosureFactory,
    EnrollmentFactory,
    EnrollmentInputFactory,
    StudentFactory,
    TeacherFactory,
    TermFactory,
    UserFactory,
)

TORONTO = ZoneInfo("America/Toronto")
WEDNESDAY = 2
HALF_PAST_FOUR = time(16, 30)


def today() -> date:
    return timezone.localdate(timezone=TORONTO)


def wednesdays(start: date, end: date) -> list[date]:
    first = start + timedelta(days=(WEDNESDAY - start.weekday()) % 7)
    return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]


def at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=TORONTO)


def next_term(*, weeks: int = 6, starts_in_days: int = 14) -> Term:
    """A term made after the children enrolled: from a Monday two weeks ahead, `weeks` weeks long."""
    start = today() + timedelta(days=starts_in_days)
    start -= timedelta(days=start.weekday())
    return TermFactory(start_date=start, end_date=start + timedelta(weeks=weeks, days=-1))


def local_days(lessons) -> list[date]:
    return [lesson.start_at.astimezone(TORONTO).date() for lesson in lessons.order_by("start_at")]


@pytest.fixture
def teacher(school):
    """A teacher free on Wednesdays 15:00–19:00 (the name shadows tests/scheduling/fixtures.py's Monday teacher)."""
    teacher = TeacherFactory()
    AvailabilityFactory(teacher=teacher, weekday=WEDNESDAY, start_time="15:00", end_time="19:00")
    return teacher


@pytest.fixture
def owner(db) -> User:
    return UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True)


def standing(teacher, *, student=None, at_time: time = HALF_PAST_FOUR) -> WeeklyLesson:
    """A child's weekly Wednesday lesson from today, recorded while no term covers the coming weeks."""
    return weekly_lesson_book(
        student=student or StudentFactory(),
        teacher=teacher,
        weekday=WEDNESDAY,
        start_time=at_time,
        minutes=30,
        starts_on=today(),
    )


@pytest.mark.django_db
class TestRollover:
    def test_each_week_is_booked_at_the_same_time_with_the_same_teacher_but_the_closed_one(self, teacher, owner):
        weekly = standing(teacher)
        assert not weekly.lessons.exists()  # no term covered its weeks yet
        term = next_term(weeks=6)
        closed = wednesdays(term.start_date, term.end_date)[2]
        ClosureFactory(reason="March break", start_date=closed - timedelta(days=2), end_date=closed + timedelta(days=2))

        result = term_rollover(term=term, actor=owner)

        booked = Lesson.objects.filter(weekly_lesson=weekly)
        assert local_days(booked) == [d for d in wednesdays(term.start_date, term.end_date) if d != closed]
        assert {(lesson.start_at.astimezone(TORONTO).time(), lesson.end_at - lesson.start_at) for lesson in booked} == {
            (HALF_PAST_FOUR, timedelta(minutes=30))
        }
        assert {(lesson.teacher_id, lesson.term_id, lesson.kind) for lesson in booked} == {
            (teacher.pk, term.pk, Lesson.Kind.REGULAR)
        }
        assert (result.lessons, result.children, result.conflicted) == (5, 1, ())
        audit = AuditEvent.objects.get(object_id=str(term.pk), actor=owner)
        assert audit.changes == {"rolled_over": [None, {"lessons": 5, "children": 1, "held_back": 0}]}

    def test_the_wall_clock_time_stays_across_a_change_of_dst(self, teacher):
        # The next change of Toronto's offset at least four weeks ahead (March or November), and a term around it.
        change = today() + timedelta(weeks=4)
        while at(change, time(12)).utcoffset() == at(change - timedelta(days=1), time(12)).utcoffset():
            change += timedelta(days=1)
        weekly = standing(teacher)
        term = TermFactory(start_date=change - timedelta(weeks=3), end_date=change + timedelta(weeks=3))

        term_rollover(term=term, actor=None)

        local = [lesson.start_at.astimezone(TORONTO) for lesson in weekly.lessons.order_by("start_at")]
        assert [start.time() for start in local] == [HALF_PAST_FOUR] * 6
        # Three Wednesdays each side of the change, each side at its own UTC offset: in UTC the lessons moved by the
        # hour the clocks did, so the wall-clock time stayed.
        assert local[2].date() < change <= local[3].date()
        offsets = [start.utcoffset() for start in local]
        assert len(set(offsets[:3])) == len(set(offsets[3:])) == 1 and offsets[0] != offsets[3]

    def test_a_weekly_lesson_with_a_clash_is_held_back_and_named_and_the_others_are_booked(self, teacher):
        ana = standing(teacher, student=StudentFactory(first_name="Ana"))
        ben = standing(teacher, student=StudentFactory(first_name="Ben"), at_time=time(17))
        term = next_term(weeks=6)
        clash_day = wednesdays(term.start_date, term.end_date)[3]
        lesson_create(
            teacher=teacher,
            student=StudentFactory(),
            start_at=at(clash_day, time(16, 45)),
            end_at=at(clash_day, time(17)),
            kind=Lesson.Kind.DROP_IN,
        )

        preview = term_rollover_preview(term=term)

        assert Lesson.objects.count() == 1  # the preview wrote nothing
        [held] = preview.conflicted
        assert held.weekly_lesson == ana and held.lessons == 6
        [conflict] = held.conflicts
        assert (conflict.on, conflict.code) == (clash_day, "lesson_conflict")
        assert f"{teacher} already teaches from {clash_day:%a %-d %b} 16:45" in conflict.message
        assert [(plan.weekly_lesson, plan.lessons) for plan in preview.booked] == [(ben, 6)]

        result = term_rollover(term=term, actor=None)

        assert not Lesson.objects.filter(weekly_lesson=ana).exists()  # not half-booked
        assert Lesson.objects.filter(weekly_lesson=ben).count() == 6
        assert [plan.conflicts for plan in result.conflicted] == [held.conflicts]
        assert (result.lessons, result.children) == (6, 1)

    @pytest.mark.parametrize(
        ("change", "code"),
        [("hours", "outside_availability"), ("inactive", "invalid")],
        ids=["no longer teaching then", "inactive"],
    )
    def test_a_teacher_no_longer_teaching_then_holds_back_every_week(self, teacher, change, code):
        weekly = standing(teacher)
        if change == "hours":
            availability_update(availability=teacher.availability.get(), start_time=time(17))
        else:
            teacher_update(teacher=teacher, active=False)
        term = next_term()

        result = term_rollover(term=term, actor=None)

        [held] = result.conflicted
        assert held.weekly_lesson == weekly
        [conflict] = held.conflicts
        assert (conflict.on, conflict.code) == (None, code) and str(teacher) in conflict.message
        assert not Lesson.objects.exists()

    def test_rolling_over_again_books_nothing_new_not_even_a_week_cancelled_since(self, teacher):
        """Made to fail first: with the weeks read from the student's lessons still to come only (as
        `term_lessons_generate` read them), the second rollover booked the cancelled week again."""
        weekly = standing(teacher)
        term = next_term(weeks=4)
        term_rollover(term=term, actor=None)
        cancelled = Lesson.objects.filter(weekly_lesson=weekly).earliest("start_at")
        lesson_outcome_set(lesson=cancelled, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)

        again = term_rollover(term=term, actor=None)

        assert (again.lessons, again.children, again.conflicted) == (0, 0, ())
        assert [plan.lessons for plan in term_rollover_preview(term=term).plans] == [0]
        assert Lesson.objects.filter(weekly_lesson=weekly).count() == 4
        assert Lesson.objects.get(pk=cancelled.pk).outcome == Outcome.CANCELLED_WITH_NOTICE

    def test_an_ended_weekly_lesson_and_a_paused_childs_are_not_rolled(self, teacher):
        withdrawn = standing(teacher, at_time=time(15))
        weekly_lesson_end(weekly_lesson=withdrawn, on=today())
        standing(teacher, student=StudentFactory(status=Student.Status.PAUSED), at_time=time(16))
        kept = standing(teacher, at_time=time(17))
        term = next_term()

        result = term_rollover(term=term, actor=None)

        assert [plan.weekly_lesson for plan in result.plans] == [kept]
        assert set(Lesson.objects.values_list("weekly_lesson", flat=True)) == {kept.pk}

    def test_a_paused_enrollment_ends_its_weekly_lesson_so_no_later_term_books_it(self, teacher):
        enrollment = EnrollmentFactory(status=Enrollment.Status.ACTIVE)
        weekly = standing(teacher, student=enrollment.student)

        enrollment_pause_unpaid(enrollment_id=enrollment.pk)

        weekly.refresh_from_db()
        assert weekly.ended_on == today()
        assert term_rollover(term=next_term(), actor=None).plans == ()
        assert not Lesson.objects.exists()

    def test_a_weekly_lesson_begun_after_the_term_is_not_in_it_and_one_begun_later_in_it_starts_then(self, teacher):
        term = next_term(weeks=6)
        fourth = wednesdays(term.start_date, term.end_date)[3]
        later = weekly_lesson_book(
            student=StudentFactory(), teacher=teacher, weekday=WEDNESDAY, start_time=time(16), minutes=30,
            starts_on=fourth,
        )  # fmt: skip
        after = weekly_lesson_book(
            student=StudentFactory(), teacher=teacher, weekday=WEDNESDAY, start_time=time(17), minutes=30,
            starts_on=term.end_date + timedelta(days=1),
        )  # fmt: skip

        # Booked when made, as the term already existed; the rollover finds nothing more to book.
        assert local_days(later.lessons.all()) == wednesdays(fourth, term.end_date)
        assert not after.lessons.exists()
        assert [plan.weekly_lesson for plan in term_rollover_preview(term=term).plans] == [later]


@pytest.mark.django_db
class TestWeeklyLessonBook:
    def test_it_books_the_term_of_its_first_week_and_every_later_term_already_made(self, teacher):
        first_day = today() + timedelta(days=1)
        fall = TermFactory(start_date=today() - timedelta(weeks=4), end_date=today() + timedelta(weeks=3))
        winter = TermFactory(start_date=fall.end_date + timedelta(weeks=2), end_date=fall.end_date + timedelta(weeks=6))

        weekly = weekly_lesson_book(
            student=StudentFactory(), teacher=teacher, weekday=WEDNESDAY, start_time=HALF_PAST_FOUR, minutes=45,
            starts_on=first_day,
        )  # fmt: skip

        lessons = weekly.lessons.all()
        assert local_days(lessons) == wednesdays(first_day, fall.end_date) + wednesdays(
            winter.start_date, winter.end_date
        )
        assert {lesson.term_id for lesson in lessons} == {fall.pk, winter.pk}
        assert {lesson.end_at - lesson.start_at for lesson in lessons} == {timedelta(minutes=45)}

    def test_a_clash_in_a_later_term_books_nothing_at_all(self, teacher):
        TermFactory(start_date=today() - timedelta(weeks=4), end_date=today() + timedelta(weeks=3))
        winter = next_term(starts_in_days=35)
        clash_day = wednesdays(winter.start_date, winter.end_date)[-1]
        lesson_create(
            teacher=teacher,
            student=StudentFactory(),
            start_at=at(clash_day, HALF_PAST_FOUR),
            end_at=at(clash_day, time(17)),
        )

        with pytest.raises(LessonConflict, match="already teaches"):
            standing(teacher)

        assert not WeeklyLesson.objects.exists() and Lesson.objects.count() == 1

    def test_a_second_standing_time_at_the_same_hour_is_refused(self, teacher):
        student = StudentFactory()
        standing(teacher, student=student)

        with pytest.raises(WeeklyTimeTaken, match="already has a weekly lesson"):
            standing(TeacherFactory(), student=student)

        assert WeeklyLesson.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_rollovers_at_once_book_each_week_once(teacher):
    weekly = standing(teacher)
    term = next_term(weeks=5)

    results = at_once(functools.partial(term_rollover, term=term, actor=None))

    assert all(isinstance(result, RolloverResult) for result in results), results
    assert sorted(result.lessons for result in results) == [0, 5]
    assert Lesson.objects.filter(weekly_lesson=weekly).count() == 5


# Enrollment: the demo's weekly time booked in the terms already made, and the confirmation saying until when.


def test_a_child_enrolled_in_a_term_gets_the_next_term_too_and_is_told_until_when(
    school_ready, django_capture_on_commit_callbacks
):
    fall = Term.objects.get()
    winter = TermFactory(start_date=fall.end_date + timedelta(weeks=2), end_date=fall.end_date + timedelta(weeks=10))
    key = uuid.uuid4()

    with django_capture_on_commit_callbacks(execute=True):
        [enrollment] = enrollment_submit(
            form=EnrollmentInputFactory(), idempotency_key=key, site_url="https://school.example"
        )

    demo = enrollment.demo_lesson.start_at.astimezone(TORONTO)
    weekly = WeeklyLesson.objects.get(student=enrollment.student)
    assert (weekly.weekday, weekly.start_time, weekly.minutes, weekly.starts_on) == (
        demo.weekday(),
        demo.time(),
        enrollment.lesson_minutes,
        demo.date() + timedelta(days=1),
    )
    lessons = Lesson.objects.filter(student=enrollment.student, kind=Lesson.Kind.REGULAR)
    assert set(lessons.values_list("term", flat=True)) == {fall.pk, winter.pk}
    assert set(lessons.values_list("weekly_lesson", flat=True)) == {weekly.pk}
    until = local_days(lessons)[-1]
    assert winter.end_date - until < timedelta(weeks=1)
    said = f"booked until {until:%A %-d %B %Y}"
    page = Client().get(confirmation_path(key)).content.decode()
    assert f"booked until <strong>{until:%A %-d %B %Y}</strong>." in page
    assert f"Then every {demo:%A} at {demo:%-I:%M %p}, 30 minutes," in page
    [welcome] = [m for m in mail.outbox if m.subject == "Welcome to Cedar Heights Music Academy"]
    assert welcome.to == ["new.parent@example.com"]
    assert said in welcome.body and said in welcome.alternatives[0][0].replace("<strong>", "").replace("</strong>", "")


def test_with_no_term_for_the_weeks_after_the_demo_the_confirmation_says_they_are_not_booked_yet(
    school_ready, django_capture_on_commit_callbacks
):
    term_update(term=Term.objects.get(), end_date=today())
    key = uuid.uuid4()

    with django_capture_on_commit_callbacks(execute=True):
        [enrollment] = enrollment_submit(
            form=EnrollmentInputFactory(), idempotency_key=key, site_url="https://school.example"
        )

    assert WeeklyLesson.objects.filter(student=enrollment.student, ended_on__isnull=True).exists()
    assert not Lesson.objects.filter(student=enrollment.student, kind=Lesson.Kind.REGULAR).exists()
    honest = "not booked yet: the school has not set up the term of those weeks yet"
    assert honest in Client().get(confirmation_path(key)).content.decode()
    [welcome] = [m for m in mail.outbox if m.subject == "Welcome to Cedar Heights Music Academy"]
    assert honest in welcome.body and "booked until" not in welcome.body


# The owner's rollover: the admin's preview and confirmation, and the API.


@pytest.fixture
def clash(teacher):
    """Ana's weekly lesson clashes in the fourth week of the next term; Ben's is free."""
    ana = standing(teacher, student=StudentFactory(first_name="Ana", last_name="Aalto"))
    ben = standing(teacher, student=StudentFactory(first_name="Ben", last_name="Berg"), at_time=time(17))
    term = next_term(weeks=6)
    day = wednesdays(term.start_date, term.end_date)[3]
    lesson_create(teacher=teacher, student=StudentFactory(), start_at=at(day, HALF_PAST_FOUR), end_at=at(day, time(17)))
    return {"ana": ana, "ben": ben, "term": term, "day": day}


@pytest.mark.django_db
def test_the_owner_sees_the_preview_then_confirms_in_the_admin(owner_client, clash):
    url = reverse("admin:scheduling_term_rollover", args=[clash["term"].pk])

    preview = owner_client.get(url)

    page = preview.content.decode()
    assert preview.status_code == 200 and Lesson.objects.count() == 1
    assert "6 lessons to book for 1 child" in " ".join(page.split()) and "Ana Aalto" in page and "Ben Berg" in page
    conflicts = page[page.index('id="rollover-conflicts"') : page.index('id="rollover-booked"')]
    assert "Ana Aalto" in conflicts and "Ben Berg" not in conflicts
    assert '<ul class="errorlist">' in conflicts and f"{clash['day']:%a %-d %b %Y}: " in conflicts
    assert "already teaches" in conflicts
    assert "Confirm: book 6 lessons" in page

    confirmed = owner_client.post(url)

    page = confirmed.content.decode()
    assert confirmed.status_code == 200
    assert "6 lessons booked for 1 child; 1 conflict needs you." in " ".join(page.split())
    assert "Ana Aalto" in page[page.index('id="rollover-conflicts"') :]
    assert Lesson.objects.filter(weekly_lesson=clash["ben"]).count() == 6
    assert not Lesson.objects.filter(weekly_lesson=clash["ana"]).exists()


@pytest.mark.django_db
def test_the_terms_action_and_its_button_lead_to_the_preview(owner_client, clash):
    term = clash["term"]
    url = reverse("admin:scheduling_term_rollover", args=[term.pk])

    action = owner_client.post(
        reverse("admin:scheduling_term_changelist"), {"action": "roll_over", "_selected_action": [term.pk]}
    )
    change_page = owner_client.get(reverse("admin:scheduling_term_change", args=[term.pk])).content.decode()

    assert action.status_code == 302 and action["Location"] == url
    assert f'href="{url}"' in change_page and "Roll over weekly lessons into this term" in change_page
    assert Lesson.objects.count() == 1


@pytest.mark.django_db
def test_a_staff_member_who_may_not_book_lessons_cannot_roll_over(clash):
    client = Client()
    client.force_login(UserFactory(role=User.Role.ADMIN, is_staff=True))

    response = client.post(reverse("admin:scheduling_term_rollover", args=[clash["term"].pk]))

    assert response.status_code == 403 and Lesson.objects.count() == 1


@pytest.mark.django_db
def test_the_weekly_lessons_list_in_the_admin(owner_client, clash):
    page = owner_client.get(reverse("admin:scheduling_weeklylesson_changelist") + "?ended_on__isnull=True")

    assert page.status_code == 200
    assert "Ana Aalto" in page.content.decode() and "Ben Berg" in page.content.decode()


@pytest.mark.django_db
def test_the_api_previews_with_a_query_or_a_body_and_books_without(owner, clash):
    api = APIClient()
    api.force_authenticate(owner)
    url = f"/api/v1/terms/{clash['term'].pk}/rollover/"

    by_query = api.post(url + "?preview=1", format="json")
    by_body = api.post(url, {"preview": True}, format="json")

    assert by_query.status_code == by_body.status_code == 200
    assert by_query.json() == by_body.json()
    assert Lesson.objects.count() == 1
    preview = by_body.json()
    assert (preview["preview"], preview["lessons"], preview["children"], preview["conflicts"]) == (True, 6, 1, 1)
    ana = next(row for row in preview["weekly_lessons"] if row["id"] == clash["ana"].pk)
    assert ana["student"] == {"id": clash["ana"].student_id, "name": "Ana Aalto"}
    assert (ana["weekday"], ana["start_time"], ana["minutes"], ana["lessons"]) == (WEDNESDAY, "16:30", 30, 6)
    [conflict] = ana["conflicts"]
    assert conflict["on"] == clash["day"].isoformat() and conflict["code"] == "lesson_conflict"

    booked = api.post(url, {}, format="json")

    assert booked.status_code == 200
    assert (booked.json()["preview"], booked.json()["lessons"], booked.json()["conflicts"]) == (False, 6, 1)
    assert Lesson.objects.filter(weekly_lesson=clash["ben"]).count() == 6
    assert api.post(url, {}, format="json").json()["lessons"] == 0  # again: nothing new


@pytest.mark.django_db
def test_the_api_names_a_field_it_does_not_take_and_books_nothing(owner, clash):
    api = APIClient()
    api.force_authenticate(owner)

    response = api.post(f"/api/v1/terms/{clash['term'].pk}/rollover/", {"dry_run": True}, format="json")

    assert response.status_code == 400 and list(response.json()["fields"]) == ["dry_run"]
    assert Lesson.objects.count() == 1
