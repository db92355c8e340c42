from django.contrib import admin, messages
from django.forms.models import model_to_dict
from django.http import HttpResponseRedirect

from cedarheights.errors import DomainError
from cedarheights.models import AuditEvent, EmailLog, PipelineRun, SchoolSettings, StepRun
from cedarheights.pipeline import step_title
from cedarheights.selectors import school_settings_get
from cedarheights.services import audit_record, school_settings_update


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the system writes: the owner reads them, nobody edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(admin.ModelAdmin):
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
    ]

    def has_add_permission(self, request):
        return not SchoolSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return HttpResponseRedirect(f"{school_settings_get().pk}/change/")

    def save_model(self, request, obj, form, change):
        school_settings_update(school_settings=obj, **{name: form.cleaned_data[name] for name in form.changed_data})


@admin.register(EmailLog)
class EmailLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "template", "subject", "status", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["recipient", "subject"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in EmailLog._meta.fields]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    list_select_related = ["actor", "object_type"]
    search_fields = ["object_repr", "actor__email"]
    date_hierarchy = "at"


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
    list_display = ["started_at", "pipeline", "reference", "status", "failed", "duration"]
    list_filter = ["pipeline", "status"]
    search_fields = ["reference", "error"]
    date_hierarchy = "started_at"
    fields = ["pipeline", "reference", "status", "failed", "error", "started_at", "duration", "note"]
    readonly_fields = fields
    inlines = [StepRunInline]

    @admin.display(description="Failed step", ordering="failed_step")
    def failed(self, run: PipelineRun) -> str:
        return step_title(run.failed_step)

    @admin.display(description="Duration", ordering="duration_ms")
    def duration(self, run: PipelineRun) -> str:
        return duration_shown(run.duration_ms)
