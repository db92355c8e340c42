import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from cedarheights.admin import ReadAuditedAdmin, ReadOnlyAdmin, admin_links, domain_error_on_form, run_subject
from cedarheights.errors import DomainError
from cedarheights.models import PipelineRun
from cedarheights.validators import no_control_characters, record_id
from enrollment.admin_lifecycle import EnrollmentLifecycleAdminMixin
from enrollment.credits import (
    credits_with_balance,
    credits_with_last_kind,
    makeup_credit_extend,
    makeup_credit_grant,
    makeup_credit_void,
)
from enrollment.models import (
    ChildConsent,
    Enrollment,
    MakeupCredit,
    MakeupCreditEntry,
    PreferredWindow,
    TuitionPlan,
)
from enrollment.pipelines import waitlist_offer
from enrollment.selectors import makeup_credits_expiring_soon
from enrollment.views import editing_children, enrollment_forms, enrollment_forms_submit
from scheduling.models import Lesson


@admin.register(TuitionPlan)
class TuitionPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "instrument", "lesson_minutes", "interval", "price", "active"]
    list_filter = ["active", "interval", "instrument", "lesson_minutes"]
    list_select_related = ["instrument"]
    search_fields = ["name"]
    autocomplete_fields = ["instrument"]

    @admin.display(description="price", ordering="price_cents")
    def price(self, plan: TuitionPlan) -> str:
        return plan.price_display


class PreferredWindowInline(admin.TabularInline):
    model = PreferredWindow
    extra = 0


@admin.register(Enrollment)
class EnrollmentAdmin(EnrollmentLifecycleAdminMixin, ReadAuditedAdmin):
    change_list_template = "admin/enrollment/enrollment/change_list.html"
    list_per_page = 50
    actions = ["offer_slot"]
    list_display = [
        "created_at",
        "student",
        "instrument",
        "lesson_minutes",
        "tuition_plan",
        "status",
        "source",
        "teacher",
        "demo_at",
    ]
    list_filter = ["status", "source", "instrument"]
    list_select_related = ["student__teacher__user", "instrument", "tuition_plan"]
    search_fields = ["student__first_name", "student__last_name", "student__family__name"]
    autocomplete_fields = ["student", "instrument", "tuition_plan"]
    readonly_fields = ["idempotency_key", "submission_key", "demo_lesson", "pipeline_run", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [PreferredWindowInline]

    @admin.display(description="teacher", ordering="student__teacher__user__last_name")
    def teacher(self, enrollment: Enrollment):
        return enrollment.student.teacher or "—"

    def get_queryset(self, request):
        # The demo lesson's start only, read for the page's rows: joining the lessons (every lesson of the school)
        # made PostgreSQL read them all before sorting the enrollments.
        demo_start = Lesson.objects.filter(pk=OuterRef("demo_lesson_id")).values("start_at")
        return super().get_queryset(request).annotate(demo_start=Subquery(demo_start))

    @admin.display(description="demo lesson", ordering="demo_start")
    def demo_at(self, enrollment: Enrollment):
        return enrollment.demo_start or "—"

    @admin.display(description="pipeline run")
    def pipeline_run(self, enrollment: Enrollment):
        run = PipelineRun.objects.filter(
            pipeline="enrollment",
            reference=f"submission:{enrollment.submission_key}",
            status=PipelineRun.Status.SUCCEEDED,
        ).first()
        if run is None:
            return "—"
        steps = ", ".join(f"{step.name} {step.duration_ms:.1f} ms" for step in run.steps.all())
        url = reverse("admin:cedarheights_pipelinerun_change", args=[run.pk])
        return format_html('<a href="{}">{} ms</a>: {}', url, f"{run.duration_ms:.1f}", steps)

    @admin.action(description="Offer the first free slot (waitlisted only)")
    def offer_slot(self, request, queryset):
        for enrollment in queryset.filter(status=Enrollment.Status.WAITLISTED):
            try:
                result = waitlist_offer(enrollment=enrollment)
            except DomainError as error:  # offered from another page meanwhile
                self.message_user(request, error.message, messages.ERROR)
                continue
            if result.status == Enrollment.Status.ACTIVE:
                self.message_user(
                    request, f"{result.student}: demo lesson booked; the family is told.", messages.SUCCESS
                )
            else:
                self.message_user(request, f"{result.student}: still no free slot.", messages.WARNING)

    def get_urls(self):
        phone = self.admin_site.admin_view(self.enroll_by_phone)
        return [path("phone/", phone, name="enrollment_enrollment_phone"), *super().get_urls()]  # lifecycle's too

    def enroll_by_phone(self, request):
        """The owner enrolls a family on the phone: the same pipeline; the card can follow later."""
        forms = enrollment_forms(request, with_parent=True)
        if key := enrollment_forms_submit(request, forms, source=Enrollment.Source.ADMIN):
            self.message_user(request, "Enrolled. The family gets the welcome email with the lesson details.")
            return redirect(reverse("admin:enrollment_enrollment_changelist") + f"?submission_key={key}")
        parent, children, windows, details = forms
        return render(
            request,
            "admin/enrollment/phone.html",
            {
                **self.admin_site.each_context(request),
                "title": "Enroll by phone",
                "parent_form": parent,
                "children": children,
                "windows": windows,
                "details": details,
                "editing_children": editing_children(request),
            },
        )


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


def _reason() -> forms.CharField:
    return forms.CharField(max_length=200, validators=[no_control_characters], help_text="Kept in the credit's ledger.")


class CreditExtendForm(forms.Form):
    expires_on = forms.DateField(label="New expiry date", widget=_date_input())
    reason = _reason()


class CreditVoidForm(forms.Form):
    reason = _reason()


class CreditGrantForm(forms.Form):
    enrollment = forms.ModelChoiceField(queryset=Enrollment.objects.none())
    lesson_minutes = forms.TypedChoiceField(
        choices=[("", "The enrollment's own length"), *Enrollment.LessonMinutes.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Lesson length",
    )
    goodwill = forms.BooleanField(
        required=False, label="Goodwill", help_text="A goodwill credit does not count toward the term's limit."
    )
    reason = _reason()

    def __init__(self, *args, family_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Enrollments that got a place: a waitlisted or pending one has no lessons to make up.
        enrollments = Enrollment.objects.exclude(status__in=[Enrollment.Status.PENDING, Enrollment.Status.WAITLISTED])
        if family_id is not None:
            enrollments = enrollments.filter(student__family_id=family_id)
        self.fields["enrollment"].queryset = enrollments.select_related("student__family", "instrument").order_by(
            "student__family__name", "student__first_name", "pk"
        )
        self.fields["enrollment"].label_from_instance = lambda e: (
            f"{e.student} ({e.student.family}), {e.instrument} {e.lesson_minutes} min, {e.get_status_display()}"
        )


class ExpiringFilter(admin.SimpleListFilter):
    """The dashboard's "make-up credits expiring in 14 days"."""

    title = "expiry"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [("soon", "Unused, expiring within 14 days")]

    def queryset(self, request, queryset):
        if self.value() == "soon":
            return queryset.filter(pk__in=makeup_credits_expiring_soon().values("pk"))
        return queryset


class MakeupCreditEntryInline(admin.TabularInline):
    model = MakeupCreditEntry
    fields = ["sequence", "kind", "change", "balance_after", "lesson", "expires_on", "actor", "reason", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _credit_state(credit: MakeupCredit) -> str:
    if credit.balance == 1:
        return "Held until paid" if credit.held_until_paid else "Available"
    return MakeupCreditEntry.Kind(credit.last_kind).label if credit.last_kind else "—"


@admin.register(MakeupCredit)
class MakeupCreditAdmin(ReadAuditedAdmin, ReadOnlyAdmin):
    """Make-up credits, each with its ledger; written only by the credits' services (extend, void, give)."""

    list_display = [
        "family",
        "child",
        "credit_type",
        "origin",
        "state",
        "expires_on",
        "held_until_paid",
        "credit_actions",
    ]
    list_filter = [ExpiringFilter, "origin", "held_until_paid", "instrument"]
    list_select_related = ["enrollment__student__family", "instrument"]
    search_fields = [
        "enrollment__student__family__name",
        "enrollment__student__first_name",
        "enrollment__student__last_name",
    ]
    date_hierarchy = "expires_on"
    inlines = [MakeupCreditEntryInline]
    change_list_template = "admin/enrollment/makeupcredit/change_list.html"
    change_form_template = "admin/enrollment/makeupcredit/change_form.html"

    def get_queryset(self, request):
        return credits_with_last_kind(super().get_queryset(request))

    @admin.display(description="family", ordering="enrollment__student__family__name")
    def family(self, credit: MakeupCredit) -> str:
        return str(credit.enrollment.student.family)

    @admin.display(description="child", ordering="enrollment__student__first_name")
    def child(self, credit: MakeupCredit) -> str:
        return str(credit.enrollment.student)

    @admin.display(description="type")
    def credit_type(self, credit: MakeupCredit) -> str:
        return f"{credit.instrument}, {credit.lesson_minutes} min"

    @admin.display(description="balance")
    def state(self, credit: MakeupCredit) -> str:
        return _credit_state(credit)

    @admin.display(description="")
    def credit_actions(self, credit: MakeupCredit) -> str:
        if credit.balance != 1:
            return "—"
        return format_html(
            '<a href="{}">Extend…</a> · <a href="{}">Void…</a>',
            reverse("admin:enrollment_makeupcredit_extend", args=[credit.pk]),
            reverse("admin:enrollment_makeupcredit_void", args=[credit.pk]),
        )

    def get_urls(self):
        def view(method):
            return self.admin_site.admin_view(method)

        return [
            path("grant/", view(self.grant_view), name="enrollment_makeupcredit_grant"),
            path("<int:pk>/extend/", view(self.extend_view), name="enrollment_makeupcredit_extend"),
            path("<int:pk>/void/", view(self.void_view), name="enrollment_makeupcredit_void"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {}
        if record_id(object_id) is not None and credits_with_balance().filter(pk=object_id, balance=1).exists():
            extra = {
                "extend_url": reverse("admin:enrollment_makeupcredit_extend", args=[object_id]),
                "void_url": reverse("admin:enrollment_makeupcredit_void", args=[object_id]),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _form_page(self, request, form, title: str, intro: str = ""):
        return render(
            request,
            "admin/action_form.html",
            {**self.admin_site.each_context(request), "form": form, "title": title, "intro": intro},
        )

    def _credit_form_view(self, request, pk: int, form_class, verb: str, service):
        """Extend or void one credit: its form, the service, a message; a refusal is a form error."""
        if not request.user.has_perm("enrollment.change_makeupcredit"):
            raise PermissionDenied
        credit = get_object_or_404(MakeupCredit.objects.select_related("enrollment__student", "instrument"), pk=pk)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                service(credit=credit, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                domain_error_on_form(form, error)
            else:
                self.message_user(request, f"Credit {verb}: {credit}.", messages.SUCCESS)
                return redirect("admin:enrollment_makeupcredit_change", credit.pk)
        intro = f"Expires {credit.expires_on:%A %-d %B %Y}."
        return self._form_page(request, form, f"{verb.capitalize()} the {credit}", intro)

    def extend_view(self, request, pk: int):
        return self._credit_form_view(request, pk, CreditExtendForm, "extended", makeup_credit_extend)

    def void_view(self, request, pk: int):
        return self._credit_form_view(request, pk, CreditVoidForm, "voided", makeup_credit_void)

    def grant_view(self, request):
        """The owner gives a credit: it counts toward the term's limit unless marked goodwill."""
        if not request.user.has_perm("enrollment.add_makeupcredit"):
            raise PermissionDenied
        form = CreditGrantForm(request.POST or None, family_id=record_id(request.GET.get("family", "")))
        if request.method == "POST" and form.is_valid():
            try:
                credit = makeup_credit_grant(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                domain_error_on_form(form, error)
            else:
                self.message_user(request, f"Credit given: {credit}, to use by {credit.expires_on:%-d %b %Y}.")
                return redirect("admin:enrollment_makeupcredit_change", credit.pk)
        return self._form_page(request, form, "Give a make-up credit")


class FamilyCreditsAdminMixin:
    """Enrollment's part of a family's page in the admin: its children's make-up credits with their balances, and
    a link to give one (cedarheights/admin_pages.py)."""

    @admin.display(description="make-up credits")
    def makeup_credits(self, family) -> str:
        if not family.pk:
            return "—"
        credits = (
            credits_with_last_kind(MakeupCredit.objects.filter(enrollment__student__family=family))
            .select_related("enrollment__student", "instrument")
            .order_by("-expires_on", "-pk")
        )
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:enrollment_makeupcredit_change", args=[credit.pk]),
                    credit.enrollment.student,
                    f"{credit.instrument}, {credit.lesson_minutes} min",
                    credit.get_origin_display(),
                    _credit_state(credit),
                    f"{credit.expires_on:%-d %b %Y}",
                )
                for credit in credits
            ),
        )
        grant_url = reverse("admin:enrollment_makeupcredit_grant") + f"?family={family.pk}"
        return format_html(
            '<table><thead><tr><th scope="col">Child</th><th scope="col">Type</th><th scope="col">Why</th>'
            '<th scope="col">Balance</th><th scope="col">Expires</th></tr></thead><tbody>{}</tbody></table>'
            '<a href="{}">Give a make-up credit</a>',
            rows or format_html('<tr><td colspan="5">{}</td></tr>', "No make-up credit yet."),
            grant_url,
        )


@run_subject("submission")
def _submissions(keys: list[str]) -> dict[str, tuple[str, str]]:
    """An enrollment run is about one submission (one or more children): named by its children, linked to their
    enrollments. A failed run left no enrollment, so it keeps its reference."""
    children: dict[str, list[str]] = {}
    enrollments = Enrollment.objects.filter(submission_key__in=_uuids(keys)).select_related("student")
    for enrollment in enrollments.order_by("pk"):
        children.setdefault(str(enrollment.submission_key), []).append(str(enrollment.student))
    changelist = reverse("admin:enrollment_enrollment_changelist")
    return {
        key: (f"Enrollment of {', '.join(names)}", f"{changelist}?submission_key={key}")
        for key, names in children.items()
    }


@run_subject("enrollment")
def _enrollments(ids: list[str]) -> dict[str, tuple[str, str]]:
    """A waitlist offer's run is about one enrollment."""
    return admin_links(Enrollment.objects.select_related("student", "instrument"), ids)


def _uuids(keys: list[str]) -> list[uuid.UUID]:
    found = []
    for key in keys:
        try:
            found.append(uuid.UUID(key))
        except ValueError:
            continue  # not a submission's key: nothing to describe
    return found


@admin.register(ChildConsent)
class ChildConsentAdmin(ReadAuditedAdmin, ReadOnlyAdmin):
    """Each guardian's consent for a child as given (the notice version and the words shown) and withdrawn: a
    record, never edited (parents give and withdraw from the portal)."""

    list_display = ["student", "purpose", "notice", "given_by", "given_at", "withdrawn_at"]
    list_filter = ["purpose", "notice"]
    list_select_related = ["student", "notice", "given_by"]
    search_fields = ["student__first_name", "student__last_name", "student__family__name"]
    date_hierarchy = "given_at"
