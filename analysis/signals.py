"""What goes with a deleted row: an export's stored file, a project's report schedule.

Signals rather than ``delete()`` overrides: admin bulk deletes and a deleted project's
cascade delete rows without calling ``Model.delete()``, but both send ``post_delete``.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from analysis.models import ExportSnapshot
from annotation.models import Project


@receiver(post_delete, sender=ExportSnapshot, dispatch_uid="export_snapshot_file_delete")
def export_snapshot_file_delete(sender, instance: ExportSnapshot, **kwargs) -> None:
    """Delete the snapshot's file once the deletion has committed (a rollback keeps it)."""
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))


@receiver(post_delete, sender=Project, dispatch_uid="project_report_schedule_delete")
def project_report_schedule_delete(sender, instance: Project, **kwargs) -> None:
    """Delete the project's weekly-report PeriodicTask, which would otherwise keep firing."""
    from django_celery_beat.models import PeriodicTask

    from analysis.services.weekly_reports import report_schedule_name

    PeriodicTask.objects.filter(name=report_schedule_name(instance)).delete()
