from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.forms import AdminPasswordChangeForm
from accounts.models import ConsentRecord, Family, User
from cedarheights.admin import AuditedAdmin, ReadAuditedAdmin


@admin.register(User)
class UserAdmin(ReadAuditedAdmin, AuditedAdmin, DjangoUserAdmin):
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
class FamilyAdmin(ReadAuditedAdmin, AuditedAdmin):
    """A family's record: its address, parents and consents. The page the owner sees adds the family's students
    and billing (cedarheights/admin_pages.py puts the parts of the apps above together)."""

    list_display = ["name", "city", "parent_emails", "created_at"]
    search_fields = ["name", "parents__email", "parents__last_name"]
    list_filter = ["province", "city"]
    inlines = [ParentInline, ConsentInline]
    fieldsets = [
        (None, {"fields": ["name"]}),
        ("Address", {"fields": ["street", "city", "province", "postal_code"]}),
        ("Emergency contact", {"fields": ["emergency_contact_name", "emergency_contact_phone"]}),
        ("Notes", {"fields": ["notes"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parents")

    @admin.display(description="parents")
    def parent_emails(self, family: Family) -> str:
        return ", ".join(parent.email for parent in family.parents.all())


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadAuditedAdmin, AuditedAdmin):
    list_display = ["family", "purpose", "policy_version", "given_by", "given_at", "withdrawn_at"]
    list_filter = ["purpose", "policy_version"]
    list_select_related = ["family", "given_by"]
    search_fields = ["family__name"]
    autocomplete_fields = ["family", "given_by"]
    date_hierarchy = "given_at"
