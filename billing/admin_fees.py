"""The owner's side of registration and late fees: the list (each with its invoice status) and the waiver, from the
fee list or from a failed payment's late fee. Registered by billing/admin.py (its block at the end)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from billing.fee_selectors import fees_with_invoiced
from billing.fees import family_fee_waive
from billing.models import FamilyFee
from cedarheights.admin import ReadAuditedAdmin, ReadOnlyAdmin
from cedarheights.errors import DomainError
from cedarheights.money import format_cents
from cedarheights.validators import no_control_characters, record_id


class FeeWaiveForm(forms.Form):
    note = forms.CharField(
        max_length=200, validators=[no_control_characters], help_text="Why the fee is waived (kept on the fee)."
    )


def _waive_url(fee_ids) -> str:
    return f"{reverse('admin:billing_familyfee_waive')}?ids={','.join(str(pk) for pk in fee_ids)}"


@admin.register(FamilyFee)
class FamilyFeeAdmin(ReadAuditedAdmin, ReadOnlyAdmin):
    """Registration and late fees: each is on the family's ledger and goes on its next Stripe invoice; a waiver takes
    it back on both."""

    list_display = ["created_at", "family", "kind", "school_year", "amount", "status", "on_invoice", "note", "waive"]
    list_filter = ["kind", "status", "academic_year"]
    list_select_related = ["family", "academic_year"]
    search_fields = ["family__name"]
    date_hierarchy = "created_at"
    actions = ["waive_selected"]

    def get_queryset(self, request):
        return fees_with_invoiced(super().get_queryset(request))

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, fee: FamilyFee) -> str:
        return format_cents(fee.amount_cents, fee.currency)

    @admin.display(description="school year", ordering="academic_year__start_date")
    def school_year(self, fee: FamilyFee) -> str:
        return str(fee.academic_year) if fee.academic_year_id else "—"

    @admin.display(description="on an invoice", boolean=True)
    def on_invoice(self, fee: FamilyFee) -> bool:
        return fee.invoiced

    @admin.display(description="")
    def waive(self, fee: FamilyFee) -> str:
        if fee.status == FamilyFee.Status.WAIVED:
            return "—"
        return format_html('<a href="{}">Waive…</a>', _waive_url([fee.pk]))

    @admin.action(description="Waive the selected fees…")
    def waive_selected(self, request, queryset):
        return HttpResponseRedirect(_waive_url(queryset.values_list("pk", flat=True)))

    def get_urls(self):
        waive = self.admin_site.admin_view(self.waive_view)
        return [path("waive/", waive, name="billing_familyfee_waive"), *super().get_urls()]

    def waive_view(self, request):
        """Waive one or more fees with a note: the ledger goes back to before each, and Stripe's next invoice takes
        it off."""
        if not request.user.has_perm("billing.change_familyfee"):
            raise PermissionDenied
        ids = [pk for text in request.GET.get("ids", "").split(",") if (pk := record_id(text)) is not None]
        fees = list(FamilyFee.objects.filter(pk__in=ids).select_related("family", "academic_year").order_by("pk"))
        form = FeeWaiveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            for fee in fees:
                try:
                    family_fee_waive(fee=fee, actor=request.user, note=form.cleaned_data["note"])
                except DomainError as error:
                    self.message_user(request, f"{fee}: {error.message}", messages.ERROR)
                else:
                    self.message_user(request, f"Waived: {fee.label} for {fee.family}.", messages.SUCCESS)
            return redirect("admin:billing_familyfee_changelist")
        return render(
            request,
            "admin/action_form.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": "Waive fees",
                "intro": "The family's ledger goes back to what it was before the fee; its next invoice takes it off.",
                "items": [f"{fee}: {fee.family}" for fee in fees] or ["No fee chosen."],
                "submit": "Waive",
            },
        )


@admin.action(description="Waive the late fee of the selected failed payments…")
def late_fees_waive(modeladmin, request, queryset):
    """On the payment failures' list: the late fees of those failures, to the fees' waiver page."""
    fee_ids = FamilyFee.objects.filter(
        kind=FamilyFee.Kind.LATE, payment_id__in=queryset.values("payment_id"), status=FamilyFee.Status.CHARGED
    ).values_list("pk", flat=True)
    if not fee_ids:
        modeladmin.message_user(request, "None of the selected failed payments has a late fee to waive.")
        return None
    return HttpResponseRedirect(_waive_url(fee_ids))
