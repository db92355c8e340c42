from django.contrib import admin

from billing.models import LedgerEntry, Payment, Receipt, TuitionPlan, format_cents


class MoneyMixin:
    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, obj) -> str:
        return format_cents(obj.amount_cents, obj.currency)


@admin.register(TuitionPlan)
class TuitionPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "instrument", "lesson_minutes", "interval", "price", "active"]
    list_filter = ["active", "interval", "instrument", "lesson_minutes"]
    list_select_related = ["instrument"]
    search_fields = ["name"]
    autocomplete_fields = ["instrument"]

    @admin.display(description="price", ordering="price_cents")
    def price(self, plan: TuitionPlan) -> str:
        return plan.price_display


@admin.register(Payment)
class PaymentAdmin(MoneyMixin, admin.ModelAdmin):
    list_display = ["created_at", "family", "purpose", "amount", "status", "failure_reason", "paid_at"]
    list_filter = ["status", "purpose"]
    list_select_related = ["family"]
    search_fields = ["family__name", "failure_reason"]
    autocomplete_fields = ["family", "lesson"]
    date_hierarchy = "created_at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(MoneyMixin, admin.ModelAdmin):
    list_display = ["created_at", "family", "kind", "amount", "description", "reference"]
    list_filter = ["kind"]
    list_select_related = ["family"]
    search_fields = ["family__name", "reference", "description"]
    autocomplete_fields = ["family", "payment"]
    date_hierarchy = "created_at"


@admin.register(Receipt)
class ReceiptAdmin(MoneyMixin, admin.ModelAdmin):
    list_display = ["number", "family", "amount", "issued_at"]
    list_select_related = ["family"]
    search_fields = ["family__name", "sequence"]
    readonly_fields = ["payment", "family", "year", "sequence", "amount_cents", "currency", "issued_at"]
    date_hierarchy = "issued_at"

    def has_add_permission(self, request):
        return False  # receipts are numbered by the billing pipeline, never by hand
