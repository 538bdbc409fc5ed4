"""Large uploads are imported in the background.

A file up to ``settings.TIEBREAK_IMPORT_INLINE_MAX_BYTES`` is imported within the request
that uploads it. A larger one would outlast the request (1M comparisons take minutes), so
it is stored with a ``queued`` ``ImportRun`` and the ``run_import`` Celery task imports it
once the request has committed; the run then says ``running``, and finally ``succeeded``
or ``failed`` with the same line-numbered errors as an import in the request. With eager
Celery (the embedded default) the task runs before the request returns.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files import File
from django.db import transaction

from annotation.models import ImportRun, Project
from annotation.services.imports.detect import FORMAT_CHOICES
from annotation.services.imports.errors import ImportFailed
from annotation.services.imports.service import import_file

logger = logging.getLogger(__name__)


def import_should_queue(upload: File) -> bool:
    """Whether ``upload`` is too large to import within the request."""
    return upload.size > settings.TIEBREAK_IMPORT_INLINE_MAX_BYTES


def import_enqueue(*, project: Project, upload: File, format: str = "auto", user=None) -> ImportRun:
    """Store ``upload`` and queue its import; returns the ``queued`` run."""
    if format not in FORMAT_CHOICES:
        raise ValueError(f"unknown format {format!r}; expected one of {FORMAT_CHOICES}")
    run = ImportRun(
        project=project,
        user=user,
        filename=upload.name[:500],
        format=format,
        status=ImportRun.Status.QUEUED,
    )
    run.upload.save(upload.name, upload, save=False)
    try:
        with transaction.atomic():
            run.save()
            transaction.on_commit(lambda: _send(run.pk))
    except BaseException:
        run.upload.delete(save=False)
        raise
    return run


def _send(run_id: int) -> None:
    from annotation.tasks import run_import  # the task module imports this one

    run_import.delay(run_id)


def import_run_execute(*, run_id: int) -> ImportRun:
    """Import a queued run's file; safe to call again (a finished run is left alone).

    A run left ``running`` by a killed worker is imported again from the start: its
    earlier attempt rolled back with its transaction.
    """
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().select_related("project").get(pk=run_id)
        if run.status in ImportRun.FINISHED:
            return run
        run.status = ImportRun.Status.RUNNING
        run.save(update_fields=["status", "updated_at"])
    try:
        upload = run.upload.open("rb")
    except (FileNotFoundError, ValueError):
        return import_run_fail(run_id=run.pk, error="the uploaded file is no longer stored")
    try:
        with upload:
            import_file(
                project=run.project,
                path_or_fileobj=upload,
                format=run.format,
                user=run.user,
                filename=run.filename,
                import_run=run,
            )
    except ImportFailed:
        pass  # recorded on the run, line by line
    run.upload.delete(save=True)
    return run


def import_run_fail(*, run_id: int, error: str) -> ImportRun:
    """Record that a queued import stopped (the task failed for good), unless it finished."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.status not in ImportRun.FINISHED:
            logger.error("import run %s failed: %s", run_id, error)
            run.status = ImportRun.Status.FAILED
            run.errors = [{"line": None, "field": "", "message": f"the import stopped: {error}"}]
            run.save(update_fields=["status", "errors", "updated_at"])
    if run.upload:
        run.upload.delete(save=True)
    return run
