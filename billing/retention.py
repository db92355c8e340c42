"""Billing's part of the retention schedule (cedarheights/privacy_retention.py runs it). Financial rows are kept,
amounts untouched, for the years tax law asks; once past them, only their free-text descriptions, which may name a
child or a parent, are replaced. A family that owes or is owed money is left alone."""

from collections.abc import Collection
from datetime import datetime

from django.db import transaction
from django.db.models import Max, Sum

from billing.models import LedgerEntry, Payment
from billing.selectors import SIGNED_AMOUNT

REMOVED_DESCRIPTION = "Description removed under the retention schedule"


def family_balances(*, family_ids: Collection[int]) -> dict[int, int]:
    """Each family's balance in cents (families without a ledger line are absent: they owe nothing)."""
    rows = (
        LedgerEntry.objects.filter(family_id__in=list(family_ids))
        .values("family_id")
        .annotate(balance=Sum(SIGNED_AMOUNT))
    )
    return {row["family_id"]: row["balance"] for row in rows}


def family_last_billing_activity(*, family_ids: Collection[int]) -> dict[int, datetime]:
    rows = (
        LedgerEntry.objects.filter(family_id__in=list(family_ids)).values("family_id").annotate(last=Max("created_at"))
    )
    return {row["family_id"]: row["last"] for row in rows}


def _described_before(family_id: int, before: datetime):
    ledger = LedgerEntry.objects.filter(family_id=family_id, created_at__lt=before).exclude(
        description=REMOVED_DESCRIPTION
    )
    payments = (
        Payment.objects.filter(family_id=family_id, created_at__lt=before)
        .exclude(description="")
        .exclude(description=REMOVED_DESCRIPTION)
    )
    return ledger, payments


def family_financial_descriptions_pending(*, family_id: int, before: datetime) -> int:
    """How many of the family's ledger lines and payments from before `before` still carry their description."""
    ledger, payments = _described_before(family_id, before)
    return ledger.count() + payments.count()


@transaction.atomic(savepoint=False)
def family_financial_descriptions_remove(*, family_id: int, before: datetime) -> int:
    """Replace the descriptions of the family's ledger lines and payments from before `before`; amounts, dates,
    kinds and references stay. Returns how many rows changed; a second call changes none."""
    ledger, payments = _described_before(family_id, before)
    return ledger.update(description=REMOVED_DESCRIPTION) + payments.update(description=REMOVED_DESCRIPTION)
