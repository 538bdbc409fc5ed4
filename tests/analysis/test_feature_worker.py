"""Feature extraction (and queued imports) end to end: real Redis, real Celery workers,
PostgreSQL, kill -9."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count

from analysis.features.registry import active_registry
from analysis.models import FeatureChunk, FeatureJob, FeatureValue, JobStatus
from analysis.services.features import feature_job_enqueue
from annotation.models import ImportRun, Response
from annotation.services.imports import import_enqueue
from tests.celery_processes import VISIBILITY_TIMEOUT, children, kill_group, wait_for
from tests.factories import ProjectFactory, PromptFactory, ResponseFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


TEXTS = [
    "Great question! You're absolutely right 😀. Here is the answer.",
    "# Plan\n\n- step one\n- step two\n\n**Definitely** do this first.",
    "No. That is incorrect; the boiling point depends on pressure.",
    "I think it might work, perhaps, but I am not sure.",
    "Sure! 🎉🎉 Happy to help with that.",
]


# --- helpers -----------------------------------------------------------------------------


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

    wait_for(lambda: _job_finished(job), timeout=120, what="the job to finish")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert not job.chunks.filter(done=False).exists()
    _assert_extracted_exactly_once(project, responses)


def test_kill_9_of_the_pool_child_requeues_its_chunk(workers):
    """SIGKILL the prefork child mid-chunk: the parent rejects and requeues the message."""
    project, responses = _make_project(60)
    worker = workers(chunk_delay=0.4)
    job = feature_job_enqueue(project=project, chunk_size=6)

    victim = wait_for(lambda: _chunk_in_flight(job), timeout=30, what="a chunk in flight")
    (child,) = children(worker.pid)
    os.kill(child, signal.SIGKILL)

    wait_for(lambda: _job_finished(job), timeout=60, what="the job to finish")
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

    victim = wait_for(lambda: _chunk_in_flight(job), timeout=30, what="a chunk in flight")
    kill_group(first)
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

    wait_for(lambda: _job_finished(job), timeout=60, what="the job to finish")
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

    wait_for(finished, timeout=60, what="the import to finish")
    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert run.n_comparisons_created == 40
    # The stored upload is deleted just after the outcome is saved.
    wait_for(lambda: finished() and not run.upload, timeout=10, what="the upload's deletion")
    job = wait_for(
        lambda: FeatureJob.objects.filter(project=project).first(), timeout=30, what="a job"
    )
    wait_for(lambda: _job_finished(job), timeout=120, what="the job to finish")
    assert job.status == JobStatus.SUCCEEDED, job.error
    _assert_extracted_exactly_once(project, list(Response.objects.filter(project=project)))
