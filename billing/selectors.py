from django.db.models import Case, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When, Window
from django.db.models.functions import Coalesce

from billing.models import BillingProfile, LedgerEntry, LessonFee, Payment, Receipt, TuitionSubscription
from cedarheights.roles import is_parent, is_school_admin

# What a family owes: charges − payments + refunds − credits + adjustments (adjustments carry their sign).
SIGNED_AMOUNT = Case(
    When(
        kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.REFUND, LedgerEntry.Kind.ADJUSTMENT], then=F("amount_cents")
    ),
    default=-F("amount_cents"),
    output_field=IntegerField(),
)


def family_balance_cents(*, family_id: int) -> int:
    """Positive: the family owes the school; negative: the school owes the family (a credit)."""
    total = LedgerEntry.objects.filter(family_id=family_id).aggregate(balance=Coalesce(Sum(SIGNED_AMOUNT), Value(0)))
    return total["balance"]


def ledger_with_running_balance(*, family_id: int) -> QuerySet[LedgerEntry]:
    """The family's ledger in order, each line with the balance after it (one query)."""
    return (
        LedgerEntry.objects.filter(family_id=family_id)
        .annotate(signed=SIGNED_AMOUNT)
        .annotate(balance=Window(Sum(SIGNED_AMOUNT), order_by=[F("created_at").asc(), F("id").asc()]))
        .order_by("created_at", "id")
    )


def balance_subquery():
    """Each family's balance as an annotation: lists show it without a query per row."""
    owed = (
        LedgerEntry.objects.filter(family=OuterRef("pk"))
        .order_by()
        .values("family")
        .annotate(total=Sum(SIGNED_AMOUNT))
        .values("total")
    )
    return Coalesce(Subquery(owed, output_field=IntegerField()), Value(0))


def family_billing_overview(*, family_id: int) -> dict:
    """What a parent's billing page shows: card, subscriptions, payments, receipts, balance (fixed queries)."""
    return {
        "profile": BillingProfile.objects.filter(family_id=family_id).first(),
        "subscriptions": TuitionSubscription.objects.filter(family_id=family_id)
        .select_related("tuition_plan", "enrollment__student")
        .order_by("-created_at"),
        "payments": Payment.objects.filter(family_id=family_id).select_related("receipt").order_by("-created_at")[:50],
        "open_failures": Payment.objects.filter(family_id=family_id, failure__status="open").count(),
        "receipts": Receipt.objects.filter(family_id=family_id).order_by("-issued_at")[:50],
        "balance_cents": family_balance_cents(family_id=family_id),
    }


def subscription_list_visible_to(user):
    """Admin: every subscription; a parent: their family's; anyone else: none."""
    subscriptions = TuitionSubscription.objects.select_related("tuition_plan").order_by("-created_at", "-id")
    if is_school_admin(user):
        return subscriptions
    if is_parent(user):
        return subscriptions.filter(family_id=user.family_id)
    return subscriptions.none()


def payment_trouble_figures() -> dict[str, int]:
    """The owner's dashboard: payments that failed and are not yet recovered."""
    return {"failed_payments": Payment.objects.filter(status=Payment.Status.FAILED).count()}


def lesson_fee_figures() -> dict[str, int]:
    """The owner's dashboard: fees waiting for the owner's review before they post."""
    return {"pending_fees": LessonFee.objects.filter(status=LessonFee.Status.PENDING).count()}
