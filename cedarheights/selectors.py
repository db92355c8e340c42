from datetime import date

from django.core.cache import cache
from django.utils import timezone

from cedarheights.models import SchoolSettings

SCHOOL_SETTINGS_CACHE_KEY = "cedarheights:school-settings"
# Other worker processes see an owner's change within this many seconds; the saving one at once.
SCHOOL_SETTINGS_CACHE_SECONDS = 60


def school_settings_get() -> SchoolSettings:
    found = cache.get(SCHOOL_SETTINGS_CACHE_KEY)
    if found is None:
        found, _ = SchoolSettings.objects.get_or_create(id=SchoolSettings.SINGLETON_ID)
        cache.set(SCHOOL_SETTINGS_CACHE_KEY, found, SCHOOL_SETTINGS_CACHE_SECONDS)
    return found


def school_today() -> date:
    """Today in the school's zone: lessons, credits and closures are the school's days, whatever zone the process
    runs in (a worker, a command, the demo's seed)."""
    return timezone.localdate(timezone=school_settings_get().zone)
