"""The Celery application; configured from Django settings under the ``CELERY_`` namespace."""

import os

from celery import Celery, Task
from django.db import InterfaceError, OperationalError
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("tiebreak")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

#: Options of tiebreak's idempotent tasks: acknowledged late, so that a killed worker's
#: message is delivered again, and retried with backoff on transient database trouble (a
#: restart, a dropped connection, a deadlock), not on bugs.
IDEMPOTENT_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_jitter": True,
}

#: Options of the idempotent tasks that take minutes (an import, an analysis, an export, a
#: report): a few retries, and time limits inside the broker's visibility timeout.
LONG_TASK_OPTIONS = {
    **IDEMPOTENT_TASK_OPTIONS,
    "max_retries": 3,
    "soft_time_limit": 50 * 60,
    "time_limit": 55 * 60,
}


class RecordsFailure(Task):
    """A task whose final failure (retries spent, time limit) is recorded on its row.

    Set ``record_failure = (dotted path of fail, id argument)`` in the task decorator's
    options, e.g. ``("annotation.services.imports.queue.import_run_fail", "run_id")``:
    ``fail(run_id=…, error=…)`` is then called, so the job, run or export does not stay
    "running" for ever. The function is imported when needed, so a task module does not
    load what only failures use.
    """

    record_failure: tuple[str, str]

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        path, id_arg = self.record_failure
        row_id = kwargs.get(id_arg, args[0] if args else None)
        if row_id is not None:
            import_string(path)(**{id_arg: row_id}, error=f"{type(exc).__name__}: {exc}")
