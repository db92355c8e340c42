"""Which of a family's fee lines a Stripe invoice carried: the ledger's charge for an invoice's payment leaves them
out, because each fee (and each waiver) is on the ledger already, as its own line (billing/fees.py).

Stripe puts every pending invoice item of a customer on the customer's next invoice. So the fee lines sent to Stripe
before an invoice's payment is first recorded, and not yet on an invoice, are on that one. (An invoice Stripe made
in the seconds before a line was sent and that we record after it would be credited with the line wrongly: the
window is the worker's, between a fee's task and an invoice's; the owner sees each line's invoice in the admin.)
"""

from django.db.models import Sum

from billing.models import FeeInvoiceItem, Payment


def fee_lines_on_invoice_cents(*, payment: Payment) -> int:
    """The sum of the fee lines on the invoice `payment` pays (negative when waivers outweigh fees), attaching to it
    the lines that were waiting for an invoice. 0 for a payment that is not an invoice's. Run in the caller's
    transaction; the UPDATE locks the lines it attaches, so two recordings of one payment count them once."""
    if not payment.stripe_invoice_id:
        return 0
    waiting = FeeInvoiceItem.objects.filter(
        fee__family_id=payment.family_id,
        stripe_invoice_id="",
        sent_at__isnull=False,
        sent_at__lte=payment.created_at,
    )
    waiting.update(stripe_invoice_id=payment.stripe_invoice_id)
    lines = FeeInvoiceItem.objects.filter(stripe_invoice_id=payment.stripe_invoice_id)
    return lines.aggregate(total=Sum("amount_cents"))["total"] or 0
