"""Generate a project's weekly bias report in this process, store it, write or email it."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analysis.models import JobStatus
from analysis.services.weekly_reports import WeekError, report_email, report_generate
from analysis.weekly.weeks import last_completed_week
from annotation.management.lookup import project_from_slug


class Command(BaseCommand):
    help = (
        "Generate the weekly bias report of a project (default: the last completed ISO week "
        "in the project's time zone), store it (replacing that week's report), and optionally "
        "write its HTML to a file and email it to the project's researchers."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Project slug.")
        parser.add_argument(
            "--week",
            help="ISO week, e.g. 2026-W47 (default: the last completed week in the project's "
            "time zone).",
        )
        parser.add_argument("--output", "-o", help="Write the report's HTML to this file.")
        parser.add_argument(
            "--email",
            action="store_true",
            help="Email the report to the project's researchers (Django email settings).",
        )

    def handle(self, *args, slug, week, output, email, **options):
        project = project_from_slug(slug)
        week = week or last_completed_week(timezone.now(), project.time_zone)
        target = Path(output) if output else None
        if target is not None and target.is_dir():
            raise CommandError(f"--output {output}: is a directory; give a file name")
        try:
            report = report_generate(project=project, week=week)
        except WeekError as exc:
            raise CommandError(f"--week: {exc}") from exc
        if target is not None:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(report.html, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write {target}: {exc.strerror or exc}") from exc
        sent = report_email(report=report) if email else None
        if report.status != JobStatus.SUCCEEDED:
            # Still stored (and written, and emailed when asked): the failure is the content.
            raise CommandError(f"Report {report.week} of {slug!r} failed: {report.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Report {report.week} of {slug!r} ({project.time_zone}): "
                f"{report.n_judgments} judgments."
            )
        )
        self.stdout.write(report.headline)
        if target is not None:
            self.stdout.write(f"HTML written to {target}")
        if sent is not None:
            self.stdout.write(
                f"Emailed to {sent} researcher{'s' if sent != 1 else ''}."
                if sent
                else "Not emailed: no researcher of the project has an email address."
            )
