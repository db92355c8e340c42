"""Fixtures for `make run`'s processes, started for real (tests/reliability/sqlite_site.py)."""

import os
import signal

import pytest

from tests.reliability.sqlite_site import Launcher, SqliteSite


@pytest.fixture
def sqlite_site(tmp_path) -> SqliteSite:
    site = SqliteSite(tmp_path)
    site.manage("migrate", "--run-syncdb", DJANGO_SETTINGS_MODULE="tests.reliability.schema_settings")
    site.manage("migrate", "--fake")
    return site


@pytest.fixture
def launch(tmp_path):
    started = []

    def start(site: SqliteSite) -> Launcher:
        started.append(Launcher(site, tmp_path))
        return started[-1]

    yield start
    for launcher in started:  # a test that failed midway leaves nothing running
        for pid in launcher.site.processes():
            os.kill(pid, signal.SIGKILL)
        launcher.process.wait()
