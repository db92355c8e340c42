from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from cedarheights.models import PrivacyNotice, SchoolSettings
from cedarheights.privacy_notice_text import FIRST_NOTICE_BODY, FIRST_NOTICE_TITLE
from cedarheights.roles import Role

SCHOOL_SETTINGS_CACHE_KEY = "cedarheights:school-settings"
PRIVACY_OFFICER_CACHE_KEY = "cedarheights:privacy-officer"
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


@dataclass(frozen=True)
class PrivacyOfficer:
    """Who answers for the school's handling of personal information (PIPEDA principle 1), and how to reach them."""

    name: str
    title: str
    email: str


def privacy_officer() -> PrivacyOfficer:
    """The officer named in School settings; blank name: the school's owner (its first active admin), blank email:
    the school's contact address. Every page's footer shows it, so it is cached as the settings are (a change of
    the settings drops it; a change of the owner's own name shows within the minute)."""
    found = cache.get(PRIVACY_OFFICER_CACHE_KEY)
    if found is None:
        found = _privacy_officer_read()
        cache.set(PRIVACY_OFFICER_CACHE_KEY, found, SCHOOL_SETTINGS_CACHE_SECONDS)
    return found


def _privacy_officer_read() -> PrivacyOfficer:
    school = school_settings_get()
    name = school.privacy_officer_name
    if not name:
        owner = (
            get_user_model()
            .objects.filter(Q(is_superuser=True) | Q(role=Role.ADMIN), is_active=True)
            .order_by("pk")
            .first()
        )
        name = (owner.get_full_name() or owner.email) if owner else school.name
    return PrivacyOfficer(
        name=name, title=school.privacy_officer_title, email=school.privacy_officer_email or school.contact_email
    )


def privacy_notice_current() -> PrivacyNotice:
    """The version families read and consent to now: the newest published one. The school always has one: where
    none is (migration 0018 publishes the first; a flushed database has lost it), the first is published now."""
    if current := PrivacyNotice.objects.filter(published_at__isnull=False).order_by("-version").first():
        return current
    first, _ = PrivacyNotice.objects.get_or_create(
        version=1,
        defaults={"title": FIRST_NOTICE_TITLE, "body": FIRST_NOTICE_BODY, "published_at": timezone.now()},
    )
    return first


def privacy_notices_published() -> QuerySet[PrivacyNotice]:
    return PrivacyNotice.objects.filter(published_at__isnull=False).order_by("-version")
