"""Settings: embedded defaults, environment switches, production refusal and check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETUP = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.{module}'; "
    "django.setup()"
)


def _run(code: str, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_default_is_sqlite_and_eager():
    out = _run(
        SETUP.format(module="base") + ";"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["django.db.backends.sqlite3", "True", "memory://localhost/"]


def test_environment_selects_postgresql_and_redis():
    out = _run(
        SETUP.format(module="base") + ";"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/tiebreak",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "django.db.backends.postgresql",
        "False",
        "redis://127.0.0.1:6379/0",
    ]
    import psycopg  # noqa: F401  (psycopg 3 is the driver)


def test_production_refuses_to_start_without_a_real_secret_key():
    code = SETUP.format(module="production")
    for secret in ({}, {"SECRET_KEY": "short"}, {"SECRET_KEY": "insecure-" + "x" * 60}):
        out = _run(code, **secret)
        assert out.returncode != 0
        assert "SECRET_KEY must be set" in out.stderr


def test_production_passes_check_deploy_without_warnings():
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "k" * 20 + "Q7v9-x_ZpL2mN8rT4wY6" + "s" * 20,
            "ALLOWED_HOSTS": "tiebreak.example.org",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
