"""What the code keeps in the cache survives Redis as it survives locmem: each value pickles and comes back equal,
and a change of the school's settings drops the shared entry, so every server reads the new row at once.

(The rate limits and the teachers' free-time cache run on Redis too: `each_cache` in tests/cedarheights/
test_client_address.py, tests/enrollment/test_card_check_and_limits.py and tests/scheduling/test_free_time_cache.py.)
"""

import pytest
from django.core.cache import cache

from cedarheights.dashboard import METRICS_CACHE_KEY, dashboard_metrics
from cedarheights.selectors import (
    PRIVACY_OFFICER_CACHE_KEY,
    SCHOOL_SETTINGS_CACHE_KEY,
    privacy_officer,
    school_settings_get,
)
from cedarheights.services import school_settings_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_cache")]


def test_the_school_settings_and_privacy_officer_come_back_from_redis_and_a_change_drops_them(school):
    # Given both read once: on Redis now, for every server
    first, officer = school_settings_get(), privacy_officer()
    assert cache.get(SCHOOL_SETTINGS_CACHE_KEY) == first and cache.get(PRIVACY_OFFICER_CACHE_KEY) == officer
    assert school_settings_get().zone == first.zone and privacy_officer() == officer

    # When the owner changes the settings
    school_settings_update(school_settings=first, privacy_officer_name="Ada Officer")

    # Then the shared entries are gone and the next read, on any server, is the new row
    assert cache.get(SCHOOL_SETTINGS_CACHE_KEY) is None
    assert privacy_officer().name == "Ada Officer"


def test_the_owner_s_numbers_come_back_from_redis_equal(school):
    computed = dashboard_metrics()
    assert cache.get(METRICS_CACHE_KEY) == computed
    assert dashboard_metrics() == computed
