from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.forms import AdminPasswordChangeForm
from accounts.models import ConsentRecord, Family, SchoolNews, User
from accounts.news import school_news_send
from cedarheights.admin import AuditedAdmin, ReadOnlyAdmin
from cedarheights.errors import DomainError


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
    """A parent's consents as they gave them: a record, never edited here (parents give and withdraw in the portal)."""

    model = ConsentRecord
    fields = ["purpose", "notice", "text_shown", "given_by", "given_at", "withdrawn_at"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Family)
class FamilyAdmin(AuditedAdmin):
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
class ConsentRecordAdmin(ReadOnlyAdmin):
    """Parents' consents as given (the notice version and the words shown) and withdrawn: read, never edited."""

    list_display = ["family", "purpose", "notice", "given_by", "given_at", "withdrawn_at"]
    list_filter = ["purpose", "notice"]
    list_select_related = ["family", "given_by", "notice"]
    search_fields = ["family__name", "given_by__email"]
    date_hierarchy = "given_at"


@admin.register(SchoolNews)
class SchoolNewsAdmin(admin.ModelAdmin):
    """The owner writes a news email, then sends it with the action: it goes only to parents opted in to the
    school's news (asked again as each email is sent)."""

    list_display = ["subject", "created_at", "sent_at", "sent_by"]
    fields = ["subject", "body", "sent_at", "sent_by"]
    readonly_fields = ["sent_at", "sent_by"]
    actions = ["send_selected"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.sent_at is None)

    @admin.action(description="Send the selected news to the parents who opted in")
    def send_selected(self, request, queryset):
        for news in queryset.order_by("pk"):
            try:
                queued = school_news_send(actor=request.user, news=news)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"“{news.subject}” is going to {queued} parent(s).", messages.SUCCESS)
