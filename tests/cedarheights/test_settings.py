import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"DJANGO_ALLOWED_HOSTS": "school.example"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "x" * 60}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_production_settings_refuse_to_start_without_their_secrets(env, missing):
    result = manage("check", DJANGO_SETTINGS_MODULE="cedarheights.settings.production", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_settings_start_with_them():
    result = manage(
        "check",
        DJANGO_SETTINGS_MODULE="cedarheights.settings.production",
        DJANGO_SECRET_KEY="k" * 60,
        DJANGO_ALLOWED_HOSTS="school.example",
    )
    assert result.returncode == 0, result.stderr


def test_the_wsgi_app_leaves_what_loading_made_out_of_the_collectors_full_passes():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    probe = "import gc; import cedarheights.wsgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**clean, "DJANGO_SECRET_KEY": "k" * 60, "DJANGO_ALLOWED_HOSTS": "school.example"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) > 10_000  # Django's modules, models and settings


def test_the_embedded_default_passes_its_checks_without_warnings(tmp_path):
    """Made to fail first: the lesson index's non-key columns gave models.W040 on SQLite at every start."""
    result = manage("check", "--database", "default", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr
