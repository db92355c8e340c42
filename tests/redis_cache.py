"""Django's cache on a real Redis (django-redis), as every server and worker shares it when REDIS_URL is set.

The suite runs on locmem (cedarheights/settings/test.py); `redis_cache` switches one test to Redis DB
TEST_REDIS_CACHE_URL (its own number, emptied before and after), and `each_cache` runs a test on both.
`unreachable_redis` points the cache and the broker at a loopback port nobody listens on.
"""

import os

import pytest
import redis

from cedarheights.caches import shared_cache
from tests.stripe_server import free_port

TEST_REDIS_CACHE_URL = os.environ.get("TEST_REDIS_CACHE_URL", "redis://127.0.0.1:6379/2")


def redis_caches(url: str) -> dict:
    """CACHES as base.py writes them for REDIS_URL."""
    return {"default": shared_cache(url)}


def redis_use(settings, url: str) -> None:
    """The settings REDIS_URL gives a server: the cache and django-q2's broker on `url`."""
    settings.REDIS_URL = url
    settings.CACHES = redis_caches(url)
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": url}


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis (TEST_REDIS_CACHE_URL), emptied before and after the test."""
    with redis.Redis.from_url(TEST_REDIS_CACHE_URL) as own:
        own.flushdb()
        redis_use(settings, TEST_REDIS_CACHE_URL)
        yield
        own.flushdb()


@pytest.fixture(params=["locmem", "redis"])
def each_cache(request):
    """The test once on the suite's locmem cache and once on Redis, as several servers share it."""
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    return request.param


@pytest.fixture
def unreachable_redis(settings):
    """REDIS_URL names a loopback port with nothing behind it: every connection is refused at once."""
    redis_use(settings, f"redis://127.0.0.1:{free_port()}/0")
