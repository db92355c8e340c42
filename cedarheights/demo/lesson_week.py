"""The demo school's lesson week (issue 15), told through the services every user goes through: lessons taught
and marked, teachers' notes the families read, a family's cancellation with notice and the make-up it booked, a
credit about to expire, a late cancellation and a no-show (whose fee waits for the owner), a teacher's cancellation
awaiting the owner (its credit held while the family's tuition is unpaid), a teacher's make-up time, and a
teacher's lessons still to mark. Each part looks for what it made first, so seeding again changes nothing."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from enrollment.makeups import lesson_cancel_by_family, makeup_book, makeup_slots_offer
from enrollment.models import MakeupCredit
from scheduling.makeup_blocks import makeup_block_create
from scheduling.models import Lesson, MakeupBlock, Student, Teacher
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set, lesson_teacher_cancel, lesson_update

# Amelia Hart has not marked her last week yet: her lessons of the last seven days stay unmarked.
UNMARKED_TEACHER = "amelia.hart@cedarheights.test"
UNMARKED_DAYS = 7
NOTES = {
    "Ava": "Lovely work on the C major scale. This week: hands together, slowly, 10 minutes a day.",
    "Leo": "Barre chords are coming along. Practise the F shape with the metronome at 60.",
    "Chloé": "Great sight-reading today! Keep going with pages 12–13 of the method book.",
    "Ada": "Solid groove on the walking bass line. Next: add the chromatic approach notes.",
    "Ewan": "We started the audition piece. Learn bars 1–16 for next Friday.",
    "Sofia": "Sofia played her first duet! Please practise 'Hot Cross Buns' with both hands.",
    "Wei": "Good progress on the nocturne; watch the pedal changes in bar 9.",
}


def _student(first_name: str, last_name: str) -> Student:
    return Student.objects.select_related("family", "teacher__user").get(first_name=first_name, last_name=last_name)


def _lessons(student: Student):
    return Lesson.objects.filter(student=student, kind=Lesson.Kind.REGULAR).order_by("start_at")


def lessons_taught_mark(*, today: date) -> None:
    """Every lesson over is marked attended by the school, except the unmarked teacher's last week."""
    now = timezone.now()
    unmarked_since = now - timedelta(days=UNMARKED_DAYS)
    over = Lesson.objects.filter(outcome="", end_at__lt=now).exclude(
        teacher__user__email=UNMARKED_TEACHER, start_at__gte=unmarked_since
    )
    for lesson in over.order_by("start_at"):
        lesson_outcome_set(lesson=lesson, outcome=Outcome.ATTENDED, actor=None)


def teachers_notes_write() -> None:
    """Each child's latest taught lesson carries a note from the teacher to the family."""
    for first_name, note in NOTES.items():
        latest = (
            Lesson.objects.filter(student__first_name=first_name, outcome=Outcome.ATTENDED)
            .order_by("-start_at")
            .first()
        )
        if latest is not None and not latest.family_note:
            lesson_update(lesson=latest, family_note=note)


def makeup_story() -> None:
    """The Nguyens cancel Ava's lesson after next with notice, and book its make-up with the credit."""
    ava = _student("Ava", "Nguyen")
    if MakeupCredit.objects.filter(enrollment__student=ava, origin=MakeupCredit.Origin.NOTICE).exists():
        return
    parent = User.objects.get(email="linh.nguyen@example.com")
    lesson = _lessons(ava).filter(outcome="", start_at__gt=timezone.now() + timedelta(days=8)).first()
    if lesson is None:
        return
    lesson_cancel_by_family(lesson=lesson, actor=parent, reason="Grandparents visiting")
    credit = MakeupCredit.objects.get(missed_lesson=lesson)
    if offers := makeup_slots_offer(credit=credit):
        offer = offers[len(offers) // 3]  # not the very first: a time a parent would pick
        makeup_book(credit=credit, teacher=offer.teacher, start_at=offer.start_at, actor=parent)


def credit_expiring_story(*, today: date) -> None:
    """Chloé missed a lesson with notice about seven weeks ago: its credit expires within the fortnight."""
    chloe = _student("Chloé", "Tremblay")
    missed = _lessons(chloe).filter(start_at__date__lte=today - timedelta(days=48)).last()
    if missed is None or missed.outcome == Outcome.CANCELLED_WITH_NOTICE:
        return
    lesson_outcome_set(lesson=missed, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None, reason="Family holiday")


def missed_lessons_story(*, today: date) -> None:
    """Ada cancelled last week's lesson too late (no credit); Sofia did not come two weeks ago (no-show): on her
    per-lesson plan the school's no-show fee waits in "Pending fees" for the owner."""
    ada = _lessons(_student("Ada", "Okonkwo")).filter(start_at__date__lt=today).last()
    if ada is not None and ada.outcome != Outcome.LATE_CANCEL:
        lesson_outcome_set(lesson=ada, outcome=Outcome.LATE_CANCEL, actor=None, reason="Called an hour before")
    sofia = _lessons(_student("Sofia", "Rossi")).filter(start_at__date__lt=today - timedelta(days=10)).last()
    if sofia is not None and sofia.outcome != Outcome.NO_SHOW:
        lesson_outcome_set(lesson=sofia, outcome=Outcome.NO_SHOW, actor=None)


def fees_turn_on() -> None:
    """The demo school charges no-show and late-cancellation fees on its per-lesson plan."""
    school = school_settings_get()
    if not school.lesson_fees_enabled:
        school_settings_update(school_settings=school, lesson_fees_enabled=True)


def makeup_time_publish(*, today: date) -> None:
    """Priya Raman opens Saturday morning of next week for make-ups."""
    teacher = Teacher.objects.get(user__email="priya.raman@cedarheights.test")
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 + 7)
    zone = school_settings_get().zone
    start = datetime.combine(saturday, time(10), tzinfo=zone)
    if not MakeupBlock.objects.filter(teacher=teacher, start_at=start).exists():
        makeup_block_create(teacher=teacher, start_at=start, end_at=start + timedelta(hours=2))


def teacher_cancellation_story() -> None:
    """Dev Okafor cannot teach Ada's next lesson: the credit stands until the owner sends a substitute."""
    ada = _student("Ada", "Okonkwo")
    if _lessons(ada).filter(outcome=Outcome.TEACHER_CANCELLED).exists():
        return
    lesson = _lessons(ada).filter(outcome="", start_at__gt=timezone.now() + timedelta(days=1)).first()
    if lesson is not None:
        teacher = User.objects.get(email="dev.okafor@cedarheights.test")
        lesson_teacher_cancel(lesson=lesson, actor=teacher, reason="Playing a concert out of town")


def lesson_week_tell(*, today: date) -> None:
    fees_turn_on()
    makeup_time_publish(today=today)
    # The missed lessons first, then the rest of the past marked taught: each lesson's outcome recorded once.
    credit_expiring_story(today=today)
    missed_lessons_story(today=today)
    lessons_taught_mark(today=today)
    teachers_notes_write()
    makeup_story()
    teacher_cancellation_story()
