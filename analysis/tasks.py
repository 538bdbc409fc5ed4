"""Celery tasks for analysis: feature extraction chunks, analysis runs, weekly reports."""

from __future__ import annotations

from celery import shared_task

from analysis.services.features import feature_chunk_process
from config.celery_app import IDEMPOTENT_TASK_OPTIONS, LONG_TASK_OPTIONS, RecordsFailure


@shared_task(
    base=RecordsFailure,
    # A chunk's final failure fails its job, so progress shows it instead of hanging.
    record_failure=("analysis.services.features.feature_job_fail", "job_id"),
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
    **LONG_TASK_OPTIONS,
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
    **LONG_TASK_OPTIONS,
)
def weekly_report(project_id: int) -> str:
    """What beat runs per project: report the last completed week and email it."""
    from analysis.services.weekly_reports import weekly_report_run

    return weekly_report_run(project_id=project_id)


@shared_task(
    name="analysis.generate_weekly_report",
    # Idempotent: generating a week again replaces its report.
    **LONG_TASK_OPTIONS,
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


@shared_task(
    base=RecordsFailure,
    record_failure=("analysis.services.exports.export_snapshot_fail", "snapshot_id"),
    name="analysis.run_export",
    # Idempotent: executing a snapshot again rewrites the same file from the pinned rows.
    **LONG_TASK_OPTIONS,
)
def run_export(snapshot_id: int) -> str:
    """Write export snapshot ``snapshot_id`` and return its final status."""
    from analysis.services.exports import export_snapshot_execute

    return export_snapshot_execute(snapshot_id=snapshot_id).status
