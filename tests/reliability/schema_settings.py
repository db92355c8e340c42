"""Settings that build a fresh SQLite database's tables straight from the models (`migrate --run-syncdb`).

Only for the tests that start `make run`'s processes: the real migrations take about a minute on SQLite
(they are run by tests/cedarheights/test_seed_and_migrations.py); these tests need the schema, then record
every migration as applied (`migrate --fake`) so the processes see an up-to-date database.
"""

from cedarheights.settings.local import *  # noqa: F403


class _NoMigrations(dict):
    def __contains__(self, app_label):
        return True

    def __getitem__(self, app_label):
        return None


MIGRATION_MODULES = _NoMigrations()
