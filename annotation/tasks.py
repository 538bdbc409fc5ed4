"""Celery tasks for annotation: imports of large uploads (see services/imports/queue.py)."""

from __future__ import annotations

from celery import shared_task

from annotation.services.imports.queue import import_run_execute
from config.celery_app import LONG_TASK_OPTIONS, RecordsFailure


@shared_task(
    base=RecordsFailure,
    record_failure=("annotation.services.imports.queue.import_run_fail", "run_id"),
    name="annotation.run_import",
    # Idempotent: an import is one transaction, and a finished run is not imported again.
    **LONG_TASK_OPTIONS,
)
def run_import(run_id: int) -> str:
    """Import queued run ``run_id`` and return its final status."""
    return import_run_execute(run_id=run_id).status
