"""What the billing page's and receipts' fee and make-up partials read (templates/billing/_fees*.html,
templates/billing/_makeup_credits.html): `{% family_fees family_id as fees %}` and the like, one query each."""

from django import template

from billing import fee_selectors

register = template.Library()


@register.simple_tag
def family_fees(family_id: int):
    return list(fee_selectors.family_fee_list(family_id=family_id))


@register.simple_tag
def invoice_fee_lines(invoice_id: str | None):
    return fee_selectors.fee_lines_of_invoice(invoice_id=invoice_id)


@register.simple_tag
def open_makeup_credits(family_id: int):
    return fee_selectors.makeup_credits_open(family_id=family_id)
