import pytest
from django.core.cache import cache
from django.db import connection

# Shared fixtures for every test folder.
pytest_plugins = [
    "tests.stripe_server",
    "tests.school",
    "tests.database_relay",
    "tests.scheduling.fixtures",
    "tests.billing.fixtures",
    "tests.api.fixtures",
    "tests.lesson_week",
    "tests.redis_cache",
]


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_school_settings_cache():
    """The settings row is cached per process; each test starts from what its database holds."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def school(db):
    from cedarheights.selectors import privacy_notice_current, school_settings_get
    from cedarheights.services import school_settings_update

    privacy_notice_current()  # the notice migration 0018 publishes, which a flushed (transactional) database lost
    return school_settings_update(
        school_settings=school_settings_get(),
        time_zone="America/Toronto",
        minimum_notice_hours=24,
        booking_horizon_days=28,
        buffer_minutes=0,
        slot_step_minutes=15,
    )


@pytest.fixture
def owner_client(db):
    """The school's owner (a superuser, as `make run` makes Amira) signed in to the admin."""
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.create_superuser("owner@example.com", "an-owner-password-1"))
    return client
