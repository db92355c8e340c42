"""The teacher's pages (`/teach/`): their week with one-tap attendance, a lesson (notes, cancel), their students,
their make-up blocks, their calendar link. For teachers only: anyone else gets a 404, and so does another teacher's
lesson or block."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from cedarheights.errors import DomainError
from cedarheights.roles import is_teacher
from cedarheights.selectors import school_settings_get
from cedarheights.services import audit_page_read, audit_read
from scheduling.calendar_pages import calendar_link_page
from scheduling.forms import AttendanceForm, LessonNotesForm, MakeupBlockForm, TeacherCancelForm
from scheduling.makeup_blocks import makeup_block_create, makeup_block_delete
from scheduling.models import CalendarFeed, Lesson, Student, Teacher
from scheduling.selectors import (
    makeup_blocks_upcoming,
    makeup_blocks_visible_to,
    teacher_lesson_get,
    teacher_students,
    teacher_week,
)
from scheduling.services import lesson_outcome_set, lesson_teacher_cancel, lesson_update


def _teacher(request) -> Teacher:
    if not is_teacher(request.user):
        raise Http404("These pages are for the school's teachers.")
    return request.user.teacher


def _lesson(request, lesson_id: int) -> Lesson:
    lesson = teacher_lesson_get(teacher=_teacher(request), lesson_id=lesson_id)
    if lesson is None:
        raise Http404("No such lesson of yours.")
    return lesson


def _back(request) -> str:
    """Where a one-tap form came from (its `next`), if it is one of our pages; else the teacher's week."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("teach-home")


@login_required
def teach_home(request):
    week = teacher_week(teacher=_teacher(request))
    audit_page_read(actor=request.user, model=Lesson, shown=week.lessons(), request=request)
    return render(request, "scheduling/teach/home.html", {"week": week, "now": timezone.now()})


@login_required
@require_POST
def lesson_mark(request, lesson_id: int):
    """One tap: attended, no-show, or the mark taken back, as scheduling/transitions.py allows a teacher."""
    lesson = _lesson(request, lesson_id)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose attended, no-show or undo.")
        return redirect(_back(request))
    try:
        lesson = lesson_outcome_set(lesson=lesson, outcome=form.outcome, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{lesson.student}: {error.message}")
    else:
        marked = lesson.get_outcome_display().lower() if lesson.outcome else "still to mark"
        messages.success(request, f"{lesson.student}, {timezone.localtime(lesson.start_at):%a %-d %b %H:%M}: {marked}.")
    return redirect(_back(request))


@login_required
def lesson_page(request, lesson_id: int):
    """The lesson, its outcome and its one-tap marks, and the notes: the family's and the teacher's own."""
    lesson = _lesson(request, lesson_id)
    form = LessonNotesForm(request.POST or None, initial={"family_note": lesson.family_note, "notes": lesson.notes})
    if request.method == "POST" and form.is_valid():
        try:
            lesson_update(lesson=lesson, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The notes are saved.")
            return redirect("teach-lesson", lesson_id=lesson.pk)
    audit_read(actor=request.user, obj=lesson, request=request)
    return render(request, "scheduling/teach/lesson.html", {"lesson": lesson, "form": form, "now": timezone.now()})


@login_required
def lesson_cancel(request, lesson_id: int):
    """A teacher cancels a lesson to come, with a reason: the family and the school are told."""
    lesson = _lesson(request, lesson_id)
    form = TeacherCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lesson_teacher_cancel(lesson=lesson, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error("reason" if "reason" in error.fields else None, error.message)
        else:
            messages.success(request, f"{lesson.student}'s lesson is cancelled; the family and the school are told.")
            return redirect("teach-home")
    audit_read(actor=request.user, obj=lesson, request=request)
    return render(request, "scheduling/teach/cancel.html", {"lesson": lesson, "form": form})


@login_required
def students_page(request):
    students = list(teacher_students(teacher=_teacher(request)))
    audit_page_read(actor=request.user, model=Student, shown=students, request=request)
    return render(request, "scheduling/teach/students.html", {"students": students})


@login_required
def makeup_blocks_page(request):
    """The teacher's make-up blocks to come, and a form to add one (a local date, from, to)."""
    teacher = _teacher(request)
    form = MakeupBlockForm(request.POST or None, zone=school_settings_get().zone)
    if request.method == "POST" and form.is_valid():
        try:
            block = makeup_block_create(
                teacher=teacher, start_at=form.cleaned_data["start_at"], end_at=form.cleaned_data["end_at"]
            )
        except DomainError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Make-up time added: {timezone.localtime(block.start_at):%A %-d %B, %H:%M}.")
            return redirect("teach-makeup-blocks")
    blocks = makeup_blocks_upcoming(teacher=teacher)
    return render(request, "scheduling/teach/makeup_blocks.html", {"blocks": blocks, "form": form})


@login_required
@require_POST
def makeup_block_remove(request, block_id: int):
    teacher = _teacher(request)
    block = makeup_blocks_visible_to(request.user).filter(teacher=teacher, pk=block_id).first()
    if block is None:
        raise Http404("No such make-up block of yours.")
    try:
        makeup_block_delete(block=block)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Make-up time removed: {timezone.localtime(block.start_at):%A %-d %B, %H:%M}.")
    return redirect("teach-makeup-blocks")


@login_required
def calendar_page(request):
    """The teacher's calendar link: their lessons in their calendar app."""
    _teacher(request)
    return calendar_link_page(request, scope=CalendarFeed.Scope.TEACHER, template="scheduling/teach/calendar.html")
