"""Extract style features for a project's responses, with a progress bar."""

from __future__ import annotations

import time

from celery.signals import task_postrun
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis.models import FeatureJob, JobStatus
from analysis.selectors import feature_job_progress
from analysis.services.features import feature_job_enqueue
from analysis.tasks import extract_feature_chunk
from annotation.management.lookup import project_from_slug

FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Command(BaseCommand):
    help = (
        "Compute the style features of a project's responses. Without --force only "
        "responses missing a current extractor version are processed. Runs in-process "
        "without a broker; with one, waits for the workers (unless --no-wait)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Project slug.")
        parser.add_argument("--force", action="store_true", help="Recompute every response.")
        parser.add_argument(
            "--no-wait", action="store_true", help="Enqueue the job and return at once."
        )
        parser.add_argument(
            "--chunk-size", type=int, default=None, help="Responses per task (default: setting)."
        )
        parser.add_argument("--poll", type=float, default=0.5, help="Seconds between polls.")
        parser.add_argument(
            "--timeout", type=float, default=None, help="Give up waiting after this many seconds."
        )

    def handle(self, *args, slug, force, no_wait, chunk_size, poll, timeout, **options):
        project = project_from_slug(slug)
        bar = tqdm(
            total=None, unit="resp", desc=slug, file=self.stderr, disable=no_wait, leave=True
        )

        def on_chunk(sender=None, args=(), **kwargs):
            # Eager Celery runs every chunk inside feature_job_enqueue: refresh the bar as
            # each one finishes instead of jumping from 0 to done at the end.
            if getattr(sender, "name", None) == extract_feature_chunk.name and args:
                self._refresh(bar, args[0])

        task_postrun.connect(on_chunk, weak=False)
        try:
            job = feature_job_enqueue(project=project, force=force, chunk_size=chunk_size)
        finally:
            task_postrun.disconnect(on_chunk)
        if no_wait:
            bar.close()
            self.stdout.write(f"Feature job {job.pk} enqueued: {job.total} responses.")
            return
        # With a broker the workers do the work: follow their progress in the database.
        deadline = None if timeout is None else time.monotonic() + timeout
        progress = feature_job_progress(job=job)
        bar.total = progress["total"]
        while True:
            bar.n = progress["done"]
            bar.refresh()
            if progress["status"] in FINISHED:
                break
            if deadline is not None and time.monotonic() > deadline:
                bar.close()
                raise CommandError(
                    f"Feature job {job.pk} is still {progress['status']} after {timeout:g} s "
                    f"({progress['done']}/{progress['total']}); are the workers running?"
                )
            time.sleep(poll)
            progress = feature_job_progress(job=job)
        bar.close()
        if progress["status"] == JobStatus.FAILED:
            raise CommandError(f"Feature job {job.pk} failed: {progress['error']}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Feature job {job.pk} {progress['status']}: "
                f"{progress['done']}/{progress['total']} responses."
            )
        )

    @staticmethod
    def _refresh(bar: tqdm, job_id: int) -> None:
        job = FeatureJob.objects.filter(pk=job_id).first()
        if job is None:
            return
        progress = feature_job_progress(job=job)
        bar.total, bar.n = progress["total"], progress["done"]
        bar.refresh()
