from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import Family
from billing.admin_fees import late_fees_waive  # registers the fees' admin too
from billing.errors import GatewayUnavailable
from billing.models import (
    BillingProfile,
    FamilyDiscount,
    LedgerEntry,
    LessonFee,
    Payment,
    PaymentFailure,
    PromotionCode,
    PromotionRedemption,
    Receipt,
    StripeEvent,
    TuitionCharge,
    TuitionSubscription,
)
from billing.selectors import balance_subquery, family_balance_cents, ledger_with_running_balance
from billing.services.charges import refund_issue
from billing.services.dunning import payment_retry
from billing.services.ledger import credit_issue
from billing.services.lesson_fees import lesson_fee_waive
from billing.services.subscriptions import billing_start, subscription_charge_now
from billing.services.tuition_discounts import (
    family_discount_remove,
    family_discount_set,
    promotion_code_apply,
    promotion_code_check,
    promotion_redemption_remove,
)
from billing.tuition import month_bill
from cedarheights.admin import (
    AuditedAdmin,
    ReadAuditedAdmin,
    ReadOnlyAdmin,
    admin_links,
    domain_error_on_form,
    run_subject,
)
from cedarheights.admin_export import AuditedExportMixin
from cedarheights.errors import DomainError
from cedarheights.money import format_cents
from cedarheights.selectors import school_today
from cedarheights.validators import no_control_characters, record_id
from enrollment.selectors import tuition_plans_offered
from enrollment.tuition import month_first, next_month_first


class MoneyMixin:
    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, obj) -> str:
        return format_cents(obj.amount_cents, obj.currency)


class AmountForm(forms.Form):
    # The most a school credits or refunds at once: a larger figure is a slipped finger, not a credit.
    amount = forms.DecimalField(
        min_value=0.01, max_value=10_000, decimal_places=2, help_text="In dollars, e.g. 35.00 (at most 10,000.00)"
    )
    reason = forms.CharField(max_length=200, validators=[no_control_characters])


def _cents(form: AmountForm) -> int:
    return int(form.cleaned_data["amount"] * 100)


@admin.register(Payment)
class PaymentAdmin(AuditedExportMixin, MoneyMixin, ReadAuditedAdmin, ReadOnlyAdmin):
    list_display = ["created_at", "family", "purpose", "amount", "status", "refunded", "failure_reason", "paid_at"]
    list_per_page = 50
    list_filter = ["status", "purpose"]
    list_select_related = ["family"]
    search_fields = ["family__name", "failure_reason", "stripe_invoice_id", "stripe_payment_intent_id"]
    date_hierarchy = "created_at"
    actions = ["refund_in_full"]

    @admin.display(description="refunded", ordering="amount_refunded_cents")
    def refunded(self, payment: Payment) -> str:
        return format_cents(payment.amount_refunded_cents, payment.currency) if payment.amount_refunded_cents else "—"

    @admin.action(description="Refund in full")
    def refund_in_full(self, request, queryset):
        for payment in queryset:
            try:
                refund_issue(
                    payment=payment,
                    amount_cents=payment.amount_cents - payment.amount_refunded_cents,
                    reason=f"Refunded by {request.user}",
                )
            except DomainError as error:  # Stripe out of reach too
                self.message_user(request, f"{payment}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"Refunded: {payment}", messages.SUCCESS)

    def get_urls(self):
        return [
            path("<int:pk>/refund/", self.admin_site.admin_view(self.refund_view), name="billing_payment_refund"),
            *super().get_urls(),
        ]

    def refund_view(self, request, pk: int):
        """A partial refund: an amount and a reason."""
        payment = get_object_or_404(Payment, pk=pk)
        form = AmountForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                refund_issue(payment=payment, amount_cents=_cents(form), reason=form.cleaned_data["reason"])
            except DomainError as error:  # Stripe out of reach too
                form.add_error("amount", error.message)
            else:
                self.message_user(request, f"Refunded {form.cleaned_data['amount']} of {payment}.", messages.SUCCESS)
                return redirect("admin:billing_payment_change", pk)
        return render(
            request,
            "admin/billing/amount_form.html",
            {**self.admin_site.each_context(request), "form": form, "title": f"Refund part of {payment}"},
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # An id that is not a number is no payment: Django's own answer (the index, with a message), not a 500.
        extra = {"refund_url": reverse("admin:billing_payment_refund", args=[object_id])} if object_id.isdigit() else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})


@admin.register(PaymentFailure)
class PaymentFailureAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "family",
        "payment_amount",
        "reason",
        "status",
        "attempts",
        "next_retry_at",
        "owner_notified_at",
    ]
    list_filter = ["status"]
    list_select_related = ["family", "payment"]
    search_fields = ["family__name", "reason"]
    actions = ["retry_now", late_fees_waive]

    @admin.display(description="amount")
    def payment_amount(self, failure: PaymentFailure) -> str:
        return format_cents(failure.payment.amount_cents, failure.payment.currency)

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        for failure in queryset.filter(status=PaymentFailure.Status.OPEN):
            try:
                result = payment_retry(failure=failure)
            except GatewayUnavailable as error:
                self.message_user(request, f"Stripe could not be reached: {error}", messages.ERROR)
                return
            except DomainError as error:  # Stripe refused this one (an unknown or settled invoice): the next
                self.message_user(request, f"{failure.family}: {error.message}", messages.ERROR)
                continue
            level = messages.SUCCESS if result.status == PaymentFailure.Status.RECOVERED else messages.WARNING
            self.message_user(request, f"{failure.family}: {result.get_status_display()} ({result.reason})", level)


@admin.register(TuitionSubscription)
class TuitionSubscriptionAdmin(ReadAuditedAdmin, ReadOnlyAdmin):
    list_display = [
        "family",
        "tuition_plan",
        "status",
        "current_period_end",
        "billing_restarted_at",
    ]
    list_filter = ["status", "tuition_plan"]
    list_select_related = ["family", "tuition_plan"]
    search_fields = ["family__name", "stripe_subscription_id"]
    actions = ["charge_now"]

    @admin.action(description="Charge the first month now (instead of at the first lesson)")
    def charge_now(self, request, queryset):
        for subscription in queryset:
            try:
                payment = subscription_charge_now(subscription=subscription)
            except DomainError as error:  # Stripe out of reach too
                self.message_user(request, f"{subscription.family}: {error.message}", messages.ERROR)
                continue
            amount = format_cents(payment.amount_cents, payment.currency)
            if payment.status == Payment.Status.SUCCEEDED:
                self.message_user(request, f"{subscription.family}: {amount} paid.", messages.SUCCESS)
                continue
            retry = timezone.localtime(payment.failure.next_retry_at)
            self.message_user(
                request,
                f"{subscription.family}: {amount} declined ({payment.failure_reason}). Next retry {retry:%B} "
                f"{retry.day}; the parents were emailed a link to update their card (see Payment failures).",
                messages.WARNING,
            )


@admin.register(BillingProfile)
class BillingProfileAdmin(ReadOnlyAdmin):
    list_display = ["family", "stripe_customer_id", "card_brand", "card_last4", "card_exp_month", "card_exp_year"]
    list_select_related = ["family"]
    search_fields = ["family__name", "stripe_customer_id"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["created", "type", "stripe_id", "status", "processed_at"]
    list_filter = ["status", "type"]
    search_fields = ["stripe_id", "type"]
    date_hierarchy = "created"


class ChosenFamilyFilter(admin.SimpleListFilter):
    """One family's ledger (the balance link on a family's page). The filter names the chosen family only: a
    choice per family (5 000 names) took a query and most of the page, and nobody picks from such a list (the search
    finds a family by name)."""

    title = "family"
    parameter_name = "family__id__exact"

    def lookups(self, request, model_admin):
        if self.value() is None:
            return []
        family_id = record_id(self.value())
        family = Family.objects.filter(pk=family_id).first() if family_id is not None else None
        return [(self.value(), family.name if family else "No such family")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        family_id = record_id(self.value())
        return queryset.filter(family_id=family_id) if family_id is not None else queryset.none()


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AuditedExportMixin, MoneyMixin, ReadAuditedAdmin, ReadOnlyAdmin):
    """The ledger is written by the billing services only; a family's name opens its ledger with the running balance."""

    list_display = ["created_at", "family_ledger", "kind", "amount", "running_balance", "description", "reference"]
    list_per_page = 50
    list_filter = ["kind", ChosenFamilyFilter]
    list_select_related = ["family"]
    search_fields = ["family__name", "reference", "description"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        if (family_id := record_id(request.GET.get(ChosenFamilyFilter.parameter_name, ""))) is not None:
            return ledger_with_running_balance(family_id=family_id).select_related("family")
        return super().get_queryset(request)

    @admin.display(description="family", ordering="family__name")
    def family_ledger(self, entry: LedgerEntry) -> str:
        """The family's own ledger, where each line shows the balance after it."""
        return format_html('<a href="?{}={}">{}</a>', ChosenFamilyFilter.parameter_name, entry.family_id, entry.family)

    @admin.display(description="balance after")
    def running_balance(self, entry: LedgerEntry) -> str:
        balance = getattr(entry, "balance", None)
        return format_cents(balance, entry.currency) if balance is not None else "(click the family)"


def family_balance_link(family: Family) -> str:
    """The family's balance, linking to its ledger with the running balance."""
    url = reverse("admin:billing_ledgerentry_changelist") + f"?{ChosenFamilyFilter.parameter_name}={family.pk}"
    return format_html('<a href="{}">{}</a>', url, format_cents(family_balance_cents(family_id=family.pk), "cad"))


def credit_view(model_admin, request, pk: int):
    """Billing's page under a family in the admin: add a credit to its account."""
    family = get_object_or_404(Family, pk=pk)
    form = AmountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            credit_issue(family=family, amount_cents=_cents(form), reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error("amount", error.message)
        else:
            model_admin.message_user(
                request, f"Credit of {format_cents(_cents(form), settings.SCHOOL_CURRENCY)} added for {family}."
            )
            return redirect("admin:accounts_family_change", pk)
    return render(
        request,
        "admin/billing/amount_form.html",
        {**model_admin.admin_site.each_context(request), "form": form, "title": f"Credit for {family}"},
    )


@admin.register(Receipt)
class ReceiptAdmin(MoneyMixin, ReadAuditedAdmin, ReadOnlyAdmin):
    list_display = ["number", "family", "amount", "issued_at"]
    list_select_related = ["family"]
    search_fields = ["family__name", "sequence"]
    readonly_fields = ["payment", "family", "year", "sequence", "amount_cents", "currency", "issued_at"]
    date_hierarchy = "issued_at"


class StartBillingForm(forms.Form):
    tuition_plan = forms.ModelChoiceField(queryset=tuition_plans_offered())
    starts_at = forms.DateTimeField(required=False, help_text="The first regular lesson; empty to bill from today.")


def start_billing_view(model_admin, request, pk: int):
    """Billing's page under a family in the admin: start a tuition subscription on the card on file."""
    family = get_object_or_404(Family, pk=pk)
    form = StartBillingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            billing_start(
                family=family, tuition_plan=form.cleaned_data["tuition_plan"], starts_at=form.cleaned_data["starts_at"]
            )
        except DomainError as error:  # no card on file
            form.add_error(None, error.message)
        else:
            model_admin.message_user(request, f"Billing is starting for {family}; see it under Tuition subscriptions.")
            return redirect("admin:accounts_family_change", pk)
    return render(
        request,
        "admin/billing/amount_form.html",
        {**model_admin.admin_site.each_context(request), "form": form, "title": f"Start billing {family}"},
    )


class FamilyBillingAdminMixin:
    """Billing's part of a family's page in the admin: its balance with a link to its ledger, and the pages to add
    a credit and to start billing (cedarheights/admin_pages.py)."""

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(balance_cents=balance_subquery())

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


class WaiveForm(forms.Form):
    note = forms.CharField(
        max_length=200, validators=[no_control_characters], help_text="Why the fee is waived (kept on the fee)."
    )


@admin.register(LessonFee)
class LessonFeeAdmin(MoneyMixin, ReadAuditedAdmin, ReadOnlyAdmin):
    """No-show and late-cancellation fees: the list opens on those pending, which the owner may waive before they
    post to the family's ledger."""

    list_display = ["lesson_when", "student", "family", "kind", "amount", "status", "posts_in", "note", "waive"]
    list_filter = ["status", "kind"]
    list_select_related = ["lesson__student", "family"]
    search_fields = ["family__name", "lesson__student__first_name", "lesson__student__last_name"]
    actions = ["waive_selected"]

    def changelist_view(self, request, extra_context=None):
        if not request.GET:  # the fees awaiting the owner, as the dashboard counts them
            return HttpResponseRedirect(f"{request.path}?status__exact={LessonFee.Status.PENDING}")
        return super().changelist_view(request, extra_context)

    @admin.display(description="lesson", ordering="lesson__start_at")
    def lesson_when(self, fee: LessonFee) -> str:
        return f"{timezone.localtime(fee.lesson.start_at):%a %-d %b %Y, %H:%M}"

    @admin.display(description="student")
    def student(self, fee: LessonFee) -> str:
        return str(fee.lesson.student)

    @admin.display(description="posts", ordering="posts_at")
    def posts_in(self, fee: LessonFee) -> str:
        if fee.status != LessonFee.Status.PENDING:
            return "—"
        hours = (fee.posts_at - timezone.now()).total_seconds() / 3600
        return f"in {hours:.0f} h" if hours >= 1 else "within the hour"

    @admin.display(description="")
    def waive(self, fee: LessonFee) -> str:
        if fee.status not in (LessonFee.Status.PENDING, LessonFee.Status.POSTED):
            return "—"
        return format_html('<a href="{}?ids={}">Waive…</a>', reverse("admin:billing_lessonfee_waive"), fee.pk)

    @admin.action(description="Waive the selected fees…")
    def waive_selected(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:billing_lessonfee_waive')}?ids={ids}")

    def get_urls(self):
        waive = self.admin_site.admin_view(self.waive_view)
        return [path("waive/", waive, name="billing_lessonfee_waive"), *super().get_urls()]

    def waive_view(self, request):
        """Waive one or more fees with a note: a pending one never posts, a posted one is adjusted away."""
        if not request.user.has_perm("billing.change_lessonfee"):
            raise PermissionDenied
        ids = [pk for text in request.GET.get("ids", "").split(",") if (pk := record_id(text)) is not None]
        fees = list(LessonFee.objects.filter(pk__in=ids).select_related("lesson__student", "family").order_by("pk"))
        form = WaiveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            for fee in fees:
                try:
                    lesson_fee_waive(fee=fee, actor=request.user, note=form.cleaned_data["note"])
                except DomainError as error:
                    self.message_user(request, f"{fee}: {error.message}", messages.ERROR)
                else:
                    self.message_user(request, f"Waived: {fee} for {fee.family}.", messages.SUCCESS)
            return redirect("admin:billing_lessonfee_changelist")
        return render(
            request,
            "admin/action_form.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": "Waive lesson fees",
                "intro": "A pending fee will not post; a posted one gets an adjustment on the family's ledger.",
                "items": [f"{fee}: {fee.lesson.student}, {fee.family}" for fee in fees] or ["No fee chosen."],
                "submit": "Waive",
            },
        )


@run_subject("subscription")
def _subscriptions(ids: list[str]) -> dict[str, tuple[str, str]]:
    return admin_links(TuitionSubscription.objects.select_related("family", "tuition_plan"), ids)


@run_subject("payment_failure")
def _payment_failures(ids: list[str]) -> dict[str, tuple[str, str]]:
    return admin_links(PaymentFailure.objects.select_related("payment", "family"), ids)


# --- Tuition: discounts, promotion codes, the month's lines and charges ---


def _lines_html(item) -> str:
    """One enrollment's month as the billing page says it: base, each discount, total."""
    if item is None:
        return "Not billed this month."
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>",
        ((line.label, format_cents(line.amount_cents, item.currency)) for line in item.lines),
    )
    return format_html(
        "<table>{}<tr><th>Total</th><th style='text-align:right'>{}</th></tr></table>", rows, item.total_display
    )


@admin.register(FamilyDiscount)
class FamilyDiscountAdmin(AuditedAdmin):
    list_display = ["family", "kind", "percent", "note"]
    list_filter = ["kind"]
    list_select_related = ["family"]
    search_fields = ["family__name", "note"]
    autocomplete_fields = ["family"]

    # Through the services: audited, and the family's Stripe items follow once saved.
    def save_model(self, request, obj, form, change):
        saved = family_discount_set(
            family=obj.family, kind=obj.kind, percent=obj.percent, note=obj.note, actor=request.user
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        family_discount_remove(discount=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for discount in queryset:
            family_discount_remove(discount=discount, actor=request.user)


@admin.register(PromotionCode)
class PromotionCodeAdmin(AuditedAdmin):
    list_display = ["code", "terms", "valid_until", "max_redemptions", "redeemed", "active"]
    list_filter = ["active", "duration"]
    search_fields = ["code"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(redeemed=Count("redemptions"))

    @admin.display(description="Used", ordering="redeemed")
    def redeemed(self, obj) -> int:
        return obj.redeemed


class PromotionRedemptionForm(forms.ModelForm):
    class Meta:
        model = PromotionRedemption
        fields = ["code", "family", "enrollment"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("code") and cleaned.get("family"):
            try:
                promotion_code_check(
                    code=cleaned["code"],
                    family=cleaned["family"],
                    on=school_today(),
                    enrollment=cleaned.get("enrollment"),
                )
            except DomainError as error:
                domain_error_on_form(self, error)
        return cleaned


@admin.register(PromotionRedemption)
class PromotionRedemptionAdmin(admin.ModelAdmin):
    """The owner applies a code to a family (from its next invoiced month): the service checks and audits it."""

    form = PromotionRedemptionForm
    list_display = ["code", "family", "enrollment", "first_month", "applied_by", "created_at"]
    list_select_related = ["code", "family", "enrollment__student", "applied_by"]
    autocomplete_fields = ["family"]
    raw_id_fields = ["enrollment"]  # a select of every enrollment would cost a query per row
    search_fields = ["code__code", "family__name"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = promotion_code_apply(code=obj.code, family=obj.family, enrollment=obj.enrollment, actor=request.user)
        obj.pk, obj.first_month = saved.pk, saved.first_month

    def delete_model(self, request, obj):
        promotion_redemption_remove(redemption=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for redemption in queryset.select_related("code"):
            promotion_redemption_remove(redemption=redemption, actor=request.user)


@admin.register(TuitionCharge)
class TuitionChargeAdmin(MoneyMixin, ReadOnlyAdmin):
    list_display = ["month", "family", "enrollment", "kind", "lessons", "base_cents", "amount_cents", "coupons"]
    list_filter = ["kind", "month"]
    list_select_related = ["family", "enrollment__student", "enrollment__instrument"]
    search_fields = ["family__name", "stripe_invoice_item_id", "stripe_invoice_id"]


def subscription_tuition_lines(subscription) -> str:
    """The Tuition subscription page: this month's and next month's lines of its enrollment."""
    if subscription.enrollment_id is None:
        return "No enrollment: the plan's price."
    this_month = month_first(school_today())
    parts = []
    for month in (this_month, next_month_first(this_month)):
        item = month_bill(family=subscription.family_id, month=month).of(subscription.enrollment_id)
        parts.append(format_html("<p><strong>{}</strong></p>{}", f"{month:%B %Y}", _lines_html(item)))
    return format_html_join("", "{}", ((part,) for part in parts))


TuitionSubscriptionAdmin.readonly_fields = [*TuitionSubscriptionAdmin.readonly_fields, "tuition_lines"]
TuitionSubscriptionAdmin.tuition_lines = admin.display(description="Tuition by month")(
    lambda self, obj: subscription_tuition_lines(obj)
)
