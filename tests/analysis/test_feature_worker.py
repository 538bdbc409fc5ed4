"""Feature extraction (and queued imports) end to end: real Redis, real Celery workers,
PostgreSQL, kill -9."""

from __future__ import annotations

import contextlib
import json
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
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count

from analysis.features.registry import active_registry
from analysis.models import FeatureChunk, FeatureJob, FeatureValue, JobStatus
from analysis.services.features import feature_job_enqueue
from annotation.models import ImportRun, Response
from annotation.services.imports import import_enqueue
from config.celery_app import app as celery_app
from tests.factories import ProjectFactory, PromptFactory, ResponseFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("TIEBREAK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY = Path(sys.executable).with_name("celery")
# Short enough that a message held by a SIGKILLed worker comes back within the test;
# long enough that no chunk (0.4 s here) outlives it and is redelivered while running.
VISIBILITY_TIMEOUT = 6

TEXTS = [
    "Great question! You're absolutely right 😀. Here is the answer.",
    "# Plan\n\n- step one\n- step two\n\n**Definitely** do this first.",
    "No. That is incorrect; the boiling point depends on pressure.",
    "I think it might work, perhaps, but I am not sure.",
    "Sure! 🎉🎉 Happy to help with that.",
]


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def broker(transactional_db):
    """Point this process's Celery app at the test Redis with a queue of its own."""
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
    _reset_producers()
    yield SimpleNamespace(url=REDIS_URL, queue=queue, redis=client)
    celery_app.conf.update(saved)
    _reset_producers()


@pytest.fixture
def workers(broker, tmp_path):
    """Start real ``celery worker`` processes; every one still running is killed at the end."""
    started: list[subprocess.Popen] = []

    def start(*, chunk_delay: float = 0.0, queues: tuple[str, ...] = ()) -> subprocess.Popen:
        """``queues``: more queues to consume, e.g. the default one, where tasks sent by
        the worker itself go."""
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _test_database_url(),
            "CELERY_BROKER_URL": broker.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "TIEBREAK_FEATURE_CHUNK_DELAY": str(chunk_delay),
        }
        command = [str(CELERY), "-A", "config", "worker", "--pool=prefork", "--concurrency=1"]
        command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
        command += [
            "-Q",
            ",".join((broker.queue, *queues)),
            "-n",
            f"test-{uuid.uuid4().hex[:8]}@%h",
            "-l",
            "INFO",
        ]
        process = subprocess.Popen(
            command,
            env=env,
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so the whole worker (parent and pool) dies at once.
            start_new_session=True,
        )
        process.log_path = log.name
        started.append(process)
        return process

    yield start
    for process in started:
        _kill_group(process)
        log = Path(process.log_path).read_text(errors="replace")
        print(f"--- {process.log_path} (last 3000 chars) ---\n{log[-3000:]}")


# --- helpers -----------------------------------------------------------------------------


def _reset_producers() -> None:
    """Drop the app's cached connections and routes so the next send uses the new conf."""
    # kombu keeps connection pools in a global registry keyed by URL: close and forget them
    # all, or the next test would be handed a pool closed by the previous one.
    kombu.pools.reset()
    celery_app._pool = None
    # The router and the queue declarations are cached on ``app.amqp``.
    celery_app.__dict__.pop("amqp", None)


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _make_project(n: int):
    project = ProjectFactory()
    prompts = [PromptFactory(project=project) for _ in range(max(1, n // 2))]
    responses = [
        ResponseFactory(prompt=prompts[i % len(prompts)], text=f"{TEXTS[i % len(TEXTS)]} #{i}")
        for i in range(n)
    ]
    return project, responses


def _chunk_in_flight(job: FeatureJob) -> FeatureChunk | None:
    """A chunk a worker has started (attempts counted) but not finished."""
    return job.chunks.filter(attempts__gte=1, done=False).order_by("first_id").first()


def _job_finished(job: FeatureJob) -> bool:
    job.refresh_from_db()
    return job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


def _assert_extracted_exactly_once(project, responses) -> None:
    extractors = list(active_registry())
    rows = FeatureValue.objects.filter(response__project=project)
    assert rows.count() == len(responses) * len(extractors)
    per_key = rows.values("response_id", "extractor", "version").annotate(n=Count("id"))
    assert {row["n"] for row in per_key} == {1}
    current = {(e.name, e.version) for e in extractors}
    for response in responses:
        got = set(response.features.values_list("extractor", "version"))
        assert got == current, response.pk


# --- tests -------------------------------------------------------------------------------


def test_worker_extracts_every_response_once(workers):
    project, responses = _make_project(120)
    workers()
    job = feature_job_enqueue(project=project, chunk_size=25)
    assert job.total == 120 and job.chunks.count() == 5

    _wait_for(lambda: _job_finished(job), timeout=120, what="the job to finish")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert not job.chunks.filter(done=False).exists()
    _assert_extracted_exactly_once(project, responses)


def test_kill_9_of_the_pool_child_requeues_its_chunk(workers):
    """SIGKILL the prefork child mid-chunk: the parent rejects and requeues the message."""
    project, responses = _make_project(60)
    worker = workers(chunk_delay=0.4)
    job = feature_job_enqueue(project=project, chunk_size=6)

    victim = _wait_for(lambda: _chunk_in_flight(job), timeout=30, what="a chunk in flight")
    (child,) = _children(worker.pid)
    os.kill(child, signal.SIGKILL)

    _wait_for(lambda: _job_finished(job), timeout=60, what="the job to finish")
    victim.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert victim.done and victim.attempts >= 2  # it ran again after the kill
    _assert_extracted_exactly_once(project, responses)


def test_kill_9_of_the_whole_worker_redelivers_after_visibility_timeout(workers, broker):
    """SIGKILL parent and child together: nothing acks or requeues the message, so Redis
    keeps it in its unacked set until the visibility timeout, and a new worker restores it.
    """
    project, responses = _make_project(60)
    first = workers(chunk_delay=0.4)
    job = feature_job_enqueue(project=project, chunk_size=6)

    victim = _wait_for(lambda: _chunk_in_flight(job), timeout=30, what="a chunk in flight")
    _kill_group(first)
    killed_at = time.monotonic()
    victim.refresh_from_db()
    assert not victim.done
    assert broker.redis.hlen("unacked") >= 1  # the kill left the message unacknowledged
    # A SIGKILLed worker may have died holding kombu's restore mutex (it expires after
    # 5 minutes); it is ours to clear since we just killed its only holder.
    broker.redis.delete("unacked_mutex")
    # kombu restores only messages older than the visibility timeout; the new worker's
    # first sweep (at start-up, or its first periodic one) then finds this one.
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 1 - (time.monotonic() - killed_at)))
    workers(chunk_delay=0.4)

    _wait_for(lambda: _job_finished(job), timeout=60, what="the job to finish")
    victim.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert victim.done and victim.attempts >= 2
    _assert_extracted_exactly_once(project, responses)


def test_worker_imports_a_queued_upload_then_extracts_its_features(workers):
    """A large upload, queued by the web process, is imported by a worker, and the import's
    commit starts the feature job on the same worker, with no other action."""
    workers(queues=("celery",))  # the worker sends the feature chunks to the default queue
    records = [
        {"id": f"w-{i}", "prompt": f"Q{i}?", "response_a": TEXTS[i % 5], "response_b": f"No. {i}"}
        for i in range(40)
    ]
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    project = ProjectFactory()
    run = import_enqueue(project=project, upload=SimpleUploadedFile("big.jsonl", body))
    assert run.status == ImportRun.Status.QUEUED

    def finished():
        run.refresh_from_db()
        return run.status in ImportRun.FINISHED

    _wait_for(finished, timeout=60, what="the import to finish")
    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.n_comparisons_created == 40
    # The stored upload is deleted just after the outcome is saved.
    _wait_for(lambda: finished() and not run.upload, timeout=10, what="the upload's deletion")
    job = _wait_for(
        lambda: FeatureJob.objects.filter(project=project).first(), timeout=30, what="a job"
    )
    _wait_for(lambda: _job_finished(job), timeout=120, what="the job to finish")
    assert job.status == JobStatus.SUCCEEDED, job.error
    _assert_extracted_exactly_once(project, list(Response.objects.filter(project=project)))
