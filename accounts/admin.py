from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.breach_notices import breach_commissioner_notice_draft, breach_people_notice_draft
from accounts.breach_register import breach_register_csv
from accounts.forms import AccessRequestAnswerForm, AccessRequestExtendForm, AdminPasswordChangeForm
from accounts.models import (
    AccessRequest,
    Breach,
    ConsentRecord,
    CorrectionRequest,
    DataExport,
    Family,
    SchoolNews,
    User,
)
from accounts.news import school_news_send
from accounts.privacy_requests import (
    access_request_answer,
    access_request_extend,
    access_request_log,
    correction_request_resolve,
    data_export_request,
)
from accounts.selectors import access_requests_by_urgency
from cedarheights.admin import AuditedAdmin, ReadAuditedAdmin, ReadOnlyAdmin, domain_error_on_form
from cedarheights.admin_export import AuditedExportMixin
from cedarheights.errors import DomainError
from cedarheights.selectors import school_today


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


class CorrectionInline(admin.TabularInline):
    """The family's correction requests on its page: a disputed item stays visible with its annotation."""

    model = CorrectionRequest
    fields = ["raised_at", "about", "requested_change", "status", "annotation", "resolved_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name_plural = "correction requests (a disputed item is annotated)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Family)
class FamilyAdmin(AuditedExportMixin, ReadAuditedAdmin, AuditedAdmin):
    """A family's record: its address, parents and consents. The page the owner sees adds the family's students
    and billing (cedarheights/admin_pages.py puts the parts of the apps above together)."""

    list_display = ["name", "city", "parent_emails", "created_at"]
    list_per_page = 50
    ordering = ["name", "pk"]  # by name, as Meta says, ties by id: an index on (name, id) reads the page in order
    search_fields = ["name", "parents__email", "parents__last_name"]
    list_filter = [("anonymised_at", admin.EmptyFieldListFilter), "province", "city"]
    inlines = [ParentInline, ConsentInline, CorrectionInline]
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
class ConsentRecordAdmin(ReadAuditedAdmin, ReadOnlyAdmin):
    """Parents' consents as given (the notice version and the words shown) and withdrawn: read, never edited."""

    list_display = ["family", "purpose", "notice", "given_by", "given_at", "withdrawn_at"]
    list_filter = ["purpose", "notice"]
    list_select_related = ["family", "given_by", "notice"]
    search_fields = ["family__name", "given_by__email"]
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
        if not breach.pk:
            return "24 months from discovery"
        return f"{breach.kept_until:%-d %B %Y} (24 months after discovery)"

    def get_actions(self, request):
        # One by one, through the page that checks the 24 months: a bulk delete would meet the trigger instead.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        if obj is not None and school_today() < obj.kept_until:
            return False
        return super().has_delete_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        # Said on the change page rather than as a bare 403.
        breach = self.get_object(request, object_id)
        if breach is not None and school_today() < breach.kept_until:
            self.message_user(
                request,
                f"This breach is kept until {breach.kept_until:%-d %B %Y} (24 months after its discovery): "
                "it can be deleted from then on.",
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:accounts_breach_change", args=[breach.pk]))
        return super().delete_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Export the register (CSV)")
    def export_register_csv(self, request, queryset):
        response = HttpResponse(breach_register_csv(breaches=queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="breach-register-{school_today():%Y-%m-%d}.csv"'
        return response


class OpenFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Answered")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(answered_on__isnull=self.value() == "yes")
        return queryset


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadAuditedAdmin, admin.ModelAdmin):
    """Requests for a family's data and their 30-day clock, the most urgent first: a warning from day 20, overdue
    in red. The owner logs one received by email, phone, mail or in person; the actions extend (once), build the
    family's export and record the answer, each through its service."""

    list_display = ["family", "channel", "received_on", "due", "days_left", "status", "extended_at"]
    list_filter = [OpenFilter, "channel"]
    list_select_related = ["family"]
    search_fields = ["family__name"]
    autocomplete_fields = ["family"]
    actions = ["extend", "build_export", "mark_answered"]
    add_fields = ["family", "channel", "received_on", "details"]
    readonly_fields = [
        "family",
        "channel",
        "requested_by",
        "logged_by",
        "received_on",
        "details",
        "extended_at",
        "extension_reason",
        "answered_on",
        "answer_note",
        "created_at",
    ]

    def get_queryset(self, request):
        return access_requests_by_urgency().select_related("family")

    def get_ordering(self, request):
        return list(access_requests_by_urgency().query.order_by)  # most urgent first

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"received_on": school_today(), "channel": AccessRequest.Channel.EMAIL}

    def has_delete_permission(self, request, obj=None):
        return False  # a request is a record the school keeps, answered or not

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is edited here: the actions change a request
        # The form checked what the model holds (the day not in the future); the service records it, audited.
        fields = {name: form.cleaned_data[name] for name in self.add_fields}
        obj.pk = access_request_log(actor=request.user, **fields).pk

    @admin.display(description="due", ordering="due")
    def due(self, access_request: AccessRequest):
        return access_request.due_on

    @admin.display(description="days left")
    def days_left(self, access_request: AccessRequest):
        if access_request.answered_on is not None:
            return "—"
        today = school_today()
        left = access_request.days_left(today)
        if access_request.is_overdue(today):
            return format_html(
                '<strong class="deadline-overdue">Overdue by {} day{}</strong>', -left, "s"[: -left != 1]
            )
        if access_request.needs_warning(today):
            return format_html(
                '<strong class="deadline-warning">⚠ {} day{} left (day {})</strong>',
                left,
                "s"[: left != 1],
                (today - access_request.received_on).days,
            )
        return left

    @admin.display(description="status")
    def status(self, access_request: AccessRequest):
        if access_request.answered_on:
            return f"Answered {access_request.answered_on:%-d %b %Y}"
        return "Open, extended" if access_request.extended_at else "Open"

    def _one(self, request, queryset, verb: str):
        if queryset.count() != 1:
            self.message_user(request, f"Choose one request to {verb}.", messages.WARNING)
            return None
        return queryset.get()

    def _action_page(self, request, queryset, *, action: str, title: str, form, intro: str, submit: str):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "form": form,
            "submit": submit,
            "action": action,
            "selected": queryset.values_list("pk", flat=True),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/accounts/accessrequest/action.html", context)

    @admin.action(description="Extend 30 days (once, within the first 30; the family is emailed)")
    def extend(self, request, queryset):
        access_request = self._one(request, queryset, "extend")
        if access_request is None:
            return None
        if access_request.extended_at is not None:
            # Said at once: a reason typed for an extension the law does not allow would only be refused.
            self.message_user(
                request,
                f"{access_request.family}'s request was extended already (the law allows one extension): the answer "
                f"is due {access_request.due_on:%-d %B %Y}.",
                messages.WARNING,
            )
            return None
        form = AccessRequestExtendForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                access_request = access_request_extend(
                    actor=request.user, access_request=access_request, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                domain_error_on_form(form, error)
            else:
                self.message_user(
                    request,
                    f"Extended: the answer is due {access_request.due_on:%-d %B %Y}; the family is emailed.",
                    messages.SUCCESS,
                )
                return None
        return self._action_page(
            request,
            queryset,
            action="extend",
            title=f"Extend the answer to {access_request.family}'s request by 30 days",
            form=form,
            intro=f"Received {access_request.received_on:%-d %B %Y}, due {access_request.due_on:%-d %B %Y}. The "
            "family is emailed the new date, your reason and their right to complain to the Privacy Commissioner.",
            submit="Extend and email the family",
        )

    @admin.action(description="Build the family's export (emailed to the parents, downloadable once)")
    def build_export(self, request, queryset):
        for access_request in queryset:
            data_export_request(actor=request.user, access_request=access_request)
        self.message_user(
            request, f"{queryset.count()} export(s) being built: the parents are emailed the link.", messages.SUCCESS
        )

    @admin.action(description="Mark answered")
    def mark_answered(self, request, queryset):
        access_request = self._one(request, queryset, "mark answered")
        if access_request is None:
            return None
        form = AccessRequestAnswerForm(
            request.POST if "apply" in request.POST else None, initial={"answered_on": school_today()}
        )
        if form.is_valid():
            try:
                access_request_answer(actor=request.user, access_request=access_request, **form.cleaned_data)
            except DomainError as error:
                domain_error_on_form(form, error)
            else:
                self.message_user(request, f"{access_request} is answered.", messages.SUCCESS)
                return None
        return self._action_page(
            request,
            queryset,
            action="mark_answered",
            title=f"Record the answer to {access_request.family}'s request",
            form=form,
            intro=f"Received {access_request.received_on:%-d %B %Y}, due {access_request.due_on:%-d %B %Y}.",
            submit="Record the answer",
        )


class CorrectionResolveForm(forms.ModelForm):
    status = forms.ChoiceField(
        choices=[
            (CorrectionRequest.Status.CORRECTED, "Corrected"),
            (CorrectionRequest.Status.ANNOTATED, "Not changed: annotate the family's disagreement"),
        ]
    )
    annotation = forms.CharField(
        widget=forms.Textarea, help_text=CorrectionRequest._meta.get_field("annotation").help_text
    )

    class Meta:
        model = CorrectionRequest
        fields = ["status", "annotation"]


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReadAuditedAdmin, admin.ModelAdmin):
    """A family's request to correct what they cannot change themselves: the owner corrects it (elsewhere, then
    says what was done here) or keeps the record and annotates the family's disagreement."""

    list_display = ["family", "about", "status", "raised_at", "resolved_at"]
    list_filter = ["status"]
    list_select_related = ["family"]
    search_fields = ["family__name", "about"]
    readonly_fields = ["family", "requested_by", "about", "requested_change", "raised_at", "resolved_at", "resolved_by"]

    def has_add_permission(self, request):
        return False  # the family raises one in the portal

    def has_delete_permission(self, request, obj=None):
        return False

    @staticmethod
    def _still_open(correction: CorrectionRequest) -> bool:
        # Not `status`: a refused form has already set the chosen status on the instance, which would turn the
        # re-shown page read-only and hide the annotation's error. `resolved_at` is not on the form.
        return correction.resolved_at is None

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and self._still_open(obj):
            kwargs["form"] = CorrectionResolveForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self._still_open(obj):
            return [*self.readonly_fields, "status", "annotation"]
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        return [*self.readonly_fields[:4], "status", "annotation", *self.readonly_fields[4:]]

    def save_model(self, request, obj, form, change):
        if "status" in form.cleaned_data:
            correction = CorrectionRequest.objects.get(pk=obj.pk)
            correction_request_resolve(
                actor=request.user,
                correction=correction,
                status=form.cleaned_data["status"],
                annotation=form.cleaned_data["annotation"],
            )


@admin.register(DataExport)
class DataExportAdmin(ReadAuditedAdmin, ReadOnlyAdmin):
    """The families' exports: when built, until when the link works, when downloaded (the zip itself is never
    shown here, and is dropped once downloaded)."""

    list_display = ["family", "access_request", "created_at", "built_at", "expires_at", "downloaded_at", "size_bytes"]
    list_select_related = ["family", "access_request"]
    search_fields = ["family__name"]
    fields = [
        "family",
        "access_request",
        "requested_by",
        "size_bytes",
        "created_at",
        "built_at",
        "expires_at",
        "downloaded_at",
    ]


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
                self.message_user(
                    request, f"“{news.subject}” is going to {queued} parent{'s'[: queued != 1]}.", messages.SUCCESS
                )
