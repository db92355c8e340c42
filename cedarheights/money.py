"""Money is an integer number of cents and a currency code; this is how the school shows it."""

from django.conf import settings


def default_currency() -> str:
    return settings.SCHOOL_CURRENCY


def format_cents(cents: int, currency: str) -> str:
    """Money for people: 12000, "cad" → "$120.00 CAD"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d} {currency.upper()}"
