"""Writing an import: every row through the services of the app that owns its records, inside one transaction.

Each row runs in a savepoint of its own, so that a refused row (a clash, a bad value) is reported and the rows after
it are still tried; the whole import commits only when it was asked to and no row failed. A dry run is the same
run rolled back: the owner sees what committing would do, clashes between rows of the same file included.
Importing a file again finds every record by its external id (a guardian by email) and changes nothing.
No email is sent: guardians and teachers get no password and receive a set-password link only when the owner
sends one.
"""

from dataclasses import dataclass, field
from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Family, User
from accounts.services import family_create, family_update, parent_create, staff_create
from cedarheights.errors import DomainError
from cedarheights.school_import.columns import MY_MUSIC_STAFF, TEACHERS, Preset
from cedarheights.school_import.reading import Row, Rows
from cedarheights.school_import.values import Values
from cedarheights.selectors import school_today
from scheduling.errors import ClosureConflict, LessonConflict, OutsideAvailability, WeeklyTimeTaken
from scheduling.models import Instrument, Student, Teacher, WeeklyAvailability
from scheduling.services import (
    availability_create,
    instrument_create,
    student_create,
    student_update,
    teacher_create,
    teacher_update,
)
from scheduling.weekly_lessons import weekly_lesson_book

NEW, UPDATED, UNCHANGED, FAILED = "new", "updated", "unchanged", "error"


@dataclass(frozen=True)
class RowResult:
    number: int
    outcome: str
    summary: str
    errors: tuple[tuple[str, str], ...] = ()  # (column header, message)


@dataclass(frozen=True)
class ImportReport:
    preset: Preset
    rows: tuple[RowResult, ...]
    unknown_headers: tuple[str, ...]
    committed: bool

    @property
    def failed(self) -> tuple[RowResult, ...]:
        return tuple(row for row in self.rows if row.outcome == FAILED)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)


class RowError(Exception):
    """A row's value refused while writing it, under the name of that value."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name, self.message = name, message


# Where a service's refusal belongs in the row: the lesson's clashes under its time, a model field under its value.
LESSON_ERRORS = (LessonConflict, OutsideAvailability, ClosureConflict, WeeklyTimeTaken)
MODEL_FIELD_VALUES = {
    "name": "family_name",
    "date_of_birth": "birthday",
    "start_at": "lesson_time",
    "end_at": "lesson_minutes",
    "weekday": "lesson_day",
    "minutes": "lesson_minutes",
}


@dataclass
class Guardian:
    number: int
    first_name: str
    last_name: str
    email: str
    phone: str


@dataclass
class WeeklyTime:
    teacher: str
    weekday: int
    start_time: time
    minutes: int
    starts_on: date


@dataclass
class StudentValues:
    student_id: str
    first_name: str
    last_name: str
    birthday: date | None
    instrument: str
    status: str
    family_id: str
    family: dict[str, str]
    guardians: list[Guardian]
    lesson: WeeklyTime | None
    errors: dict[str, str] = field(default_factory=dict)


def _guardian(values: Values, number: int) -> Guardian | None:
    prefix = f"guardian{number}_"
    first, last = values.text(prefix + "first_name", max_length=150), values.text(prefix + "last_name", max_length=150)
    phone = values.text(prefix + "phone", max_length=32)
    email = values.email(prefix + "email", required=bool(first or last or phone))
    return Guardian(number, first, last, email, phone) if email else None


def _lesson(values: Values, *, today: date) -> WeeklyTime | None:
    teacher = values.text("teacher")
    weekday, start_time = values.weekday("lesson_day"), values.clock("lesson_time")
    minutes = values.whole_number("lesson_minutes", low=15, high=240)
    starts_on = values.day("lesson_start") or values.day("date_started")
    if not (teacher or weekday is not None or start_time):
        return None
    for name, value in (("teacher", teacher), ("lesson_day", weekday), ("lesson_time", start_time)):
        if value in ("", None) and name not in values.errors:
            values.errors[name] = "Required for the weekly lesson."
    if values.errors:
        return None
    # A lesson is booked from today on: a child who started years ago has no lessons to book in the past.
    return WeeklyTime(teacher, weekday, start_time, minutes or 30, max(starts_on or today, today))


def student_values(row: Row, *, preset: Preset, today: date) -> StudentValues:
    values = Values(row.values)
    first, last = (
        values.text("first_name", required=True, max_length=100),
        values.text("last_name", required=True, max_length=100),
    )
    birthday = values.day("birthday", required=True)
    if birthday and birthday > today:
        values.errors["birthday"] = "A birthday cannot be in the future."
    instrument = values.text("instrument", required=True, max_length=50)
    status = values.status("status")
    guardians = [guardian for guardian in (_guardian(values, 1), _guardian(values, 2)) if guardian]
    # An adult student is their own parent.
    if preset is MY_MUSIC_STAFF and not guardians and (email := values.email("student_email")):
        guardians = [Guardian(1, first, last, email, values.text("student_phone", max_length=32))]
    if not guardians and "guardian1_email" not in values.errors:
        values.errors["guardian1_email"] = "Required: the email of the family's first guardian."
    if preset is MY_MUSIC_STAFF:
        family_id = f"mms:{guardians[0].email}" if guardians else ""
        student_id = values.text("student_id", max_length=100) or (
            f"mms:{first} {last}:{birthday}".lower() if birthday else ""
        )
    else:
        family_id = values.text("family_id", required=True, max_length=100)
        student_id = values.text("student_id", required=True, max_length=100)
    family_name = values.text("family_name") or (
        f"{guardians[0].last_name or last} family" if guardians else f"{last} family"
    )
    family = {
        "name": family_name,
        "street": values.text("street"),
        "city": values.text("city", max_length=100),
        "province": values.text("province", max_length=2).upper(),
        "postal_code": values.text("postal_code", max_length=10).upper(),
    }
    lesson = _lesson(values, today=today)
    if lesson and status == Student.Status.WITHDRAWN:
        values.errors["status"] = "An inactive student has no weekly lesson: leave the lesson columns empty."
    return StudentValues(
        student_id, first, last, birthday, instrument, status, family_id, family, guardians, lesson, values.errors
    )


class _Outcome:
    """What a row did: new when it created anything, else updated when it changed anything, else unchanged."""

    def __init__(self):
        self.created = self.changed = False

    def note(self, *, created: bool = False, changed: bool = False) -> None:
        self.created |= created
        self.changed |= changed

    @property
    def value(self) -> str:
        return NEW if self.created else UPDATED if self.changed else UNCHANGED


def _family(data: StudentValues, *, actor, outcome: _Outcome) -> Family:
    family = Family.objects.filter(external_id=data.family_id).first()
    if family is None:
        outcome.note(created=True)
        return family_create(actor=actor, external_id=data.family_id, **data.family)
    # An empty cell keeps what the school has (My Music Staff's export has no city, for one).
    changed = {name: value for name, value in data.family.items() if value and getattr(family, name) != value}
    if changed:
        outcome.note(changed=True)
        family = family_update(actor=actor, family=family, **changed)
    return family


def _guardian_add(guardian: Guardian, *, family: Family, actor, outcome: _Outcome) -> None:
    user = User.objects.filter(email__iexact=guardian.email).first()
    if user is None:
        outcome.note(created=True)
        parent_create(
            actor=actor,
            family=family,
            email=guardian.email,
            first_name=guardian.first_name,
            last_name=guardian.last_name,
            phone=guardian.phone,
        )
    elif user.family_id != family.pk:
        whose = f"a parent of {user.family}" if user.family_id else f"a {user.get_role_display().lower()}'s account"
        raise RowError(f"guardian{guardian.number}_email", f"{guardian.email} is already {whose}.")


@dataclass
class _Known:
    """What every row looks up, found once per run: the teachers by how the rows name them, and the instruments
    the school had before the run. What a row creates is not kept here: its savepoint may roll it back."""

    instruments: dict[str, Instrument]
    teachers: dict[str, Teacher] = field(default_factory=dict)

    @classmethod
    def before_run(cls) -> "_Known":
        return cls(instruments={instrument.name.lower(): instrument for instrument in Instrument.objects.all()})


def _instrument(name: str, *, known: _Known, outcome: _Outcome) -> Instrument:
    if instrument := known.instruments.get(name.lower()) or Instrument.objects.filter(name__iexact=name).first():
        return instrument
    outcome.note(created=True)
    return instrument_create(name=name)


def _teacher(text: str, *, known: _Known) -> Teacher:
    if text not in known.teachers:
        known.teachers[text] = teacher_find(text)
    return known.teachers[text]


def teacher_find(text: str) -> Teacher:
    """A teacher named in a row: by email, by the teacher sheet's id, or by full name when only one has it."""
    teachers = Teacher.objects.select_related("user")
    if found := teachers.filter(user__email__iexact=text).first() or teachers.filter(external_id=text).first():
        return found
    first, _, last = text.rpartition(" ")
    by_name = list(teachers.filter(user__first_name__iexact=first.strip(), user__last_name__iexact=last)[:2])
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise RowError("teacher", f"Two teachers are called {text}: give the teacher's email.")
    raise RowError("teacher", f"No teacher {text}: import the teachers first, or give a teacher's email.")


def _student(
    data: StudentValues, *, family: Family, teacher: Teacher | None, actor, known: _Known, outcome: _Outcome
) -> tuple[Student, bool]:
    """The row's child, and whether the row created them."""
    fields = {
        "first_name": data.first_name,
        "last_name": data.last_name,
        "date_of_birth": data.birthday,
        "instrument": _instrument(data.instrument, known=known, outcome=outcome),
        "status": data.status,
    }
    if teacher is not None:
        fields["teacher"] = teacher
    student = Student.objects.filter(external_id=data.student_id).first()
    if student is None:
        outcome.note(created=True)
        return student_create(actor=actor, external_id=data.student_id, family=family, **fields), True
    # An import never moves a child: a file that puts one in another family is more likely wrong than the school.
    if student.family_id != family.pk:
        raise RowError("family_id", f"Student {data.student_id} belongs to another family: {student.family}.")
    changed = {name: value for name, value in fields.items() if getattr(student, name) != value}
    if changed:
        outcome.note(changed=True)
        student = student_update(actor=actor, student=student, **changed)
    return student, False


def _weekly_lesson(
    lesson: WeeklyTime, *, student: Student, student_is_new: bool, teacher: Teacher, outcome: _Outcome
) -> None:
    standing = [] if student_is_new else list(student.weekly_lessons.filter(ended_on__isnull=True))
    same = [
        w
        for w in standing
        if (w.teacher_id, w.weekday, w.start_time, w.minutes)
        == (teacher.pk, lesson.weekday, lesson.start_time, lesson.minutes)
    ]
    if same:
        return
    if standing:
        raise RowError(
            "lesson_time",
            f"{student} already has a weekly lesson ({standing[0]}): change it on the weekly lesson's page.",
        )
    outcome.note(created=True)
    weekly_lesson_book(
        student=student,
        teacher=teacher,
        weekday=lesson.weekday,
        start_time=lesson.start_time,
        minutes=lesson.minutes,
        starts_on=lesson.starts_on,
    )


def _student_row(row: Row, *, preset: Preset, actor, today: date, known: _Known) -> RowResult:
    data = student_values(row, preset=preset, today=today)
    summary = f"{data.first_name} {data.last_name}".strip()
    if data.errors:
        return _failed(row, preset, summary, data.errors)
    outcome = _Outcome()
    with transaction.atomic():
        family = _family(data, actor=actor, outcome=outcome)
        for guardian in data.guardians:
            _guardian_add(guardian, family=family, actor=actor, outcome=outcome)
        teacher = _teacher(data.lesson.teacher, known=known) if data.lesson else None
        student, student_is_new = _student(
            data, family=family, teacher=teacher, actor=actor, known=known, outcome=outcome
        )
        if data.lesson:
            _weekly_lesson(
                data.lesson, student=student, student_is_new=student_is_new, teacher=teacher, outcome=outcome
            )
    summary = f"{summary}, {family}"
    if data.lesson:
        summary += f"; {data.lesson.start_time:%H:%M} weekly with {teacher}"
    return RowResult(row.number, outcome.value, summary)


def _windows(values: Values) -> list[tuple[int, time, time]]:
    """“Mon 15:00-20:00; Sat 09:00-13:00” as (weekday, start, end)."""
    windows = []
    for part in filter(None, (p.strip() for p in values.text("availability", max_length=1000).split(";"))):
        day, _, span = part.partition(" ")
        start, _, end = span.replace("–", "-").partition("-")
        window = Values({"day": day, "start": start.strip(), "end": end.strip()})
        weekday, start_time, end_time = window.weekday("day"), window.clock("start"), window.clock("end")
        if window.errors or not (start_time and end_time) or end_time <= start_time:
            values.errors["availability"] = f"“{part}” is not a weekly window: write e.g. Mon 15:00-20:00."
            return []
        windows.append((weekday, start_time, end_time))
    return windows


def _teacher_row(row: Row, *, preset: Preset, actor, today: date, known: _Known) -> RowResult:
    values = Values(row.values)
    teacher_id = values.text("teacher_id", required=True, max_length=100)
    first, last = (
        values.text("first_name", required=True, max_length=150),
        values.text("last_name", required=True, max_length=150),
    )
    email = values.email("email", required=True)
    names = [n.strip() for n in values.text("instruments", required=True).replace(",", ";").split(";") if n.strip()]
    windows = _windows(values)
    summary = f"{first} {last}".strip()
    if values.errors:
        return _failed(row, preset, summary, values.errors)
    outcome = _Outcome()
    with transaction.atomic():
        instruments = [_instrument(name, known=known, outcome=outcome) for name in names]
        teacher = Teacher.objects.filter(external_id=teacher_id).first()
        if teacher is None:
            user = User.objects.filter(email__iexact=email).first()
            if user is not None:
                raise RowError("email", f"{email} already has an account ({user}, {user.get_role_display()}).")
            user = staff_create(actor=actor, email=email, first_name=first, last_name=last, role=User.Role.TEACHER)
            teacher = teacher_create(user=user, external_id=teacher_id, instruments=instruments)
            outcome.note(created=True)
        elif set(teacher.instruments.all()) != set(instruments):
            teacher = teacher_update(teacher=teacher, instruments=instruments)
            outcome.note(changed=True)
        # The import adds the windows it lists; one the school added since stays.
        have = set(WeeklyAvailability.objects.filter(teacher=teacher).values_list("weekday", "start_time", "end_time"))
        for weekday, start_time, end_time in windows:
            if (weekday, start_time, end_time) not in have:
                availability_create(teacher=teacher, weekday=weekday, start_time=start_time, end_time=end_time)
                outcome.note(changed=True)
    return RowResult(row.number, outcome.value, f"{summary}, {', '.join(names)}")


def _failed(row: Row, preset: Preset, summary: str, errors: dict[str, str]) -> RowResult:
    return RowResult(
        row.number, FAILED, summary, tuple((preset.header_of(name), message) for name, message in errors.items())
    )


def _refusal(error: Exception) -> dict[str, str]:
    """A service's refusal as messages under the row's value names."""
    if isinstance(error, RowError):
        return {error.name: error.message}
    if isinstance(error, LESSON_ERRORS):
        return {"lesson_time": error.message}
    if isinstance(error, ValidationError):
        return {MODEL_FIELD_VALUES.get(name, name): " ".join(messages) for name, messages in error.message_dict.items()}
    if isinstance(error, DomainError):
        if error.fields:
            return {MODEL_FIELD_VALUES.get(name, name): " ".join(msgs) for name, msgs in error.fields.items()}
        return {"row": error.message}
    return {"row": "Another record already holds this row's id or email."}  # IntegrityError


def _row(row: Row, *, preset: Preset, actor, today: date, known: _Known) -> RowResult:
    write = _teacher_row if preset is TEACHERS else _student_row
    try:
        return write(row, preset=preset, actor=actor, today=today, known=known)
    except (RowError, DomainError, ValidationError, IntegrityError) as error:
        name = row.values.get("first_name") or ""
        return _failed(row, preset, f"{name} {row.values.get('last_name') or ''}".strip(), _refusal(error))


def school_import_run(*, rows: Rows, actor, commit: bool) -> ImportReport:
    """Try every row; keep them all only when `commit` and no row failed. A dry run (`commit=False`) writes, reads
    its own writes (two rows of one file clash as they would for real) and rolls back."""
    today = school_today()
    with transaction.atomic(durable=True):
        known = _Known.before_run()
        results = tuple(_row(row, preset=rows.preset, actor=actor, today=today, known=known) for row in rows.rows)
        committed = commit and not any(result.outcome == FAILED for result in results)
        if not committed:
            transaction.set_rollback(True)
    return ImportReport(
        preset=rows.preset, rows=results, unknown_headers=tuple(rows.unknown_headers), committed=committed
    )
