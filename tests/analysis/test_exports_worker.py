"""A large export written by a real Celery worker (Redis broker, PostgreSQL)."""

from __future__ import annotations

import hashlib

import pytest

from analysis.models import JobStatus
from analysis.services.exports import export_snapshot_enqueue, export_snapshot_write
from analysis.services.simulate import simulated_project_create
from tests.celery_processes import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_worker_writes_a_queued_export_with_progress(workers, settings, tmp_path):
    project = simulated_project_create(
        slug="worker-export", comparisons=30, annotators=4, seed=1, start_features=False
    ).project
    settings.TIEBREAK_EXPORT_INLINE_MAX_ROWS = 10
    workers()
    # The dpo kind needs no style features (none were extracted here).
    snapshot = export_snapshot_enqueue(project=project, kind="dpo", format="parquet")
    assert snapshot.status == JobStatus.PENDING and snapshot.total == 30

    def finished():
        snapshot.refresh_from_db()
        return snapshot.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    wait_for(finished, timeout=60, what="the export to finish")
    assert snapshot.status == JobStatus.SUCCEEDED, snapshot.error
    assert snapshot.done == snapshot.total and snapshot.row_count > 0
    with snapshot.file.open("rb") as file:
        stored = file.read()
    assert hashlib.sha256(stored).hexdigest() == snapshot.sha256
    # The worker's file is the one this process writes from the same snapshot.
    again = export_snapshot_write(snapshot=snapshot, path=tmp_path / "again.parquet")
    assert again.sha256 == snapshot.sha256
    snapshot.file.delete(save=False)
