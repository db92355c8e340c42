"""The deployment files, read as Docker, compose and gunicorn read them (no image can be built on this machine).

Made to fail first: with `USER` removed from the Dockerfile, `depends_on` of the worker cut to the databases,
gunicorn's worker count fixed at 3, and the health check's Host left as `.school.example.com`, the tests below
failed one by one.
"""

import re
import runpy
import subprocess
import sys
import types
import urllib.parse
from pathlib import Path

import pytest
import yaml

from tests.stripe_server import ROOT

APP_SERVICES = ("release", "web", "worker")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def gunicorn_config() -> dict:
    """gunicorn.conf.py's settings, as gunicorn reads the file: run as a module, in this process's environment."""
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def interpolated(value: str) -> str:
    """A compose value with each `${VARIABLE…}` filled in, as compose fills it from `.env`."""
    return re.sub(r"\$\{[^}]*\}", "filled-in", value)


def dockerfile_instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)


def test_gunicorn_workers_follow_the_cpu_count_unless_web_concurrency_says(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 3)
    assert gunicorn_config()["workers"] == 7

    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert gunicorn_config()["workers"] == 4


def test_gunicorn_binds_from_the_environment_and_writes_no_access_log(monkeypatch):
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    assert gunicorn_config()["bind"] == "0.0.0.0:8000"
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9123")
    config = gunicorn_config()
    assert config["bind"] == "127.0.0.1:9123"
    assert config["accesslog"] is None  # the app writes one JSON line per request
    assert config["control_socket_disable"] is True  # one path per user: two servers would share it
    assert config["max_requests"] > 0 and 0 < config["max_requests_jitter"] < config["max_requests"]


def test_gunicorn_empties_the_metrics_directory_on_start_and_forgets_a_dead_worker(monkeypatch, tmp_path):
    directory = tmp_path / "prometheus"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    config = gunicorn_config()

    config["on_starting"](server=None)
    assert directory.is_dir()
    (directory / "counter_111.db").write_bytes(b"stale")
    config["on_starting"](server=None)
    assert list(directory.iterdir()) == []  # an earlier run's figures are gone

    # Live gauges of a worker that stopped are removed by prometheus_client (its own files only)
    (directory / "gauge_liveall_4242.db").write_bytes(b"")
    (directory / "gauge_liveall_4343.db").write_bytes(b"")
    config["child_exit"](server=None, worker=types.SimpleNamespace(pid=4242))
    assert sorted(path.name for path in directory.iterdir()) == ["gauge_liveall_4343.db"]


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_in_one_stage_and_runs_in_another_as_a_user_not_root():
    stages = dockerfile_instructions("FROM")
    assert len(stages) == 2 and all(stage.startswith("python:3.11-slim") for stage in stages)
    assert dockerfile_instructions("COPY --from=build")
    users = dockerfile_instructions("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "postgresql-client" in (ROOT / "Dockerfile").read_text()
    assert any("collectstatic" in run for run in dockerfile_instructions("RUN"))
    assert dockerfile_instructions("EXPOSE") == ["8000"]
    assert "scripts/healthcheck.py" in dockerfile_instructions("HEALTHCHECK")[0]  # /health/live by default
    assert "gunicorn.conf.py" in dockerfile_instructions("CMD")[0]


def test_the_image_never_holds_the_servers_secrets():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored


def test_compose_runs_web_worker_and_release_from_one_image_beside_the_databases_and_caddy(compose):
    services = compose["services"]
    assert set(services) >= {"web", "worker", "db", "redis", "caddy", "release"}
    images = {(services[name]["image"], services[name]["build"]) for name in APP_SERVICES}
    assert len(images) == 1
    assert services["worker"]["command"] == ["python", "manage.py", "qcluster"]
    release = " ".join(services["release"]["command"])
    assert release.index("migrate") < release.index("billing_sync_catalog")
    assert services["release"]["restart"] == "no"
    assert services["db"]["image"].startswith("postgres:15") and services["redis"]["image"].startswith("redis:7")
    assert services["caddy"]["image"].startswith("caddy:2")
    assert all("test" in services[name]["healthcheck"] for name in ("db", "redis"))


def test_web_and_worker_start_once_the_databases_are_healthy_and_the_release_succeeded(compose):
    for name in ("web", "worker"):
        assert compose["services"][name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "release": {"condition": "service_completed_successfully"},
        }, name
    assert compose["services"]["caddy"]["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_the_apps_reach_postgres_and_redis_at_their_compose_services(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert urllib.parse.urlsplit(interpolated(environment["DATABASE_URL"])).hostname == "db"
        assert urllib.parse.urlsplit(environment["REDIS_URL"]).hostname == "redis"
        assert services[name]["env_file"] == ".env"


def test_backups_land_in_a_volume_the_apps_user_may_write(compose):
    """Made to fail first: the image's /app belongs to root, so `manage.py backup` in web could not write a dump."""
    assert "backups:/app/backups" in compose["services"]["web"]["volumes"] and "backups" in compose["volumes"]
    user = dockerfile_instructions("USER")[-1]
    assert any("/app/backups" in run and f"chown {user}" in run for run in dockerfile_instructions("RUN"))


def test_web_trusts_caddy_as_its_one_proxy(compose):
    environment = compose["services"]["web"]["environment"]
    assert environment["TRUSTED_PROXIES"] == "1"
    assert "ports" not in compose["services"]["web"]  # only Caddy reaches it
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "{$DOMAIN}" in caddyfile and "reverse_proxy web:8000" in caddyfile
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in compose["services"]["caddy"]["volumes"]


def test_every_variable_compose_and_gunicorn_read_is_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    read |= set(re.findall(r'environ\.get\("([A-Z][A-Z0-9_]+)"', (ROOT / "gunicorn.conf.py").read_text()))
    assert read - documented == set()


def test_the_image_health_check_asks_gunicorn_as_caddy_would(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))  # as `python scripts/healthcheck.py` finds its neighbours
    healthcheck = runpy.run_path(str(ROOT / "scripts" / "healthcheck.py"))
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", ".school.example.com,localhost")
    monkeypatch.setenv("GUNICORN_BIND", "[::]:8000")

    assert healthcheck["proxy_headers"]() == {"Host": "school.example.com", "X-Forwarded-Proto": "https"}
    assert healthcheck["local_url"]("/health/live") == "http://127.0.0.1:8000/health/live"
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.2:9000")
    assert healthcheck["local_url"]("/health/ready") == "http://127.0.0.2:9000/health/ready"
