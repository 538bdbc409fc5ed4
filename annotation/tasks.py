"""Celery tasks for annotation: imports of large uploads (see services/imports/queue.py)."""

from __future__ import annotations

from celery import Task, shared_task

from annotation.services.imports.queue import import_run_execute, import_run_fail
from config.celery_app import IDEMPOTENT_TASK_OPTIONS


class ImportTask(Task):
    """Records a run's final failure (retries spent, time limit) so it does not stay running."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        run_id = kwargs.get("run_id", args[0] if args else None)
        if run_id is not None:
            import_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(
    base=ImportTask,
    name="annotation.run_import",
    # Idempotent: an import is one transaction, and a finished run is not imported again.
    **IDEMPOTENT_TASK_OPTIONS,
    max_retries=3,
    # 1M comparisons take a few minutes; stay inside the broker's visibility timeout.
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def run_import(run_id: int) -> str:
    """Import queued run ``run_id`` and return its final status."""
    return import_run_execute(run_id=run_id).status
