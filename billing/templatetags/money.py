from django import template
from django.conf import settings

from cedarheights.money import format_cents

register = template.Library()


@register.filter
def money(cents: int, currency: str = "") -> str:
    """12000|money:"cad" → $120.00 CAD."""
    return format_cents(int(cents or 0), currency or settings.SCHOOL_CURRENCY)
