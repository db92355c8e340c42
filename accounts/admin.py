from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.forms import AdminPasswordChangeForm
from accounts.models import ConsentRecord, Family, User
from billing.admin import credit_view, family_balance_link, start_billing_view
from billing.models import format_cents
from billing.selectors import balance_subquery
from cedarheights.admin import AuditedAdmin
from enrollment.models import Student


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


class StudentInline(admin.TabularInline):
    model = Student
    fields = ["first_name", "last_name", "date_of_birth", "instrument", "level", "teacher", "status"]
    autocomplete_fields = ["instrument", "teacher"]
    extra = 0
    show_change_link = True


class ConsentInline(admin.TabularInline):
    model = ConsentRecord
    fields = ["purpose", "policy_version", "given_by", "given_at", "withdrawn_at"]
    autocomplete_fields = ["given_by"]
    extra = 0


@admin.register(Family)
class FamilyAdmin(AuditedAdmin):
    list_display = ["name", "city", "parent_emails", "student_count", "balance", "created_at"]
    readonly_fields = ["balance_and_ledger"]
    search_fields = ["name", "parents__email", "parents__last_name", "students__first_name", "students__last_name"]
    list_filter = ["province", "city"]
    inlines = [ParentInline, StudentInline, ConsentInline]
    fieldsets = [
        (None, {"fields": ["name"]}),
        ("Address", {"fields": ["street", "city", "province", "postal_code"]}),
        ("Emergency contact", {"fields": ["emergency_contact_name", "emergency_contact_phone"]}),
        ("Notes", {"fields": ["notes"]}),
        ("Billing", {"fields": ["balance_and_ledger"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(student_total=Count("students", distinct=True), balance_cents=balance_subquery())
            .prefetch_related("parents")
        )

    @admin.display(description="balance owed", ordering="balance_cents")
    def balance(self, family: Family) -> str:
        return format_cents(family.balance_cents, settings.SCHOOL_CURRENCY)

    @admin.display(description="balance owed")
    def balance_and_ledger(self, family: Family) -> str:
        if not family.pk:
            return "—"
        credit_url = reverse("admin:accounts_family_credit", args=[family.pk])
        start_url = reverse("admin:accounts_family_start_billing", args=[family.pk])
        return format_html(
            '{} · <a href="{}">Add a credit</a> · <a href="{}">Start billing</a>',
            family_balance_link(family),
            credit_url,
            start_url,
        )

    def get_urls(self):
        credit = self.admin_site.admin_view(lambda request, pk: credit_view(self, request, pk))
        start = self.admin_site.admin_view(lambda request, pk: start_billing_view(self, request, pk))
        return [
            path("<int:pk>/credit/", credit, name="accounts_family_credit"),
            path("<int:pk>/start-billing/", start, name="accounts_family_start_billing"),
            *super().get_urls(),
        ]

    @admin.display(description="parents")
    def parent_emails(self, family: Family) -> str:
        return ", ".join(parent.email for parent in family.parents.all())

    @admin.display(description="students", ordering="student_total")
    def student_count(self, family: Family) -> int:
        return family.student_total


@admin.register(ConsentRecord)
class ConsentRecordAdmin(AuditedAdmin):
    list_display = ["family", "purpose", "policy_version", "given_by", "given_at", "withdrawn_at"]
    list_filter = ["purpose", "policy_version"]
    list_select_related = ["family", "given_by"]
    search_fields = ["family__name"]
    autocomplete_fields = ["family", "given_by"]
    date_hierarchy = "given_at"
