#!/usr/bin/env python
"""The image's HEALTHCHECK, and how `make prod-local` knows the server is up: exit 0 when the app, asked from
this machine, answers 200 on /health/live (or the path given, e.g. /health/ready).

The request is made as the HTTPS proxy would make it, or production's own checks answer before the health view
does: its Host is one of DJANGO_ALLOWED_HOSTS (else 400) and it says HTTPS (X-Forwarded-Proto, else a redirect).
The address is gunicorn's (GUNICORN_BIND, as gunicorn.conf.py reads it).
"""

import os
import sys

from supervisor import status_of

WILDCARD_ADDRESSES = {"", "0.0.0.0", "[::]"}


def local_url(path: str) -> str:
    host, _, port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rpartition(":")
    return f"http://{'127.0.0.1' if host in WILDCARD_ADDRESSES else host}:{port}{path}"


def proxy_headers() -> dict[str, str]:
    """A Host production accepts (the first allowed one; `.example.com` allows example.com) and HTTPS."""
    first_allowed = os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")[0].strip().lstrip(".")
    return {"Host": "localhost" if first_allowed in ("", "*") else first_allowed, "X-Forwarded-Proto": "https"}


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "/health/live"
    sys.exit(0 if status_of(local_url(path), proxy_headers()) == 200 else 1)
