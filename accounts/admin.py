from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponse

from accounts.breach_notices import breach_commissioner_notice_draft, breach_people_notice_draft
from accounts.breach_register import breach_register_csv
from accounts.forms import AdminPasswordChangeForm
from accounts.models import Breach, ConsentRecord, Family, User
from cedarheights.admin import AuditedAdmin
from cedarheights.selectors import school_today


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    ordering = ["last_name", "first_name", "email"]
    list_display = ["email", "first_name", "last_name", "role", "family", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    list_select_related = ["family"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    autocomplete_fields = ["family"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "phone", "role", "family"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "first_name", "last_name", "role", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    change_password_form = AdminPasswordChangeForm


class ParentInline(admin.TabularInline):
    model = User
    fields = ["email", "first_name", "last_name", "phone"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name = "parent"
    verbose_name_plural = "parents"

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConsentInline(admin.TabularInline):
    model = ConsentRecord
    fields = ["purpose", "policy_version", "given_by", "given_at", "withdrawn_at"]
    autocomplete_fields = ["given_by"]
    extra = 0


@admin.register(Family)
class FamilyAdmin(AuditedAdmin):
    """A family's record: its address, parents and consents. The page the owner sees adds the family's students
    and billing (cedarheights/admin_pages.py puts the parts of the apps above together)."""

    list_display = ["name", "city", "parent_emails", "created_at"]
    search_fields = ["name", "parents__email", "parents__last_name"]
    list_filter = [("anonymised_at", admin.EmptyFieldListFilter), "province", "city"]
    inlines = [ParentInline, ConsentInline]
    fieldsets = [
        (None, {"fields": ["name", "anonymised_at"]}),
        ("Address", {"fields": ["street", "city", "province", "postal_code"]}),
        ("Emergency contact", {"fields": ["emergency_contact_name", "emergency_contact_phone"]}),
        ("Notes", {"fields": ["notes"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parents")

    def get_readonly_fields(self, request, obj=None):
        # Written only by the retention job (accounts.retention.family_anonymise); a page that extends this one
        # shows it too.
        return [*super().get_readonly_fields(request, obj), "anonymised_at"]

    @admin.display(description="parents")
    def parent_emails(self, family: Family) -> str:
        return ", ".join(parent.email for parent in family.parents.all())


@admin.register(ConsentRecord)
class ConsentRecordAdmin(AuditedAdmin):
    list_display = ["family", "purpose", "policy_version", "given_by", "given_at", "withdrawn_at"]
    list_filter = ["purpose", "policy_version"]
    list_select_related = ["family", "given_by"]
    search_fields = ["family__name"]
    autocomplete_fields = ["family", "given_by"]
    date_hierarchy = "given_at"


class BreachForm(forms.ModelForm):
    """A recorded breach's notices start as drafts from the templates, filled in from the record: the owner edits a
    draft, then records the day it was sent."""

    class Meta:
        model = Breach
        fields = [
            "summary",
            "circumstances",
            "occurred_on",
            "occurred_until",
            "discovered_on",
            "contained_on",
            "information_involved",
            "people_involved",
            "affected_families",
            "people_affected_estimate",
            "sensitivity",
            "sensitivity_factors",
            "probability",
            "probability_factors",
            "actions_taken",
            "commissioner_notified_on",
            "commissioner_notice",
            "people_notified_on",
            "people_notice",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            if not self.instance.commissioner_notice:
                self.initial["commissioner_notice"] = breach_commissioner_notice_draft(breach=self.instance)
            if not self.instance.people_notice:
                self.initial["people_notice"] = breach_people_notice_draft(breach=self.instance)


@admin.register(Breach)
class BreachAdmin(admin.ModelAdmin):
    """The register of breaches of security safeguards (owner only): every breach, whatever its risk, kept 24 months
    from its discovery at least."""

    form = BreachForm
    list_display = [
        "summary",
        "discovered_on",
        "people_affected_estimate",
        "real_risk",
        "commissioner_notified_on",
        "people_notified_on",
    ]
    list_filter = ["sensitivity", "probability"]
    search_fields = ["summary", "information_involved", "people_involved"]
    date_hierarchy = "discovered_on"
    autocomplete_fields = ["affected_families"]
    readonly_fields = ["real_risk", "kept_until", "recorded_by", "created_at", "updated_at"]
    actions = ["export_register_csv"]
    fieldsets = [
        (None, {"fields": ["summary", "circumstances"]}),
        ("Dates", {"fields": ["occurred_on", "occurred_until", "discovered_on", "contained_on", "kept_until"]}),
        (
            "Whose information",
            {"fields": ["information_involved", "people_involved", "affected_families", "people_affected_estimate"]},
        ),
        (
            "Real risk of significant harm",
            {"fields": ["sensitivity", "sensitivity_factors", "probability", "probability_factors", "real_risk"]},
        ),
        ("Actions taken", {"fields": ["actions_taken"]}),
        (
            "Notices",
            {
                "description": "Drafted from the templates once the breach is saved: edit the text, then record the "
                "day it was sent.",
                "fields": ["commissioner_notified_on", "commissioner_notice", "people_notified_on", "people_notice"],
            },
        ),
        ("Record", {"fields": ["recorded_by", "created_at", "updated_at"]}),
    ]

    @admin.display(description="real risk of significant harm", boolean=True)
    def real_risk(self, breach: Breach) -> bool | None:
        return breach.real_risk_of_significant_harm if breach.pk else None

    @admin.display(description="kept at least until")
    def kept_until(self, breach: Breach):
        return breach.kept_until if breach.pk else "24 months from discovery"

    def get_actions(self, request):
        # One by one, through the page that checks the 24 months: a bulk delete would meet the trigger instead.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        if obj is not None and school_today() < obj.kept_until:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Export the register (CSV)")
    def export_register_csv(self, request, queryset):
        response = HttpResponse(breach_register_csv(breaches=queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="breach-register-{school_today():%Y-%m-%d}.csv"'
        return response
