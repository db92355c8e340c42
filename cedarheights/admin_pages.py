"""Admin pages that show the parts of several apps on one page: the wiring puts them together, so that no app
imports the apps above it (accounts knows nothing of students or balances)."""

from django.contrib import admin
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Concat

from accounts.admin import ConsentInline, CorrectionInline, FamilyAdmin, ParentInline
from accounts.models import Family
from billing.admin import FamilyBillingAdminMixin
from cedarheights.admin import AuditEventAdmin
from cedarheights.models import AuditEvent
from cedarheights.school_import.admin import SchoolImportAdminMixin
from cedarheights.validators import record_id
from enrollment.admin import FamilyCreditsAdminMixin
from scheduling.admin import FamilyStudentsAdminMixin, StudentInline
from scheduling.models import Student


class FamilyPageAdmin(
    SchoolImportAdminMixin, FamilyBillingAdminMixin, FamilyCreditsAdminMixin, FamilyStudentsAdminMixin, FamilyAdmin
):
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


def _student_name(student_id):
    return Student.objects.filter(pk=student_id).values(
        name=Concat("first_name", Value(" "), "last_name", output_field=CharField())
    )[:1]


def _family_name(family_id):
    return Family.objects.filter(pk=family_id).values("name")[:1]


class WhoseRecordFilter(admin.SimpleListFilter):
    """The events about one child or one family (its `parameter_name` column), chosen by name among those the log
    mentions. An id that is not one shows no event rather than an error."""

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        chosen = record_id(self.value())
        return queryset.filter(**{self.parameter_name: chosen}) if chosen is not None else queryset.none()


class ChildFilter(WhoseRecordFilter):
    title = "child"
    parameter_name = "student_id"

    def lookups(self, request, model_admin):
        about = Student.objects.filter(pk__in=AuditEvent.objects.values("student_id"))
        return [(student.pk, str(student)) for student in about.order_by("first_name", "last_name", "pk")]


class FamilyFilter(WhoseRecordFilter):
    """A family's events: its own record, its parents', and its children's records read with the child."""

    title = "family"
    parameter_name = "family_id"

    def lookups(self, request, model_admin):
        about = Family.objects.filter(pk__in=AuditEvent.objects.values("family_id"))
        return [(family.pk, family.name) for family in about.order_by("name", "pk")]


class AuditEventPageAdmin(AuditEventAdmin):
    """The audit log with whose record each event was about, by name: the core keeps plain ids, the wiring knows
    the children (scheduling) and the families (accounts)."""

    list_display = [*AuditEventAdmin.list_display[:4], "child", "family", *AuditEventAdmin.list_display[4:]]
    list_filter = [AuditEventAdmin.list_filter[0], ChildFilter, FamilyFilter, *AuditEventAdmin.list_filter[1:]]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(child_name=Subquery(_student_name(OuterRef("student_id"))))
            .annotate(family_name=Subquery(_family_name(OuterRef("family_id"))))
        )

    @admin.display(description="child", ordering="child_name")
    def child(self, event) -> str:
        return event.child_name or ("" if event.student_id is None else f"#{event.student_id}")

    @admin.display(description="family", ordering="family_name")
    def family(self, event) -> str:
        return event.family_name or ("" if event.family_id is None else f"#{event.family_id}")


def admin_pages_register(site: admin.AdminSite) -> None:
    """Runs once every app's admin is registered (SchoolAdminConfig.ready)."""
    site.unregister(Family)
    site.register(Family, FamilyPageAdmin)
    site.unregister(AuditEvent)
    site.register(AuditEvent, AuditEventPageAdmin)
