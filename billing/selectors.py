from django.db.models import Case, F, IntegerField, QuerySet, Sum, Value, When, Window
from django.db.models.functions import Coalesce

from billing.models import LedgerEntry

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
