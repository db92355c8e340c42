"""One JSON log line per request, tied together by a request id that is echoed back."""

import json
import logging
import re
import time
import uuid

from cedarheights.client_address import client_address

logger = logging.getLogger("cedarheights.requests")
# An upstream proxy's id is kept only when it is short and plain, so it cannot forge log lines.
INCOMING_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if INCOMING_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        user = getattr(request, "user", None)
        logger.info(
            json.dumps(
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
