"""docker-compose.yml: the production path stays complete and consistent.

Docker does not run on CI machines here, so the file is validated against the compose
specification's JSON schema and checked for what the README promises; run
`docker compose config` where the plugin exists.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_and_health_checks(compose):
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service and service["healthcheck"]["test"], name


def test_web_worker_beat_share_one_image(compose):
    services = compose["services"]
    images = {services[n]["image"] for n in ("web", "worker", "beat")}
    builds = {services[n]["build"] for n in ("web", "worker", "beat")}
    assert images == {"tiebreak:latest"} and builds == {"."}
    assert "gunicorn config.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


def test_volumes_declared(compose):
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            used.add(volume.split(":", 1)[0])
    assert used <= declared and {"postgres-data", "redis-data"} <= declared


def test_dockerfile_installs_the_config_package():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "pip install --no-deps -e ." in dockerfile


def test_file_validates_against_the_compose_specification():
    """The compose-spec JSON schema (vendored by check-jsonschema) is what `docker compose
    config` validates against; Docker itself does not run on these machines."""
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(REPO / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_beat_reads_its_schedule_from_the_database(compose):
    """Weekly reports are PeriodicTask rows (django-celery-beat), editable in the admin; a
    local schedule file would be a second, invisible schedule."""
    command = compose["services"]["beat"]["command"]
    assert "--scheduler django_celery_beat.schedulers:DatabaseScheduler" in command
    assert "--schedule " not in command and "-s " not in command
