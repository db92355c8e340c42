"""The test suite: `make test` (pytest-django forces the locmem email backend)."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite runs in one process on its own: a REDIS_URL in the shell changes neither the cache nor the broker.
CACHES = {"default": PROCESS_CACHE}  # noqa: F405
Q_CLUSTER = {**{k: v for k, v in Q_CLUSTER.items() if k != "redis"}, "orm": "default", "sync": True}  # noqa: F405
# Address throttles are exercised by their own test; elsewhere they would cut the suite's loops short.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "public": "100000/minute",
        "auth": "100000/minute",
        "enroll": "100000/minute",
        "calendar_feed": "100000/minute",
    },
}
# No collectstatic in tests: plain storage, so templates can name static files that were never collected.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
