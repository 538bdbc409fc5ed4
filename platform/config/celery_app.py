"""The Celery application; configured from Django settings under the ``CELERY_`` namespace."""

import os

from celery import Celery
from django.db import InterfaceError, OperationalError

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
