"""What an operator and an SPA developer rely on: a schema without warnings, a deployable configuration."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := re.match(r"^([A-Z_][A-Z0-9_]*)=([^#]*)", line):
            values[match[1]] = match[2].strip()
    return values


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=180)


def test_the_openapi_schema_validates_with_no_warnings(tmp_path):
    result = manage(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yml"),
        DJANGO_SETTINGS_MODULE="cedarheights.settings.test",
    )
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr and "Warning" not in result.stderr


def test_production_settings_pass_the_deploy_check_with_the_documented_variables():
    variables = {
        **env_example(),
        "DJANGO_SECRET_KEY": "x9$" + "k2Lq8vT4nB7mR1pZ5wY3hC6jF0sD" * 2,
        "DJANGO_ALLOWED_HOSTS": "school.example",
        "DJANGO_DEBUG": "false",
        # .env.example's Stripe values are the local Stripe server's, which production refuses.
        "STRIPE_TEST_SECRET_KEY": "sk_test_" + "own" * 10,
        "STRIPE_TEST_PUBLIC_KEY": "pk_test_" + "own" * 10,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "own" * 10,
    }
    variables.pop("DATABASE_URL", None)
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="cedarheights.settings.production",
        **variables,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_swagger_ui_is_served_from_local_static_files():
    page = Client().get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in asset for asset in assets)
    assert all(asset.startswith("/") for asset in assets), assets  # nothing from a CDN
    bundle = next(asset for asset in assets if asset.endswith("swagger-ui-bundle.js"))
    assert Client().get(bundle).status_code == 200
