"""`make bench`'s second floor: production settings with only Django's security and session middleware.

The bench serves its floor view (`/bench/floor`) with these settings too, so the table shows what the project's own
middleware (metrics, the request log, outage answers, static files, CSRF, sign-in, headers…) adds to Django's
floor. Never served to anyone else.
"""

from cedarheights.settings.production import *  # noqa: F403

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
]
