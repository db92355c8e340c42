"""A school whose feeds are the same bytes on every run (the golden files, the second parsers): fixed names, lesson
ids, uuids and times, and a fixed `today`, 2030-10-20, so the window (2030-09-20 to 2031-04-18) spans both changes of
America/Toronto's clocks (DST ends 2030-11-03, starts 2031-03-09). No test compares that day with the real clock.

The lessons are written as they would stand (ids, uids and revision times must be fixed): the services that raise a
revision are tested on their own roads (test_revision_roads.py). Every lesson is at 16:00 local time, before and after
each change of the clocks.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accounts.models import User
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from scheduling.calendar_feeds import calendar_feed_issue
from scheduling.models import CalendarFeed, Lesson
from scheduling.outcomes import Outcome
from tests.factories import (
    FamilyFactory,
    InstrumentFactory,
    ParentFactory,
    RoomFactory,
    StudentFactory,
    TeacherFactory,
    UserFactory,
)

TODAY = date(2030, 10, 20)
ZONE = ZoneInfo("America/Toronto")
SITE_URL = "https://cedarheights.example"
SCHOOL_NAME = "Cedar Heights Music Academy"
LESSON_CLOCK = time(16, 0)


def _at(day: date) -> datetime:
    return datetime.combine(day, LESSON_CLOCK, tzinfo=ZONE)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Planned:
    """A lesson of the fixed school: who, when (16:00 local), and what became of it."""

    pk: int
    child: str
    day: date
    kind: str = Lesson.Kind.REGULAR
    outcome: str = ""
    revised_at: str = "2030-08-25T13:00:00"  # UTC, as its creation unless changed since
    revision: int = 0
    room: str | None = "Studio A"
    shown: bool = True  # in the window (and, cancelled, cancelled less than 30 days ago)

    @property
    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.pk)


PLANNED = (
    Planned(101, "Lucia", date(2030, 10, 14), outcome=Outcome.ATTENDED, revised_at="2030-10-14T20:40:00", revision=1),
    Planned(102, "Lucia", date(2030, 10, 21)),
    # Cancelled two days before today: kept, struck out, "Cancelled:" first.
    Planned(
        103,
        "Lucia",
        date(2030, 10, 28),
        outcome=Outcome.CANCELLED_WITH_NOTICE,
        revised_at="2030-10-18T15:05:00",
        revision=1,
    ),
    Planned(104, "Lucia", date(2030, 11, 4)),  # after the clocks went back: still 16:00
    # Moved (from Wednesday 17:00 to 16:00), no room: revision 1.
    Planned(105, "Mateo", date(2030, 11, 6), revised_at="2030-10-19T16:30:00", revision=1, room=None),
    Planned(106, "An", date(2030, 10, 23), kind=Lesson.Kind.DEMO),
    Planned(107, "Lucia", date(2031, 3, 17), kind=Lesson.Kind.MAKEUP),  # after the clocks went forward
    Planned(108, "Lucia", date(2030, 9, 16), shown=False),  # before the window (30 days back)
    Planned(109, "Lucia", date(2031, 4, 21), shown=False),  # after it (180 days ahead)
    # Cancelled 49 days before today: gone.
    Planned(
        110,
        "An",
        date(2030, 10, 30),
        outcome=Outcome.CANCELLED_WITH_NOTICE,
        revised_at="2030-09-01T12:00:00",
        revision=1,
        shown=False,
    ),
)


@dataclass(frozen=True)
class FixedSchool:
    lessons: dict[int, Lesson]
    feeds: dict[str, CalendarFeed]

    def shown(self, scope: str) -> list[Lesson]:
        feed = self.feeds[scope]
        return [
            self.lessons[planned.pk]
            for planned in PLANNED
            if planned.shown
            and (scope != CalendarFeed.Scope.FAMILY or self.lessons[planned.pk].student.family_id == feed.family_id)
            and (scope != CalendarFeed.Scope.TEACHER or self.lessons[planned.pk].teacher_id == feed.teacher_id)
        ]


def fixed_school_build() -> FixedSchool:
    school_settings_update(school_settings=school_settings_get(), name=SCHOOL_NAME, time_zone=ZONE.key)
    piano, violin = InstrumentFactory(name="Piano"), InstrumentFactory(name="Violin")
    amira = TeacherFactory(
        user=UserFactory(first_name="Amira", last_name="Haddad", role=User.Role.TEACHER), instruments=[piano]
    )
    jonas = TeacherFactory(
        user=UserFactory(first_name="Jonas", last_name="Berg", role=User.Role.TEACHER), instruments=[violin]
    )
    ortega = ParentFactory(first_name="Maya", last_name="Ortega", family=FamilyFactory(name="Ortega family"))
    nguyen = FamilyFactory(name="Nguyen family")
    children = {
        "Lucia": StudentFactory(
            first_name="Lucia", last_name="Ortega", family=ortega.family, instrument=piano, teacher=amira
        ),
        "Mateo": StudentFactory(
            first_name="Mateo", last_name="Ortega", family=ortega.family, instrument=violin, teacher=jonas
        ),
        "An": StudentFactory(first_name="An", last_name="Nguyen", family=nguyen, instrument=piano, teacher=amira),
    }
    studio = RoomFactory(name="Studio A")
    lessons = {}
    for planned in PLANNED:
        student = children[planned.child]
        cancelled = planned.outcome == Outcome.CANCELLED_WITH_NOTICE
        lesson = Lesson.objects.create(
            pk=planned.pk,
            uid=planned.uid,
            teacher=student.teacher,
            student=student,
            kind=planned.kind,
            status={"": "scheduled", Outcome.ATTENDED: "completed"}.get(planned.outcome, "cancelled"),
            outcome=planned.outcome,
            start_at=_at(planned.day),
            end_at=_at(planned.day) + timedelta(minutes=30),
            room=studio if planned.room else None,
            notes=f"Private note on {planned.child}",
            family_note=f"Family note for {planned.child}",
            cancelled_at=_utc(planned.revised_at) if cancelled else None,
            revision=planned.revision,
            revised_at=_utc(planned.revised_at),
        )
        Lesson.objects.filter(pk=lesson.pk).update(created_at=_utc("2030-08-25T13:00:00"))  # auto_now_add otherwise
        lessons[planned.pk] = Lesson.objects.select_related("student", "teacher").get(pk=lesson.pk)
    owner = UserFactory(first_name="Olivia", last_name="Chen", role=User.Role.ADMIN, is_staff=True)
    feeds = {
        scope: calendar_feed_issue(holder=holder, scope=scope, actor=holder)[0]
        for scope, holder in (
            (CalendarFeed.Scope.FAMILY, ortega),
            (CalendarFeed.Scope.TEACHER, amira.user),
            (CalendarFeed.Scope.SCHOOL, owner),
        )
    }
    return FixedSchool(lessons=lessons, feeds=feeds)
