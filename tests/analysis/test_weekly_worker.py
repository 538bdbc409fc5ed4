"""The weekly report on schedule for real: celery beat with the database scheduler sends
the project's PeriodicTask to Redis, a Celery worker on PostgreSQL generates the report of
the last completed week and emails it."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from analysis.models import FeatureJob, JobStatus, Report
from analysis.services.simulate import simulated_project_create
from analysis.services.weekly_reports import report_schedule_name
from analysis.simulation import SimulationParams
from analysis.weekly.weeks import last_completed_week
from annotation.models import Role
from tests.celery_processes import wait_for
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ZONE = "Europe/Berlin"


def test_beat_runs_the_weekly_report_on_a_worker(workers, beat, broker):
    start = (timezone.now() - timedelta(days=21)).astimezone(UTC)
    project = simulated_project_create(
        slug="beat",
        comparisons=60,
        annotators=12,
        seed=2,
        params=SimulationParams(start=start.strftime("%Y-%m-%dT%H:%M:%SZ"), days=21),
    ).project
    project.time_zone = ZONE
    project.save(update_fields=["time_zone"])
    MembershipFactory(
        project=project,
        user=UserFactory(username="lead", email="lead@example.org"),
        role=Role.RESEARCHER,
    )
    # Beat sends to the default queue "celery"; feature chunks go to the test's queue.
    workers(queues=("celery",))
    job = FeatureJob.objects.get(project=project)
    wait_for(
        lambda: FeatureJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED,
        timeout=120,
        what="feature extraction",
    )

    # The project's own schedule (made by project_create), edited as an admin would to run
    # every minute so the test need not wait for Monday.
    from analysis.services.weekly_reports import report_schedule_ensure

    report_schedule_ensure(project=project)
    task = PeriodicTask.objects.get(name=report_schedule_name(project))
    task.crontab = CrontabSchedule.objects.create(
        minute="*", hour="*", day_of_week="*", timezone=ZONE
    )
    task.save()
    scheduler = beat()

    report = wait_for(
        lambda: Report.objects.filter(project=project, emailed_at__isnull=False).first(),
        timeout=150,
        what="beat to send the task and the worker to generate and email the report",
    )
    assert report.week == last_completed_week(timezone.now(), ZONE)
    assert report.status == JobStatus.SUCCEEDED and report.n_judgments > 0
    assert "data:image/png;base64," in report.html
    # Sent by beat (the worker alone never runs it), under the project's task name.
    log = Path(scheduler.log_path).read_text(errors="replace")
    assert f"Sending due task {task.name} (analysis.weekly_report)" in log
