"""Schedule the weekly bias report of the projects that existed before reports did.

New projects get their schedule from ``analysis.services.weekly_reports.
report_schedule_ensure`` (called by ``project_create`` and the admin); this does the same
once for existing ones, with the historical models: a project that already has its
PeriodicTask is left alone.
"""

import json

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def schedule_existing_projects(apps, schema_editor):
    Project = apps.get_model("annotation", "Project")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    spec = {
        "minute": "0",
        "hour": "0",
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        **settings.TIEBREAK_WEEKLY_REPORT_CRONTAB,
    }
    created = False
    for project in Project.objects.all():
        name = f"weekly-report-{project.pk}"
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab = CrontabSchedule.objects.filter(**spec, timezone=project.time_zone).order_by(
            "pk"
        ).first() or CrontabSchedule.objects.create(**spec, timezone=project.time_zone)
        PeriodicTask.objects.create(
            name=name,
            task="analysis.weekly_report",
            crontab=crontab,
            kwargs=json.dumps({"project_id": project.pk}),
            description=f"Weekly bias report of project {project.slug!r}: the last completed "
            "week, emailed to its researchers. Times are in the crontab's time zone, which "
            "follows the project's.",
        )
        created = True
    if created:
        # What PeriodicTask.save() does outside migrations: tell a running beat to reload.
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0003_exports_reports"),
        ("annotation", "0003_project_time_zone"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(schedule_existing_projects, migrations.RunPython.noop),
    ]
