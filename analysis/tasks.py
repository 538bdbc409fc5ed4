"""Celery tasks for analysis: feature extraction chunks, analysis runs, weekly reports."""

from __future__ import annotations

from celery import Task, shared_task

from analysis.services.features import feature_chunk_process, feature_job_fail
from config.celery_app import IDEMPOTENT_TASK_OPTIONS


class FeatureChunkTask(Task):
    """Records a chunk's final failure on its job, so progress shows it instead of hanging."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        job_id = kwargs.get("job_id", args[0] if args else None)
        if job_id is not None:
            feature_job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(
    base=FeatureChunkTask,
    name="analysis.extract_feature_chunk",
    # Idempotent (see feature_chunk_process), so a killed worker's chunk may run again; a
    # bug in an extractor is not retried, and fails the job.
    **IDEMPOTENT_TASK_OPTIONS,
    max_retries=5,
)
def extract_feature_chunk(job_id: int, chunk_id: int) -> bool:
    return feature_chunk_process(job_id=job_id, chunk_id=chunk_id)


# --- Analysis runs -------------------------------------------------------------------------


@shared_task(
    name="analysis.run_analysis",
    # Idempotent: executing a run again overwrites its own result.
    **IDEMPOTENT_TASK_OPTIONS,
    max_retries=3,
    # A few million judgments take minutes; stay inside the broker's visibility timeout.
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def run_analysis(run_id: int) -> str:
    """Execute analysis run ``run_id`` and return its final status."""
    # Imported here so that the feature tasks above do not load the statistics stack.
    from analysis.services.runs import analysis_run_execute

    return analysis_run_execute(run_id=run_id).status


# --- Weekly reports ------------------------------------------------------------------------


@shared_task(
    name="analysis.weekly_report",
    # Idempotent (see weekly_report_run): a redelivered message neither regenerates a
    # finished week nor emails it twice.
    **IDEMPOTENT_TASK_OPTIONS,
    max_retries=3,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def weekly_report(project_id: int) -> str:
    """What beat runs per project: report the last completed week and email it."""
    from analysis.services.weekly_reports import weekly_report_run

    return weekly_report_run(project_id=project_id)


@shared_task(
    name="analysis.generate_weekly_report",
    # Idempotent: generating a week again replaces its report.
    **IDEMPOTENT_TASK_OPTIONS,
    max_retries=3,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def generate_weekly_report(project_id: int, week: str) -> str:
    """Generate (not email) week ``week``'s report of a project, as asked from the API or
    the site; return its status."""
    from analysis.services.weekly_reports import report_generate
    from annotation.models import Project

    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return "project gone"
    return report_generate(project=project, week=week).status


# --- Exports -------------------------------------------------------------------------------


class ExportTask(Task):
    """Records an export's final failure on its snapshot, so the page shows it."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        snapshot_id = kwargs.get("snapshot_id", args[0] if args else None)
        if snapshot_id is not None:
            from analysis.services.exports import export_snapshot_fail

            export_snapshot_fail(snapshot_id=snapshot_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(
    base=ExportTask,
    name="analysis.run_export",
    # Idempotent: executing a snapshot again rewrites the same file from the pinned rows.
    **IDEMPOTENT_TASK_OPTIONS,
    max_retries=3,
    # A million judgments take a minute or two; stay inside the broker's visibility timeout.
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def run_export(snapshot_id: int) -> str:
    """Write export snapshot ``snapshot_id`` and return its final status."""
    from analysis.services.exports import export_snapshot_execute

    return export_snapshot_execute(snapshot_id=snapshot_id).status
