"""The two shapes of Django's default cache, for the settings and for the tests that switch between them."""


def shared_cache(redis_url: str) -> dict:
    """One cache on Redis for every server and worker: django-redis's RedisCache, counting gets, hits and misses
    for /metrics (django-prometheus's subclass)."""
    return {
        "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": "cedarheights",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }


def process_cache(*, max_entries: int) -> dict:
    """Each process's own. Django's class, not django-prometheus's subclass: its get() answers the default for any
    cached value that is falsy (0, "", []), which would turn a kept empty answer into a miss."""
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": max_entries}}
