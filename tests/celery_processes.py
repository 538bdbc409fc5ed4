"""Real Celery processes for the tests that need them: the Redis broker, workers and beat.

Loaded as a pytest plugin by ``tests/conftest.py``, so the ``broker``, ``workers`` and
``beat`` fixtures are available to every test; the tests that use them are marked
``redis`` and run in the PostgreSQL pass of ``make test`` (a worker process cannot see
SQLite's in-memory test database).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import kombu.pools
import pytest
from django.conf import settings
from django.db import connection

REDIS_URL = os.environ.get("TIEBREAK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY = Path(sys.executable).with_name("celery")
# Short enough that a message held by a SIGKILLed worker comes back within the test;
# long enough that no feature chunk (0.4 s in those tests) outlives it and is redelivered
# while running.
VISIBILITY_TIMEOUT = 6


@pytest.fixture
def broker(transactional_db):
    """Point this process's Celery app at the test Redis with a queue of its own."""
    from config.celery_app import app as celery_app

    if connection.vendor != "postgresql":
        # Selected by the `redis` marker in the PostgreSQL pass of `make test`; failing (not
        # skipping) here means a misconfigured run can never pass silently.
        pytest.fail(
            "needs PostgreSQL: a worker process cannot see SQLite's in-memory test database "
            "(run `make test-postgres`)"
        )
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} (TIEBREAK_TEST_REDIS_URL)")
    # Leftover messages or unacked entries from an earlier run must not be redelivered here.
    client.flushdb()
    queue = f"tiebreak-test-{uuid.uuid4().hex[:10]}"
    overrides = {
        "broker_url": REDIS_URL,
        "task_always_eager": False,
        "task_default_queue": queue,
        "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT},
    }
    saved = {key: celery_app.conf[key] for key in overrides}
    celery_app.conf.update(overrides)
    _reset_producers(celery_app)
    yield SimpleNamespace(url=REDIS_URL, queue=queue, redis=client)
    celery_app.conf.update(saved)
    _reset_producers(celery_app)


@pytest.fixture
def celery_processes(broker, tmp_path):
    """Start ``celery`` subcommands against the test broker and database; each one still
    running is killed at the end, and the tail of its log printed (shown on failure)."""
    started: list[subprocess.Popen] = []

    def spawn(arguments: list[str], *, name: str, env: dict[str, str] | None = None):
        log = (tmp_path / f"{name}-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [str(CELERY), "-A", "config", *arguments, "-l", "INFO"],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": test_database_url(),
                "CELERY_BROKER_URL": broker.url,
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                # Files the worker writes (exports) or reads (queued uploads) are the test's.
                "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                **(env or {}),
            },
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so the whole worker (parent and pool) dies at once.
            start_new_session=True,
        )
        process.log_path = log.name
        started.append(process)
        return process

    yield spawn
    for process in started:
        kill_group(process)
        log = Path(process.log_path).read_text(errors="replace")
        print(f"--- {process.log_path} (last 3000 chars) ---\n{log[-3000:]}")


@pytest.fixture
def workers(broker, celery_processes):
    """Start real ``celery worker`` processes (one pool process each)."""

    def start(*, chunk_delay: float = 0.0, queues: tuple[str, ...] = ()) -> subprocess.Popen:
        """``queues``: more queues to consume, e.g. the default one, where tasks sent by
        the worker itself or by beat go."""
        arguments = ["worker", "--pool=prefork", "--concurrency=1"]
        arguments += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
        arguments += ["-Q", ",".join((broker.queue, *queues))]
        arguments += ["-n", f"test-{uuid.uuid4().hex[:8]}@%h"]
        return celery_processes(
            arguments, name="worker", env={"TIEBREAK_FEATURE_CHUNK_DELAY": str(chunk_delay)}
        )

    return start


@pytest.fixture
def beat(celery_processes):
    """Start ``celery beat`` on the database scheduler (django-celery-beat)."""

    def start() -> subprocess.Popen:
        scheduler = "django_celery_beat.schedulers:DatabaseScheduler"
        return celery_processes(["beat", "--scheduler", scheduler], name="beat")

    return start


def _reset_producers(celery_app) -> None:
    """Drop the app's cached connections and routes so the next send uses the new conf."""
    # kombu keeps connection pools in a global registry keyed by URL: close and forget them
    # all, or the next test would be handed a pool closed by the previous one.
    kombu.pools.reset()
    celery_app._pool = None
    # The router and the queue declarations are cached on ``app.amqp``.
    celery_app.__dict__.pop("amqp", None)


def test_database_url() -> str:
    """The URL of the test database, for the processes started here."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
