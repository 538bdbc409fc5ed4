"""``manage.py import_comparisons SLUG FILE [--format …]``: import a file into a project."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotation.management.lookup import project_from_slug
from annotation.services.imports import FORMAT_CHOICES, ImportFailed, import_file

SHOWN_WARNINGS = 20


class Command(BaseCommand):
    help = (
        "Import comparisons and their judgments from a file (canonical JSONL, CSV, hh-rlhf, "
        "PandaLM, Chatbot Arena; .gz read transparently). All or nothing: on any error "
        "nothing is written and the errors are listed with their line numbers."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project's slug")
        parser.add_argument("file", help="the file to import")
        parser.add_argument(
            "--format",
            choices=FORMAT_CHOICES,
            default="auto",
            help="the file's format (default: detect from the name and the content)",
        )
        parser.add_argument(
            "--no-features",
            action="store_true",
            help="do not start feature extraction after the import",
        )

    def handle(self, *args, slug: str, file: str, format: str, no_features: bool, **options):
        project = project_from_slug(slug)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        try:
            result = import_file(
                project=project,
                path_or_fileobj=path,
                format=format,
                start_features=not no_features,
            )
        except ImportFailed as exc:
            lines = "\n".join(f"  {error}" for error in exc.errors)
            raise CommandError(
                f"import of {path.name} failed; nothing was written. Errors:\n{lines}"
            ) from exc
        for warning in result.warnings[:SHOWN_WARNINGS]:
            self.stderr.write(f"warning: {warning}")
        if result.n_warnings > SHOWN_WARNINGS:
            self.stderr.write(
                f"… and {result.n_warnings - SHOWN_WARNINGS} more warnings "
                f"(import run {result.import_run.pk} keeps the first 200)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {path.name} ({result.format}) into {project.slug} in "
                f"{result.seconds:.1f} s: {result.n_records} records, "
                f"{result.n_comparisons_created} comparisons created, "
                f"{result.n_comparisons_existing} already present, "
                f"{result.n_judgments_created} judgments created, "
                f"{result.n_judgments_existing} already present, "
                f"{result.n_skipped} records skipped."
            )
        )
