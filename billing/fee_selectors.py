"""What the billing page, receipts, the admin and the API read about fees and open make-up credits (each one query)."""

from django.db.models import Exists, OuterRef, QuerySet

from billing.models import FamilyFee, FeeInvoiceItem
from cedarheights.roles import is_parent, is_school_admin
from enrollment.family_selectors import OPEN, credits_with_status
from enrollment.models import MakeupCredit


def fees_with_invoiced(fees: QuerySet[FamilyFee] | None = None) -> QuerySet[FamilyFee]:
    """Fees annotated with `invoiced`: an invoice carried the fee's line already."""
    carried = FeeInvoiceItem.objects.filter(fee=OuterRef("pk"), kind=FeeInvoiceItem.Kind.FEE).exclude(
        stripe_invoice_id=""
    )
    return (fees if fees is not None else FamilyFee.objects.all()).annotate(invoiced=Exists(carried))


def family_fee_list(*, family_id: int) -> QuerySet[FamilyFee]:
    """The family's fees, newest first, with their school year and whether an invoice carried them."""
    return fees_with_invoiced(FamilyFee.objects.filter(family_id=family_id)).select_related("academic_year", "payment")


def family_fee_list_visible_to(user) -> QuerySet[FamilyFee]:
    """The school: every fee; a parent: their family's; anyone else: none."""
    fees = fees_with_invoiced().select_related("academic_year", "family").order_by("-created_at", "-pk")
    if is_school_admin(user):
        return fees
    if is_parent(user):
        return fees.filter(family_id=user.family_id)
    return fees.none()


def fee_lines_of_invoice(*, invoice_id: str | None) -> list[FeeInvoiceItem]:
    """The fee lines (fees and waivers) an invoice carried, for its receipt."""
    if not invoice_id:
        return []
    return list(
        FeeInvoiceItem.objects.filter(stripe_invoice_id=invoice_id).select_related("fee__academic_year").order_by("pk")
    )


def makeup_credits_open(*, family_id: int) -> list[MakeupCredit]:
    """The family's make-up credits that can still book a lesson (available, or held until the tuition is paid), as
    of now, soonest expiry first. Lessons, not money: they never change what the family owes."""
    credits = MakeupCredit.objects.filter(enrollment__student__family_id=family_id).select_related(
        "instrument", "enrollment__student"
    )
    return list(credits_with_status(credits).filter(status__in=OPEN).order_by("expires_on", "pk"))
