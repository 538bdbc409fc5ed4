"""Stored export files go with their snapshot.

A signal rather than a ``delete()`` override: admin bulk deletes and a deleted project's
cascade delete rows without calling ``Model.delete()``, but both send ``post_delete``.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from analysis.models import ExportSnapshot


@receiver(post_delete, sender=ExportSnapshot, dispatch_uid="export_snapshot_file_delete")
def export_snapshot_file_delete(sender, instance: ExportSnapshot, **kwargs) -> None:
    """Delete the snapshot's file once the deletion has committed (a rollback keeps it)."""
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))
