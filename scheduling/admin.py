from copy import copy
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from cedarheights.admin import (
    AuditedAdmin,
    DomainErrorAsMessageAdmin,
    ReadAuditedAdmin,
    ReadOnlyAdmin,
    domain_error_on_form,
)
from cedarheights.admin_export import AuditedExportMixin
from cedarheights.errors import DomainError
from cedarheights.selectors import school_settings_get
from cedarheights.validators import no_control_characters
from scheduling.calendar_feeds import calendar_feed_revoke
from scheduling.calendar_pages import calendar_link_page
from scheduling.closures import school_day_close, school_day_close_preview
from scheduling.models import (
    AcademicYear,
    CalendarFeed,
    Closure,
    Instrument,
    Lesson,
    Room,
    Student,
    Teacher,
    TeacherCancellation,
    Term,
    WeeklyAvailability,
    WeeklyLesson,
)
from scheduling.outcomes import CANCELLING, flags_rows
from scheduling.selectors import PENDING_FIRST, lessons_unmarked
from scheduling.services import (
    LESSON_CHANGEABLE,
    closure_create,
    closure_update,
    lesson_change,
    lesson_create,
    lesson_outcome_validate,
    lesson_slot_validate,
    lessons_cancel,
    teacher_cancellation_decide,
    term_create,
    term_dates_validate,
    term_update,
)
from scheduling.substitutes import substitutes_for
from scheduling.weekly_lessons import term_rollover, term_rollover_preview


class NamedRelatedFilter(admin.RelatedFieldListFilter):
    """A filter by teacher or term whose choices read what their names show (the teacher's user, the term's
    year) in the one query: Django's own reads it once per choice, a query per teacher or term."""

    NAMES_READ = {Teacher: ["user"], Term: ["academic_year"]}

    def field_choices(self, field, request, model_admin):
        choices = field.related_model._default_manager.select_related(*self.NAMES_READ[field.related_model])
        if ordering := self.field_admin_ordering(field, request, model_admin):
            choices = choices.order_by(*ordering)
        return [(choice.pk, str(choice)) for choice in choices]


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "teacher_count"]
    list_filter = ["active"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(teacher_total=Count("teachers"))

    @admin.display(description="teachers", ordering="teacher_total")
    def teacher_count(self, instrument: Instrument) -> int:
        return instrument.teacher_total


class AvailabilityInline(admin.TabularInline):
    model = WeeklyAvailability
    extra = 0


@admin.register(Teacher)
class TeacherAdmin(AuditedExportMixin, admin.ModelAdmin):
    list_display = ["__str__", "email", "instrument_names", "active_students", "capacity", "active"]
    list_filter = ["active", "instruments"]
    search_fields = ["user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["instruments"]
    inlines = [AvailabilityInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .prefetch_related("instruments")
            .annotate(active_total=Count("students", filter=Q(students__status=Student.Status.ACTIVE)))
        )

    @admin.display(ordering="user__email")
    def email(self, teacher: Teacher) -> str:
        return teacher.user.email

    @admin.display(description="instruments")
    def instrument_names(self, teacher: Teacher) -> str:
        return ", ".join(instrument.name for instrument in teacher.instruments.all())

    @admin.display(description="active students", ordering="active_total")
    def active_students(self, teacher: Teacher) -> int:
        return teacher.active_total


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "notes"]
    search_fields = ["name"]


class TermInline(admin.TabularInline):
    model = Term
    extra = 0
    show_change_link = True


@admin.register(AcademicYear)
class AcademicYearAdmin(admin.ModelAdmin):
    list_display = ["name", "start_date", "end_date"]
    search_fields = ["name"]
    inlines = [TermInline]


class ClosureInline(admin.TabularInline):
    model = Closure
    fields = ["reason", "start_date", "end_date", "teacher"]
    autocomplete_fields = ["teacher"]
    extra = 0


class TermForm(forms.ModelForm):
    class Meta:
        model = Term
        fields = ["academic_year", "name", "start_date", "end_date"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end:
            try:
                term_dates_validate(start_date=start, end_date=end, exclude_term_id=self.instance.pk)
            except DomainError as error:
                # On the dates (not above the form): the model's own check of the exclusion constraint then
                # skips them, so the page says it once.
                self.add_error("start_date", ValidationError(error.message, code=error.code))
        return cleaned


@admin.register(Term)
class TermAdmin(DomainErrorAsMessageAdmin):
    form = TermForm
    list_display = ["name", "academic_year", "start_date", "end_date"]
    list_filter = ["academic_year"]
    list_select_related = ["academic_year"]
    search_fields = ["name", "academic_year__name"]
    date_hierarchy = "start_date"
    inlines = [ClosureInline]
    actions = ["roll_over"]
    change_form_template = "admin/scheduling/term/change_form.html"

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if change:
            term_update(term=Term.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = term_create(**fields).pk

    def has_rollover_permission(self, request) -> bool:
        return self.has_change_permission(request) and request.user.has_perm("scheduling.add_lesson")

    @admin.action(description="Roll over weekly lessons into this term", permissions=["rollover"])
    def roll_over(self, request, queryset):
        """To the term's rollover page, which shows what would be booked before anything is."""
        terms = list(queryset[:2])
        if len(terms) != 1:
            self.message_user(request, "Choose one term to roll the weekly lessons into.", messages.WARNING)
            return None
        return redirect("admin:scheduling_term_rollover", terms[0].pk)

    def get_urls(self):
        rollover = self.admin_site.admin_view(self.rollover_view)
        return [path("<int:pk>/rollover/", rollover, name="scheduling_term_rollover"), *super().get_urls()]

    def rollover_view(self, request, pk: int):
        """The owner's rollover: first what would be booked, per weekly lesson, conflicts in red with why
        (`term_rollover_preview`); the Confirm button (a POST) books it (`term_rollover`) and says what it booked
        and which conflicts need the owner. Confirming again books nothing new."""
        if not self.has_rollover_permission(request):
            raise PermissionDenied
        term = get_object_or_404(Term.objects.select_related("academic_year"), pk=pk)
        if request.method == "POST":
            rollover = term_rollover(term=term, actor=request.user)
        else:
            rollover = term_rollover_preview(term=term)
        return render(
            request,
            "admin/scheduling/term/rollover.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Roll over weekly lessons into {term}",
                "opts": self.model._meta,
                "term": term,
                "rollover": rollover,
            },
        )


@admin.register(WeeklyLesson)
class WeeklyLessonAdmin(AuditedExportMixin, ReadAuditedAdmin, ReadOnlyAdmin):
    """The children's standing weekly times. They are made by enrollment and booked term by term by the rollover (on
    a term's page); a paused enrollment ends them."""

    list_display = ["student", "teacher", "weekday", "start_time", "minutes", "starts_on", "ended_on"]
    list_filter = [("ended_on", admin.EmptyFieldListFilter), "weekday", ("teacher", NamedRelatedFilter)]
    list_select_related = ["student", "teacher__user"]
    search_fields = ["student__first_name", "student__last_name", "teacher__user__last_name"]
    date_hierarchy = "starts_on"


class CloseDayForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="The day the school is closed.")
    reason = forms.CharField(
        max_length=200, validators=[no_control_characters], help_text="Told to the families, e.g. “Snowstorm”."
    )


@admin.register(Closure)
class ClosureAdmin(DomainErrorAsMessageAdmin):
    list_display = ["reason", "start_date", "end_date", "teacher", "term"]
    list_filter = [("term", NamedRelatedFilter), ("teacher", admin.EmptyFieldListFilter)]
    list_select_related = ["teacher__user", "term__academic_year"]
    search_fields = ["reason"]
    autocomplete_fields = ["teacher", "term"]
    date_hierarchy = "start_date"
    change_list_template = "admin/scheduling/closure/change_list.html"

    def save_model(self, request, obj, form, change):
        """Through the services: a planned closure takes its days' booked lessons off (no lessons on a closure)."""
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            closure_update(closure=obj, **fields)
        else:
            obj.pk = closure_create(**{name: form.cleaned_data[name] for name in form.fields}).pk

    def get_urls(self):
        close_day = self.admin_site.admin_view(self.close_day_view)
        return [path("close-day/", close_day, name="scheduling_closure_close_day"), *super().get_urls()]

    def close_day_view(self, request):
        """Close the school for a day (weather): the date and reason, then what it touches, then confirm."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CloseDayForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            day, reason = form.cleaned_data["day"], form.cleaned_data["reason"]
            try:
                # A confirm closes the day that was previewed: a date changed since is previewed first.
                if "confirm" in request.POST and request.POST.get("previewed") == day.isoformat():
                    closed = school_day_close(day=day, reason=reason, actor=request.user)
                    self.message_user(
                        request,
                        f"The school is closed on {day:%A %-d %B %Y}: {len(closed.lessons)} lesson(s) closed with a "
                        f"make-up credit each, {len(closed.families)} family(ies) emailed.",
                        messages.SUCCESS,
                    )
                    return redirect("admin:scheduling_closure_changelist")
                preview = school_day_close_preview(day=day)
            except DomainError as error:
                domain_error_on_form(form, error)
        return render(
            request,
            "admin/scheduling/closure/close_day.html",
            {
                **self.admin_site.each_context(request),
                "title": "Close a day (weather)",
                "form": form,
                "preview": preview,
                "zone": school_settings_get().zone,
            },
        )


def outcome_flags_table() -> str:
    """The outcome table (scheduling/outcomes.py) as the lesson form's help under its outcome."""
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td></tr>',
        flags_rows(),
    )
    return format_html(
        '<table class="outcome-flags"><caption>How the lesson ended, and what each ending means</caption>'
        '<thead><tr><th scope="col">Outcome</th><th scope="col">Delivered</th>'
        '<th scope="col">Family charged (flat / per lesson)</th><th scope="col">Teacher paid</th>'
        '<th scope="col">Make-up</th></tr></thead><tbody>{}</tbody></table>'
        "Leave empty while the lesson is still to come.",
        rows,
    )


class UnmarkedFilter(admin.SimpleListFilter):
    """The dashboard's "lessons unmarked 24 h after they ended"."""

    title = "attendance"
    parameter_name = "unmarked"

    def lookups(self, request, model_admin):
        return [("overdue", "Unmarked 24 h after it ended")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(pk__in=lessons_unmarked().values("pk"))
        return queryset


class LessonForm(forms.ModelForm):
    actor = None  # who is editing: set by LessonAdmin.get_form, so a status they may not set is a form error
    ignore_availability = forms.BooleanField(
        required=False, help_text="Book outside the teacher's weekly availability (e.g. an agreed make-up)."
    )

    class Meta:
        model = Lesson
        fields = [
            "teacher",
            "student",
            "kind",
            "start_at",
            "end_at",
            "room",
            "term",
            "outcome",
            "payment_status",
            "notes",
            "family_note",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].help_text = outcome_flags_table()

    def clean(self):
        cleaned = super().clean()
        teacher = cleaned.get("teacher") or getattr(self.instance, "teacher", None)
        student = cleaned.get("student") or getattr(self.instance, "student", None)
        start_at, end_at = cleaned.get("start_at"), cleaned.get("end_at")
        booking = cleaned.get("outcome", "") not in CANCELLING
        if booking and teacher and student and start_at and end_at:
            try:
                lesson_slot_validate(
                    teacher=teacher,
                    student=student,
                    start_at=start_at,
                    end_at=end_at,
                    room=cleaned.get("room"),
                    exclude_lesson_id=self.instance.pk,
                    check_availability=not cleaned.get("ignore_availability"),
                )
            except DomainError as error:
                raise ValidationError(error.message) from error
        self._outcome_validate(cleaned.get("outcome", ""), start_at)
        return cleaned

    def _outcome_validate(self, outcome: str, start_at) -> None:
        # The lesson as the admin will save it: booked (a new one, still to come) or moved first, then its outcome.
        lesson = copy(self.instance) if self.instance.pk else Lesson()
        lesson.start_at = start_at or lesson.start_at
        if lesson.start_at:
            try:
                lesson_outcome_validate(lesson=lesson, outcome=outcome, actor=self.actor)
            except DomainError as error:
                self.add_error("outcome", error.message)


@admin.register(Lesson)
class LessonAdmin(AuditedExportMixin, ReadAuditedAdmin, DomainErrorAsMessageAdmin):
    form = LessonForm
    list_display = ["when", "student", "teacher", "kind", "outcome", "room", "payment_status"]
    list_filter = [
        "outcome",
        UnmarkedFilter,
        "kind",
        "payment_status",
        ("teacher", NamedRelatedFilter),
        ("term", NamedRelatedFilter),
    ]
    list_select_related = ["student", "teacher__user", "room"]
    search_fields = ["student__first_name", "student__last_name", "teacher__user__last_name", "notes"]
    autocomplete_fields = ["teacher", "student", "room", "term"]
    date_hierarchy = "start_at"
    actions = ["release_lessons"]
    list_per_page = 50
    show_full_result_count = False  # "N of M" would count every lesson of every year on each page

    def changelist_view(self, request, extra_context=None):
        """The list opens on this week: what the owner looks at, and a page that stays fast with years of lessons."""
        if not request.GET:
            today = timezone.localdate()
            monday = timezone.make_aware(datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time()))
            week = {"start_at__gte": monday.isoformat(), "start_at__lt": (monday + timedelta(days=7)).isoformat()}
            return HttpResponseRedirect(f"{request.path}?{urlencode(week)}")
        return super().changelist_view(request, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        return ["teacher", "student", "cancelled_at", "cancelled_by", "cancellation_reason"] if obj else []

    @admin.display(description="When", ordering="start_at")
    def when(self, lesson: Lesson) -> str:
        start, end = timezone.localtime(lesson.start_at), timezone.localtime(lesson.end_at)
        return f"{start:%a %-d %b %Y, %H:%M}–{end:%H:%M}"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        check_availability = not data.get("ignore_availability")
        if change:
            # What the change form changed (its teacher and student are read-only there).
            changed = {name: data[name] for name in form.changed_data if name in LESSON_CHANGEABLE}
            lesson_change(lesson=obj, actor=request.user, check_availability=check_availability, **changed)
            return
        obj.pk = lesson_create(
            teacher=obj.teacher,
            student=obj.student,
            start_at=obj.start_at,
            end_at=obj.end_at,
            kind=obj.kind,
            room=obj.room,
            term=obj.term,
            payment_status=obj.payment_status,
            notes=obj.notes,
            outcome=obj.outcome,
            actor=request.user,
            check_availability=check_availability,
        ).pk

    @admin.action(description="Release selected lessons (cancelled by the school: no credit, no charge)")
    def release_lessons(self, request, queryset):
        released = lessons_cancel(lessons=queryset, actor=request.user, outcome=Lesson.Outcome.RELEASED)
        self.message_user(request, f"{released} lesson(s) released.", messages.SUCCESS)


class SubstituteForm(forms.Form):
    substitute = forms.ModelChoiceField(
        queryset=Teacher.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        help_text="Teachers of the instrument free at that time.",
    )

    def __init__(self, *args, substitutes, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["substitute"]
        # In the order given (those teaching then first), not the teachers' own.
        in_order = [When(pk=s.teacher.pk, then=Value(n)) for n, s in enumerate(substitutes)]
        field.queryset = (
            Teacher.objects.filter(pk__in=[s.teacher.pk for s in substitutes]).order_by(Case(*in_order))
            if substitutes
            else Teacher.objects.none()
        )
        outside = {s.teacher.pk for s in substitutes if not s.within_hours}
        field.label_from_instance = lambda t: f"{t} (outside their weekly hours)" if t.pk in outside else str(t)


@admin.register(TeacherCancellation)
class TeacherCancellationAdmin(ReadAuditedAdmin, ReadOnlyAdmin):
    """Teachers' cancellations: those awaiting the owner first, each decided on its page (a substitute, or the
    credit stands)."""

    list_display = ["lesson_when", "student", "teacher", "reason", "reported_at", "decision", "substitute", "decide"]
    list_filter = ["decision", ("teacher", NamedRelatedFilter)]
    list_select_related = ["lesson__student", "lesson__teacher__user", "teacher__user", "substitute__user"]
    search_fields = ["lesson__student__first_name", "lesson__student__last_name", "teacher__user__last_name"]
    ordering = [PENDING_FIRST, "-reported_at"]
    actions = ["let_credits_stand"]

    @admin.display(description="lesson", ordering="lesson__start_at")
    def lesson_when(self, cancellation: TeacherCancellation) -> str:
        return f"{timezone.localtime(cancellation.lesson.start_at):%a %-d %b %Y, %H:%M}"

    @admin.display(description="student")
    def student(self, cancellation: TeacherCancellation) -> str:
        return str(cancellation.lesson.student)

    @admin.display(description="")
    def decide(self, cancellation: TeacherCancellation) -> str:
        if cancellation.decision != TeacherCancellation.Decision.PENDING:
            return "—"
        url = reverse("admin:scheduling_teachercancellation_decide", args=[cancellation.pk])
        return format_html('<a href="{}">Assign substitute… / Let the credit stand</a>', url)

    def _decide(self, request, cancellation: TeacherCancellation, substitute: Teacher | None) -> bool:
        try:
            teacher_cancellation_decide(cancellation=cancellation, actor=request.user, substitute=substitute)
        except DomainError as error:
            self.message_user(request, f"{cancellation.lesson.student}: {error.message}", messages.ERROR)
            return False
        outcome = f"{substitute} takes the lesson" if substitute else "the family's make-up credit stands"
        self.message_user(request, f"{cancellation.lesson.student}: {outcome}.", messages.SUCCESS)
        return True

    @admin.action(description="Let the credit stand (no substitute)")
    def let_credits_stand(self, request, queryset):
        for cancellation in queryset.filter(decision=TeacherCancellation.Decision.PENDING):
            self._decide(request, cancellation, None)

    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        return [path("<int:pk>/decide/", decide, name="scheduling_teachercancellation_decide"), *super().get_urls()]

    def decide_view(self, request, pk: int):
        """One cancellation: a substitute among the teachers free then, or the credit stands."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        cancellation = get_object_or_404(
            TeacherCancellation.objects.select_related("lesson__student__instrument", "lesson__room", "teacher__user"),
            pk=pk,
        )
        substitutes = substitutes_for(lesson=cancellation.lesson)
        form = SubstituteForm(request.POST if "substitute" in request.POST else None, substitutes=substitutes)
        if request.method == "POST":
            if not request.user.has_perm("scheduling.change_teachercancellation"):
                raise PermissionDenied
            if "credit_stands" in request.POST and self._decide(request, cancellation, None):
                return redirect("admin:scheduling_teachercancellation_changelist")
            if (
                form.is_bound
                and form.is_valid()
                and self._decide(request, cancellation, form.cleaned_data["substitute"])
            ):
                return redirect("admin:scheduling_teachercancellation_changelist")
        return render(
            request,
            "admin/scheduling/teachercancellation/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{cancellation.teacher} cancelled {cancellation.lesson.student}'s lesson",
                "cancellation": cancellation,
                "form": form,
                "substitutes": substitutes,
            },
        )


@admin.register(Student)
class StudentAdmin(AuditedExportMixin, ReadAuditedAdmin, AuditedAdmin):
    list_display = ["__str__", "family", "instrument", "level", "teacher", "status", "date_of_birth"]
    list_filter = ["status", "instrument", "level", "teacher"]
    list_select_related = ["family", "instrument", "teacher__user"]
    ordering = ["last_name", "first_name", "pk"]  # the API's order, ties by id: one index reads both lists' pages
    list_per_page = 50  # as the lesson list: a page of the owner's big lists renders in half the time
    search_fields = ["first_name", "last_name", "family__name", "family__parents__email"]
    autocomplete_fields = ["family", "instrument", "teacher"]


class StudentInline(admin.TabularInline):
    model = Student
    fields = ["first_name", "last_name", "date_of_birth", "instrument", "level", "teacher", "status"]
    autocomplete_fields = ["instrument", "teacher"]
    extra = 0
    show_change_link = True


class LiveFilter(admin.SimpleListFilter):
    title = "live"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", "Live"), ("no", "Turned off or replaced")]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(revoked_at__isnull=self.value() == "yes")
        return queryset


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    """Everyone's calendar links (`/cal/<token>.ics`): who holds which, since when, and whether it still works. Only a
    hash of each link is kept, so no link can be shown here; the owner revokes links from the list, and gets their
    own whole-school link on its page (the button above the list), shown once."""

    list_display = ["holder", "kind", "subject", "made", "turned_off", "live"]
    list_filter = ["scope", LiveFilter]
    list_select_related = ["holder", "family", "teacher__user"]
    search_fields = ["holder__email", "family__name"]
    date_hierarchy = "created_at"
    fields = ["holder", "scope", "family", "teacher", "created_at", "revoked_at"]
    actions = ["revoke_selected"]
    change_list_template = "admin/scheduling/calendarfeed/change_list.html"

    @admin.display(ordering="scope")
    def kind(self, feed: CalendarFeed) -> str:
        return feed.get_scope_display()

    @admin.display(description="family or teacher")
    def subject(self, feed: CalendarFeed) -> str:
        return str(feed.family or feed.teacher or "—")

    @admin.display(ordering="created_at")
    def made(self, feed: CalendarFeed) -> str:
        return f"{timezone.localtime(feed.created_at):%-d %b %Y, %H:%M}"

    @admin.display(description="turned off", ordering="revoked_at")
    def turned_off(self, feed: CalendarFeed) -> str:
        return f"{timezone.localtime(feed.revoked_at):%-d %b %Y, %H:%M}" if feed.revoked_at else "—"

    @admin.display(description="live", boolean=True, ordering="revoked_at")
    def live(self, feed: CalendarFeed) -> bool:
        return feed.revoked_at is None

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("scheduling.change_calendarfeed")

    @admin.action(description="Revoke the selected links", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        live = list(queryset.filter(revoked_at__isnull=True))
        for feed in live:
            calendar_feed_revoke(feed=feed, actor=request.user)
        done = f"{len(live)} calendar link(s) revoked: calendars that used them get no more updates."
        if already_off := queryset.count() - len(live):
            done += f" {already_off} of those selected were already off."
        self.message_user(request, done, messages.SUCCESS)

    def get_urls(self):
        my_link = self.admin_site.admin_view(self.my_link_view)
        return [path("my-link/", my_link, name="scheduling_calendarfeed_my_link"), *super().get_urls()]

    def my_link_view(self, request):
        """The owner's own whole-school link: the portals' calendar page, in the admin."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Your whole-school calendar link",
            "opts": self.model._meta,
        }
        return calendar_link_page(
            request,
            scope=CalendarFeed.Scope.SCHOOL,
            template="admin/scheduling/calendarfeed/my_link.html",
            context=context,
        )


class FamilyStudentsAdminMixin:
    """Scheduling's part of a family's page in the admin: how many students it has (cedarheights/admin_pages.py)."""

    def get_queryset(self, request):
        # A subquery, not Count("students"): a GROUP BY over every family would also go into the list's counts and
        # its filters' choices; a subquery is left out of them and read for the page's rows only.
        students = Student.objects.filter(family=OuterRef("pk")).order_by().values("family").annotate(n=Count("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(student_total=Coalesce(Subquery(students.values("n"), output_field=IntegerField()), Value(0)))
        )

    @admin.display(description="students", ordering="student_total")
    def student_count(self, family) -> int:
        return family.student_total
