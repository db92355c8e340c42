from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from cedarheights.emails import RESENDABLE, email_resend
from cedarheights.errors import DomainError
from cedarheights.models import (
    CANCELLATION_POLICIES,
    FEE_POLICIES,
    PAYROLL_SETTINGS,
    PRIVACY_SETTINGS,
    REMINDER_SETTINGS,
    TUITION_SETTINGS,
    AuditEvent,
    EmailLog,
    PipelineRun,
    PrivacyNotice,
    SchoolSettings,
    StepRun,
)
from cedarheights.pipeline import step_title
from cedarheights.registry import registered
from cedarheights.selectors import privacy_notice_current, school_settings_get
from cedarheights.services import (
    audit_page_read,
    audit_read,
    audit_record,
    privacy_notice_draft_save,
    privacy_notice_publish,
    school_settings_update,
)


class RowCheckboxAdmin(admin.ModelAdmin):
    """A list's row checkbox as Django's own markup, written directly: rendering the checkbox widget's templates
    for each row took a fifth of a page of 100 rows."""

    def action_checkbox(self, obj) -> str:
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), obj),
        )


class ReadOnlyAdmin(RowCheckboxAdmin):
    """Records the system writes: the owner reads them, nobody edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadAuditedAdmin(RowCheckboxAdmin):
    """A family's or a child's record read here leaves an audit event: its page one, a page of the list one (the ids
    it showed). Written from what the page loads anyway: one INSERT, no other query."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = getattr(response, "context_data", None) or {}
        if request.method == "GET" and shown.get("original") is not None:
            audit_read(actor=request.user, obj=shown["original"], request=request)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            # The page's rows, read once here and kept by the queryset for the template.
            audit_page_read(actor=request.user, model=self.model, shown=changelist.result_list, request=request)
        return response


class AuditedAdmin(RowCheckboxAdmin):
    """Every change to a family's or a child's record made here leaves an audit event."""

    def save_model(self, request, obj, form, change):
        before = form.initial if change else {}
        super().save_model(request, obj, form, change)
        changes = {
            name: [str(before.get(name, "")), str(form.cleaned_data.get(name, ""))] for name in form.changed_data
        }
        audit_record(actor=request.user, action="update" if change else "create", obj=obj, changes=changes)

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="delete", obj=obj, changes={"was": _snapshot(obj)})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(actor=request.user, action="delete", obj=obj, changes={"was": _snapshot(obj)})
        super().delete_queryset(request, queryset)


def _snapshot(obj) -> dict[str, str]:
    return {name: str(value) for name, value in model_to_dict(obj).items()}


def domain_error_on_form(form, error: DomainError) -> None:
    """A service's refusal on an admin page's form, under the fields it names (or above the form), so the page
    shows it beside what was typed."""
    named = {name: problems for name, problems in error.fields.items() if name in form.fields}
    for name, problems in named.items():
        form.add_error(name, problems)
    if not named:
        form.add_error(None, error.message)


class DomainErrorAsMessageAdmin(admin.ModelAdmin):
    """A rule a service enforces at save time (a race lost after the form was checked) becomes a message, not a 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(SchoolSettings)
class SchoolSettingsAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_email", "time_zone", "minimum_age_years", "booking_horizon_days", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "contact_email", "time_zone"]}),
        ("Enrollment", {"fields": ["minimum_age_years", "demo_lesson_minutes"]}),
        (
            "Booking",
            {"fields": ["minimum_notice_hours", "booking_horizon_days", "buffer_minutes", "slot_step_minutes"]},
        ),
        ("Cancellations and make-ups", {"fields": CANCELLATION_POLICIES}),
        (
            "Lesson fees",
            {"fields": FEE_POLICIES},
        ),
        ("Reminders", {"fields": REMINDER_SETTINGS}),
        ("Tuition, discounts and withdrawals", {"fields": TUITION_SETTINGS}),
        ("Payroll", {"fields": PAYROLL_SETTINGS}),
        ("Privacy", {"fields": PRIVACY_SETTINGS}),
    ]

    def has_add_permission(self, request):
        return not SchoolSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(f"{school_settings_get().pk}/change/")

    def save_model(self, request, obj, form, change):
        school_settings_update(school_settings=obj, **{name: form.cleaned_data[name] for name in form.changed_data})


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(admin.ModelAdmin):
    """The owner writes the next version as a draft and publishes it; a published version is read, never edited
    (the page at /privacy/ shows the newest and lists the others)."""

    list_display = ["version", "title", "published_at", "created_at"]
    fields = ["version", "title", "body", "published_at"]
    actions = ["publish_selected"]

    def get_readonly_fields(self, request, obj=None):
        return ["version", "published_at"] if obj is None or obj.published_at is None else self.fields

    def has_change_permission(self, request, obj=None):
        # A published version opens read-only: what families read stays as they read it.
        return super().has_change_permission(request, obj) and (obj is None or obj.published_at is None)

    def has_add_permission(self, request):
        # One draft at a time: while one is open, it is the one to edit.
        return super().has_add_permission(request) and not PrivacyNotice.objects.filter(published_at=None).exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        """A new version starts from the one families read now."""
        current = privacy_notice_current()
        return {"title": current.title, "body": current.body} if current else {}

    def save_model(self, request, obj, form, change):
        saved = privacy_notice_draft_save(
            actor=request.user,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            draft=obj if change else None,
        )
        obj.pk, obj.version = saved.pk, saved.version

    @admin.action(description="Publish the selected draft (families read and consent to it from now on)")
    def publish_selected(self, request, queryset):
        for notice in queryset.order_by("version"):
            try:
                privacy_notice_publish(actor=request.user, notice=notice)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Version {notice.version} is published.", messages.SUCCESS)


@admin.register(EmailLog)
class EmailLogAdmin(ReadOnlyAdmin):
    """The log of every email; an unconfirmed or failed one is resent from here (the list's action, or the
    button on its page) by whoever holds "Can resend an unconfirmed or failed email" (the owner)."""

    list_display = ["created_at", "recipient", "subject", "status", "resend"]
    list_filter = ["status", "template"]
    list_select_related = ["resend_of", "resent_as"]
    search_fields = ["recipient", "subject"]
    date_hierarchy = "created_at"
    fields = [
        "recipient",
        "template",
        "subject",
        "status",
        "error",
        "resend",
        "created_at",
        "sent_at",
        "dedupe_key",
        "related_type",
        "related_id",
        "text_body",
        "html_body",
        "attachment_names",
    ]
    readonly_fields = fields
    actions = ["resend_selected"]
    change_form_template = "admin/cedarheights/emaillog/change_form.html"

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("cedarheights.resend_emaillog")

    @admin.display(description="Resend")
    def resend(self, log: EmailLog) -> str:
        links = [(_email_url(log.resend_of_id), f"Resend of #{log.resend_of_id}")] if log.resend_of_id else []
        if (resent_as := getattr(log, "resent_as", None)) is not None:
            links.append((_email_url(resent_as.pk), f"Resent as #{resent_as.pk}"))
        return format_html_join(" · ", '<a href="{}">{}</a>', links) or "—"

    @admin.display(description="Attachments")
    def attachment_names(self, log: EmailLog) -> str:
        return ", ".join(filename for filename, _, _ in log.attachments) or "—"

    @admin.action(description="Resend the selected emails (unconfirmed or failed ones)", permissions=["resend"])
    def resend_selected(self, request, queryset):
        for log in queryset.order_by("pk"):
            self._resend(request, log)

    def get_urls(self):
        resend = self.admin_site.admin_view(self.resend_view)
        return [path("<int:pk>/resend/", resend, name="cedarheights_emaillog_resend"), *super().get_urls()]

    def resend_view(self, request, pk: int):
        """The button on one email's page (a POST): resend it, then show the new email."""
        if not self.has_resend_permission(request):
            raise PermissionDenied
        log = EmailLog.objects.filter(pk=pk).first()
        if request.method != "POST" or log is None:
            return redirect("admin:cedarheights_emaillog_changelist" if log is None else _email_url(pk))
        new = self._resend(request, log)
        return redirect(_email_url(new.pk if new is not None else pk))

    def _resend(self, request, log: EmailLog) -> EmailLog | None:
        try:
            new = email_resend(email_log=log, actor=request.user)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        self.message_user(request, f"Email #{log.pk} to {log.recipient} resent as #{new.pk}.", messages.SUCCESS)
        return new

    def change_view(self, request, object_id, form_url="", extra_context=None):
        log = EmailLog.objects.filter(pk=object_id).select_related("resent_as").first() if object_id.isdigit() else None
        resendable = (
            log is not None
            and log.status in RESENDABLE
            and getattr(log, "resent_as", None) is None
            and self.has_resend_permission(request)
        )
        extra = {"resend_url": reverse("admin:cedarheights_emaillog_resend", args=[log.pk])} if resendable else {}
        if log is not None and getattr(log, "resent_as", None) is None:
            extra["what_to_do"] = WHAT_TO_DO.get(log.status, "").format(recipient=log.recipient)
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})


# What the owner does about an email that did not plainly go out, shown on its page.
WHAT_TO_DO = {
    EmailLog.Status.UNCONFIRMED: (
        "The worker stopped between sending this email and recording it, so it may or may not have reached "
        "{recipient}. It is not sent again by itself, to spare the family a second copy. Ask them, or resend it "
        "with the button above. A resent email that carries a set-password link gets a fresh one, and the earlier "
        "link stops working."
    ),
    EmailLog.Status.FAILED: (
        "The email server refused this email: nothing went out. The worker tries it again (three attempts in all); "
        "you can also resend it with the button above."
    ),
}


def _email_url(pk: int) -> str:
    return reverse("admin:cedarheights_emaillog_change", args=[pk])


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Who read or changed which family's or child's record, and when: read-only, as PostgreSQL keeps the table
    (cedarheights/admin_pages.py adds the filters by child and by family, by name). Search by request id too."""

    list_display = ["at", "actor", "action", "object_type", "object_repr", "request_id"]
    list_filter = [("actor", admin.RelatedOnlyFieldListFilter), "action", "object_type", "at"]
    list_select_related = ["actor", "object_type"]
    search_fields = ["object_repr", "actor__email", "=request_id"]
    search_help_text = "A name, the email of who did it, or a request id (X-Request-ID) exactly."
    date_hierarchy = "at"
    fields = [
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "family_id",
        "student_id",
        "request_id",
        "changes",
    ]
    readonly_fields = fields


# Each pipeline step as the owner reads it; the run record keeps the code name (the step function's).
def duration_shown(milliseconds: float) -> str:
    return f"{milliseconds:.0f} ms" if milliseconds >= 1 else "under 1 ms"


class StepRunInline(admin.TabularInline):
    model = StepRun
    fields = ["position", "step", "status", "duration", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Step")
    def step(self, step_run: StepRun) -> str:
        return step_title(step_run.name)

    @admin.display(description="Duration")
    def duration(self, step_run: StepRun) -> str:
        return duration_shown(step_run.duration_ms)


@admin.register(PipelineRun)
class PipelineRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "pipeline", "about", "status", "failed", "duration"]
    list_filter = ["pipeline", "status"]
    search_fields = ["reference", "error"]
    date_hierarchy = "started_at"
    fields = ["pipeline", "about", "reference", "status", "failed", "error", "started_at", "duration", "note"]
    readonly_fields = fields
    inlines = [StepRunInline]

    def get_changelist(self, request, **kwargs):
        return RunSubjectsChangeList

    @admin.display(description="About")
    def about(self, run: PipelineRun) -> str:
        """What the run was about, as the owner knows it (the Rossi family's subscription), linked to its page."""
        label, url = getattr(run, "subject", None) or run_subjects([run.reference]).get(run.reference, ("", ""))
        return format_html('<a href="{}">{}</a>', url, label) if url else (label or run.reference)

    @admin.display(description="Failed step", ordering="failed_step")
    def failed(self, run: PipelineRun) -> str:
        return step_title(run.failed_step)

    @admin.display(description="Duration", ordering="duration_ms")
    def duration(self, run: PipelineRun) -> str:
        return duration_shown(run.duration_ms)


class RunSubjectsChangeList(ChangeList):
    """Describes a page of runs' references with one query per kind, not one per run."""

    def get_results(self, request):
        super().get_results(request)
        subjects = run_subjects([run.reference for run in self.result_list])
        for run in self.result_list:
            run.subject = subjects.get(run.reference)


# A run's reference is "<kind>:<id>" (subscription:42). Each app says what its kinds are, as the owner reads them:
# kind -> a function from ids to {id: (label, admin URL)}, registered with `@run_subject("subscription")` in the
# app's admin module, so this admin shows the Rossi family's subscription without importing billing.
RUN_SUBJECTS: dict[str, Callable[[list[str]], dict[str, tuple[str, str]]]] = {}


def run_subject(kind: str):
    """Register how the runs about `kind` are described: `@run_subject("subscription")`."""
    return registered(RUN_SUBJECTS, kind, duplicate="Two descriptions of {key} runs")


def admin_links(queryset, ids: list[str]) -> dict[str, tuple[str, str]]:
    """{id: (the row as the owner reads it, its admin page)}: what most `run_subject` functions return."""
    meta = queryset.model._meta
    return {
        str(row.pk): (str(row), reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk]))
        for row in queryset.filter(pk__in=[int(i) for i in ids if i.isdigit()])
    }


def run_subjects(references: list[str]) -> dict[str, tuple[str, str]]:
    """{reference: (label, url)} for the references some app describes."""
    ids_by_kind: dict[str, set[str]] = {}
    for reference in references:
        kind, _, id_ = reference.partition(":")
        if kind in RUN_SUBJECTS and id_:
            ids_by_kind.setdefault(kind, set()).add(id_)
    return {
        f"{kind}:{id_}": subject
        for kind, ids in ids_by_kind.items()
        for id_, subject in RUN_SUBJECTS[kind](sorted(ids)).items()
    }
