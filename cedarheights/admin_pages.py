"""Admin pages that show the parts of several apps on one page: the wiring puts them together, so that no app
imports the apps above it (accounts knows nothing of students or balances)."""

from django.contrib import admin

from accounts.admin import ConsentInline, CorrectionInline, FamilyAdmin, ParentInline
from accounts.models import Family
from billing.admin import FamilyBillingAdminMixin
from enrollment.admin import FamilyCreditsAdminMixin
from scheduling.admin import FamilyStudentsAdminMixin, StudentInline


class FamilyPageAdmin(FamilyBillingAdminMixin, FamilyCreditsAdminMixin, FamilyStudentsAdminMixin, FamilyAdmin):
    """A family as the owner sees it: the record (accounts), its students (scheduling), its children's make-up
    credits (enrollment), its balance (billing)."""

    list_display = ["name", "city", "parent_emails", "student_count", "balance", "created_at"]
    readonly_fields = ["balance_and_ledger", "makeup_credits"]
    search_fields = [*FamilyAdmin.search_fields, "students__first_name", "students__last_name"]
    inlines = [ParentInline, StudentInline, ConsentInline, CorrectionInline]
    fieldsets = [
        *FamilyAdmin.fieldsets,
        ("Make-up credits", {"fields": ["makeup_credits"]}),
        ("Billing", {"fields": ["balance_and_ledger"]}),
    ]


def admin_pages_register(site: admin.AdminSite) -> None:
    """Runs once every app's admin is registered (SchoolAdminConfig.ready)."""
    site.unregister(Family)
    site.register(Family, FamilyPageAdmin)
