"""The client's address, read one way everywhere: the API's rate limits, django-axes and the request log.

`TRUSTED_PROXIES` (DRF's `NUM_PROXIES`) says how many proxies of our own stand in front of the app. With 0, the
socket's address is the client's and `X-Forwarded-For` is ignored, since anyone can send it; with n, the address
the nth proxy from us saw (n-th from the right of `X-Forwarded-For`) is. DRF's throttles apply that rule; this
module lends it to everything else, so a header that cannot lift a rate limit cannot lift a lockout either.
"""

from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    return BaseThrottle().get_ident(request) or ""
