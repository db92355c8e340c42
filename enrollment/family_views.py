"""The family's portal (`/family/`): each child's next lessons, a lesson (cancel it or reschedule it, with what
that means said first), the make-up credits and booking a make-up, the family's calendar link. Parents only: the
school's staff are sent to the back office and anyone else gets a 404, as does another family's lesson or credit."""

from datetime import date, datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_POST

from cedarheights.errors import DomainError
from cedarheights.roles import is_parent, is_school_admin
from cedarheights.selectors import school_settings_get, school_today
from enrollment import family_selectors as portal
from enrollment.consents import PHOTOS_CONSENT_TEXT, privacy_choice_make
from enrollment.family_forms import LessonCancelForm, MakeupTimeForm, OfferFilterForm, PrivacyChoiceForm
from enrollment.lifecycle.withdrawals import enrollment_withdraw, withdrawal_quote
from enrollment.makeups import cancellation_preview, lesson_cancel_by_family, lesson_reschedule_by_family, makeup_book
from enrollment.models import MakeupCredit
from scheduling.calendar_pages import calendar_link_page
from scheduling.models import CalendarFeed, Lesson

LESSONS_PER_PAGE = 20


def parent_only(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if is_school_admin(request.user):
            return redirect("admin:index")
        if not is_parent(request.user):
            raise Http404("These pages are for parents.")
        return view(request, *args, **kwargs)

    return wrapped


def _when(moment: datetime) -> str:
    return dateformat.format(timezone.localtime(moment), "l j F, g:i A")


def _offer_filters(request) -> tuple[OfferFilterForm, date | None, int | None]:
    """The make-up times' day and teacher the parent asked for (`?day=&teacher=`); what does not read is said."""
    filters = OfferFilterForm(request.GET or None)
    if not filters.is_valid():
        return filters, None, None
    return filters, filters.cleaned_data["day"], filters.cleaned_data["teacher"]


@parent_only
def family_home(request):
    home = portal.family_home(family_id=request.user.family_id)
    return render(request, "enrollment/family/home.html", {"home": home, "today": school_today()})


@parent_only
def family_lesson_list(request):
    lessons = Paginator(portal.family_lessons(family_id=request.user.family_id), LESSONS_PER_PAGE)
    return render(request, "enrollment/family/lessons.html", {"page": lessons.get_page(request.GET.get("page"))})


def _lesson_page(request, lesson_id: int, *, cancel_form=None, time_form=None):
    filters, day, _ = _offer_filters(request)
    try:
        page = portal.family_lesson_page(family_id=request.user.family_id, lesson_id=lesson_id, day=day)
    except Lesson.DoesNotExist:
        raise Http404("No such lesson.") from None
    late = bool(page.preview and page.preview.late)
    context = {
        "page": page,
        "cancel_form": cancel_form or LessonCancelForm(initial={"shown_late": late}),
        "time_form": time_form or MakeupTimeForm(),
        "filters": filters,
    }
    return render(request, "enrollment/family/lesson.html", context)


@parent_only
def family_lesson(request, lesson_id: int):
    return _lesson_page(request, lesson_id)


def _family_lesson(request, lesson_id: int) -> Lesson:
    try:
        return portal.family_lesson_get(family_id=request.user.family_id, lesson_id=lesson_id)
    except Lesson.DoesNotExist:
        raise Http404("No such lesson.") from None


def _already_decided(request, lesson: Lesson):
    """A lesson cancelled (or marked) already, by this page sent twice or by someone else: said, not done again."""
    if lesson.status == Lesson.Status.CANCELLED:
        messages.info(request, "This lesson is already cancelled.")
    else:
        messages.info(request, f"This lesson is already marked {lesson.get_outcome_display().lower()}.")
    return redirect("family-lesson", lesson_id=lesson.pk)


@parent_only
@require_POST
def family_lesson_cancel(request, lesson_id: int):
    lesson = _family_lesson(request, lesson_id)
    if lesson.outcome:
        return _already_decided(request, lesson)
    form = LessonCancelForm(request.POST)
    if form.is_valid():
        use_sick_pass = form.cleaned_data["use_sick_pass"]
        preview = cancellation_preview(lesson=lesson, use_sick_pass=use_sick_pass)
        if preview.late != form.cleaned_data["shown_late"]:
            # The notice window closed (or the lesson moved) while the page was open: say what it means now first.
            form.data = form.data.copy()
            form.data["shown_late"] = preview.late
            form.add_error(None, "What cancelling means has changed since the page opened: please read it again.")
        else:
            try:
                lesson_cancel_by_family(
                    lesson=lesson, actor=request.user, use_sick_pass=use_sick_pass, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                form.add_error("use_sick_pass" if "use_sick_pass" in error.fields else None, error.message)
            else:
                done = f"The lesson of {_when(lesson.start_at)} is cancelled."
                if preview.earns_credit:
                    done += f" You have a make-up credit to use by {preview.credit_expires_on:%-d %B %Y}."
                messages.success(request, done)
                return redirect("family-home")
    return _lesson_page(request, lesson_id, cancel_form=form)


@parent_only
@require_POST
def family_lesson_reschedule(request, lesson_id: int):
    lesson = _family_lesson(request, lesson_id)
    if lesson.outcome:
        return _already_decided(request, lesson)
    form = MakeupTimeForm(request.POST)
    if form.is_valid():
        teacher, start_at = form.cleaned_data["slot"]
        try:
            makeup = lesson_reschedule_by_family(lesson=lesson, actor=request.user, teacher=teacher, start_at=start_at)
        except DomainError as error:  # nothing was cancelled: both or neither
            form.add_error("slot", error.message)
        else:
            messages.success(request, f"Rescheduled: the make-up is on {_when(makeup.start_at)} with {teacher}.")
            return redirect("family-home")
    return _lesson_page(request, lesson_id, time_form=form)


@parent_only
def family_credits(request):
    credits = portal.family_credits(family_id=request.user.family_id)
    return render(request, "enrollment/family/credits.html", {"credits": credits})


@parent_only
def family_credit_book(request, credit_id: int):
    form = MakeupTimeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        teacher, start_at = form.cleaned_data["slot"]
        try:
            credit = portal.family_credit_get(family_id=request.user.family_id, credit_id=credit_id)
            makeup = makeup_book(credit=credit, teacher=teacher, start_at=start_at, actor=request.user)
        except MakeupCredit.DoesNotExist:
            raise Http404("No such credit.") from None
        except DomainError as error:  # taken meanwhile, or the credit cannot book: the page stays, with fresh times
            form.add_error("slot", error.message)
        else:
            messages.success(request, f"Make-up booked: {_when(makeup.start_at)} with {teacher}.")
            return redirect("family-home")
    filters, day, teacher_id = _offer_filters(request)
    try:
        page = portal.makeup_booking_page(
            family_id=request.user.family_id, credit_id=credit_id, day=day, teacher_id=teacher_id
        )
    except MakeupCredit.DoesNotExist:
        raise Http404("No such credit.") from None
    return render(request, "enrollment/family/book.html", {"page": page, "form": form, "filters": filters})


@parent_only
def family_calendar(request):
    """The family's calendar link: all the children's lessons in the parent's calendar app."""
    return calendar_link_page(request, scope=CalendarFeed.Scope.FAMILY, template="enrollment/family/calendar.html")


@parent_only
def family_withdraw(request, enrollment_id: int):
    """A parent gives notice for a child: the page says the last lesson first, a confirmation gives notice today
    (`enrollment_withdraw`, the same service the owner and the API call)."""
    enrollment = portal.family_enrollment_get(family_id=request.user.family_id, enrollment_id=enrollment_id)
    error = ""
    if request.method == "POST":
        try:
            enrollment = enrollment_withdraw(actor=request.user, enrollment=enrollment, notice_given_on=school_today())
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(
                request,
                f"Notice received: {enrollment.student.first_name}'s last lesson is on "
                f"{enrollment.ends_on:%A %-d %B %Y}.",
            )
            return redirect("family-home")
    school = school_settings_get()
    context = {
        "enrollment": enrollment,
        "quote": withdrawal_quote(enrollment=enrollment, notice_given_on=school_today()),
        "notice_days": school.withdrawal_notice_days,
        "unused": school.withdrawal_unused_lessons,
        "error": error,
    }
    return render(request, "enrollment/family/withdraw.html", context, status=409 if error else 200)


@parent_only
def family_privacy(request):
    """ "Privacy and consent": the notice the family consented to, each child's consents, the parent's news opt-in
    and reminder emails. Each choice is one POST, recorded with its time; a withdrawal stops what depends on it at
    once (a news email or a reminder already queued is not sent)."""
    form = PrivacyChoiceForm(request.POST or None, family_id=request.user.family_id)
    if request.method == "POST" and form.is_valid():
        privacy_choice_make(
            parent=request.user, choice=form.cleaned_data["choice"], student=form.cleaned_data["student"]
        )
        messages.success(request, "Your choice is saved.")
        return redirect("family-privacy")
    page = portal.family_privacy_page(parent=request.user)
    context = {"page": page, "form": form, "photos_text": PHOTOS_CONSENT_TEXT}
    return render(request, "enrollment/family/privacy.html", context)
