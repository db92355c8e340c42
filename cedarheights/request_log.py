"""One JSON log line per request, tied together by a request id that is echoed back.

It runs on every request, so it does per request only what depends on the request: the line's encoder is made once,
the incoming id is read straight from the WSGI environ (not through `request.headers`, which would copy every header
into a new mapping), and a fresh id is 16 random bytes in hex, without a UUID object around them.
"""

import json
import logging
import os
import re
import time

from cedarheights.client_address import client_address

logger = logging.getLogger("cedarheights.requests")
# An upstream proxy's id is kept only when it is short and plain, so it cannot forge log lines.
INCOMING_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LINE = json.JSONEncoder(ensure_ascii=True, check_circular=False)


def request_id_of(request) -> str:
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    return incoming if incoming and INCOMING_REQUEST_ID.match(incoming) else os.urandom(16).hex()


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = request_id_of(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        if logger.isEnabledFor(logging.INFO):
            user = getattr(request, "user", None)
            logger.info(
                LINE.encode(
                    {
                        "request_id": request.request_id,
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "user_id": user.pk if user is not None and user.is_authenticated else None,
                        "client": client_address(request),
                    }
                )
            )
        return response
