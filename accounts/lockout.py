"""Failed sign-ins (django-axes): the pair (account, address) locks, and an address trying many accounts locks too.

axes compares every lockout parameter with one limit (AXES_FAILURE_LIMIT): an address counted under that same
limit would lock exactly when its pair does, so the address keeps its own, higher limit here.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class AccountAddressLockout(AxesDatabaseHandler):
    """AXES_FAILURE_LIMIT failures an hour lock one (account, address) pair (AXES_LOCKOUT_PARAMETERS);
    AXES_ADDRESS_FAILURE_LIMIT failures an hour from one address lock it whatever account it names,
    known or not."""

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or (
            address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT
        )


def address_failures(request) -> int:
    """Failed sign-ins from the request's address within the cool-off, over every account it named."""
    recent = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
    )
    return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0


def account_named(request, credentials=None) -> str | None:
    """The account a sign-in names, as accounts are stored (trimmed, lower case): "Ann@X.test " counts as
    "ann@x.test", so changing the case of an address does not start a fresh count."""
    name = (credentials or {}).get("username")
    if name is None:
        name = request.POST.get("username")
    return name.strip().lower() if isinstance(name, str) else None
