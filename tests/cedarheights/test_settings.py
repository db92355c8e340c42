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


# A school's own Stripe values (any but the repository's public ones).
OWN_STRIPE = {
    "STRIPE_TEST_SECRET_KEY": "sk_test_" + "own" * 10,
    "STRIPE_TEST_PUBLIC_KEY": "pk_test_" + "own" * 10,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "own" * 10,
}
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "cedarheights.settings.production",
    "DJANGO_SECRET_KEY": "k" * 60,
    "DJANGO_ALLOWED_HOSTS": "school.example",
}


def test_production_settings_start_with_them():
    result = manage("check", **PRODUCTION, **OWN_STRIPE)
    assert result.returncode == 0, result.stderr


def test_production_talks_to_stripes_own_hosts_unless_told_otherwise():
    """Made to fail first: production inherited the local Stripe server's address (127.0.0.1:8420) from base."""
    show = "from django.conf import settings; print(settings.STRIPE_API_HOST, settings.STRIPE_JS_URL)"
    default = manage("shell", "--no-imports", "-c", show, **PRODUCTION, **OWN_STRIPE)
    told = manage(
        "shell", "--no-imports", "-c", show, **PRODUCTION, **OWN_STRIPE, STRIPE_API_HOST="http://127.0.0.1:8420"
    )
    assert default.stdout.split() == ["https://api.stripe.com", "https://js.stripe.com/v3/"], default.stderr
    assert told.stdout.split()[0] == "http://127.0.0.1:8420", told.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"STRIPE_WEBHOOK_SECRET": None}, "STRIPE_WEBHOOK_SECRET is the repository's public default"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_cedarheightslocal"}, "STRIPE_WEBHOOK_SECRET is the repository's public"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET is not set"),
        ({"STRIPE_TEST_SECRET_KEY": None}, "STRIPE_TEST_SECRET_KEY is the repository's public default"),
        ({"STRIPE_TEST_PUBLIC_KEY": "pk_test_cedarheightslocalstripe000000"}, "STRIPE_TEST_PUBLIC_KEY is the rep"),
        ({"STRIPE_TEST_SECRET_KEY": ""}, "STRIPE_TEST_SECRET_KEY is not set"),
        ({"STRIPE_LIVE_MODE": "true"}, "STRIPE_LIVE_SECRET_KEY is not set"),
        ({"STRIPE_LIVE_MODE": "true", "STRIPE_LIVE_SECRET_KEY": "sk_live_" + "own" * 10}, "STRIPE_LIVE_PUBLIC_KEY"),
    ],
    ids=lambda value: "-".join(f"{k}={v!r}" for k, v in value.items()) if isinstance(value, dict) else "",
)
def test_production_settings_refuse_a_missing_or_public_stripe_value(change, named):
    """Failed before the fix: production verified webhooks against the public `whsec_cedarheightslocal`."""
    stripe = {**OWN_STRIPE, **change}
    result = manage("check", **PRODUCTION, **{name: value for name, value in stripe.items() if value is not None})
    assert result.returncode != 0
    assert "Production settings need Stripe's own values." in result.stderr
    assert named in result.stderr


def test_production_settings_start_in_live_mode_with_the_live_keys():
    live = {"STRIPE_LIVE_MODE": "true", "STRIPE_LIVE_SECRET_KEY": "sk_live_x", "STRIPE_LIVE_PUBLIC_KEY": "pk_live_x"}
    result = manage("check", **PRODUCTION, STRIPE_WEBHOOK_SECRET="whsec_own", **live)
    assert result.returncode == 0, result.stderr


def test_check_deploy_names_a_public_stripe_value_in_any_settings():
    """The deploy check (cedarheights.E001) catches what production's refusal does, where no refusal runs."""
    public = manage("check", "--deploy", DJANGO_SETTINGS_MODULE="cedarheights.settings.local")
    assert "cedarheights.E001" in public.stderr
    assert "STRIPE_WEBHOOK_SECRET is the repository's public default" in public.stderr
    assert "STRIPE_TEST_SECRET_KEY is the repository's public default" in public.stderr
    own = manage("check", "--deploy", DJANGO_SETTINGS_MODULE="cedarheights.settings.local", **OWN_STRIPE)
    assert "cedarheights.E001" not in own.stdout + own.stderr


def test_the_wsgi_app_leaves_what_loading_made_out_of_the_collectors_full_passes():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    probe = "import gc; import cedarheights.wsgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**clean, "DJANGO_SECRET_KEY": "k" * 60, "DJANGO_ALLOWED_HOSTS": "school.example", **OWN_STRIPE},
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
