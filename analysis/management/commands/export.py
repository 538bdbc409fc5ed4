"""Export a project's judgments, preferences or DPO pairs to a file, recorded as a snapshot."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis.models import ExportFormat, ExportKind, ExportSnapshot, JobStatus
from analysis.services.exports import (
    FORMS,
    ExportError,
    export_snapshot_create,
    export_snapshot_execute,
    export_snapshot_write,
)
from annotation.management.lookup import project_from_slug


class Command(BaseCommand):
    help = (
        "Export a project as judgments (one row per judgment), preferences (one row per "
        "comparison) or DPO pairs (TRL's prompt/chosen/rejected) to a JSON Lines, CSV or "
        "Parquet file, recorded as an export snapshot; or, with --snapshot, write an earlier "
        "snapshot again (byte-identical while its rows are unchanged). See docs/exports.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", help="Project slug (not with --snapshot).")
        parser.add_argument("--kind", choices=ExportKind.values, help="What to export.")
        parser.add_argument(
            "--output", "-o", required=True, help="The file to write (replaced when complete)."
        )
        parser.add_argument(
            "--format",
            choices=ExportFormat.values,
            help="File format; default from the output's extension (.jsonl, .csv, .parquet).",
        )
        parser.add_argument(
            "--min-agreement",
            type=float,
            help="Only comparisons whose top answer has at least this share of the votes.",
        )
        parser.add_argument(
            "--drop-ties",
            action="store_true",
            help="Leave out comparisons where tie has the most votes (alone or shared).",
        )
        parser.add_argument(
            "--exclude-style-decided",
            action="store_true",
            help="Leave out comparisons whose majority is the style-heavier response while "
            "the rubric is tied.",
        )
        parser.add_argument(
            "--form",
            choices=FORMS,
            help="dpo only: standard (strings), conversational (message lists) or auto "
            "(conversational when a prompt is a conversation; the default).",
        )
        parser.add_argument(
            "--snapshot", type=int, help="Write export snapshot ID again instead of a new export."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, slug, kind, output, format, snapshot, **options):
        path = Path(output)
        if snapshot is not None:
            return self._again(snapshot, slug, kind, path, format, options)
        if not slug or not kind:
            raise CommandError("give a project slug and --kind (or --snapshot ID)")
        project = project_from_slug(slug)
        fmt = format or _format_of(path)
        export_options = {
            "min_agreement": options["min_agreement"],
            "drop_ties": options["drop_ties"],
            "exclude_style_decided": options["exclude_style_decided"],
        }
        if options["form"] is not None:
            export_options["form"] = options["form"]
        try:
            created = export_snapshot_create(
                project=project, kind=kind, format=fmt, options=export_options
            )
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc
        with self._bar(created, options["no_progress"]) as bar:
            done = export_snapshot_execute(
                snapshot_id=created.pk, path=path, progress=_advance(bar)
            )
        if done.status != JobStatus.SUCCEEDED:
            raise CommandError(f"Export {done.pk} of {slug!r} failed: {done.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Export {done.pk} of {slug!r}: {done.row_count} rows of {kind} to {path} "
                f"({done.size} bytes), sha256 {done.sha256}"
            )
        )

    def _again(self, snapshot_id, slug, kind, path, format, options) -> None:
        snapshot = ExportSnapshot.objects.select_related("project").filter(pk=snapshot_id).first()
        if snapshot is None:
            raise CommandError(f"No export snapshot {snapshot_id}.")
        given = [
            name
            for name, value in [
                ("SLUG", slug),
                ("--kind", kind),
                ("--format", format),
                ("--min-agreement", options["min_agreement"]),
                ("--drop-ties", options["drop_ties"] or None),
                ("--exclude-style-decided", options["exclude_style_decided"] or None),
                ("--form", options["form"]),
            ]
            if value is not None
        ]
        if given:
            raise CommandError(
                f"--snapshot writes snapshot {snapshot_id} as it was recorded; leave out "
                f"{', '.join(given)}"
            )
        if _format_of(path, required=False) not in (None, snapshot.format):
            raise CommandError(
                f"snapshot {snapshot_id} is {snapshot.format}; name the output *.{snapshot.format}"
            )
        with self._bar(snapshot, options["no_progress"]) as bar:
            try:
                written = export_snapshot_write(
                    snapshot=snapshot, path=path, progress=_advance(bar)
                )
            except ExportError as exc:
                raise CommandError(f"Export {snapshot_id} could not be written: {exc}") from exc
        summary = (
            f"Export {snapshot_id} of {snapshot.project.slug!r} written again: "
            f"{written.row_count} rows to {path}, sha256 {written.sha256}"
        )
        if snapshot.sha256 and written.sha256 != snapshot.sha256:
            self.stderr.write(
                self.style.WARNING(
                    f"{summary}\nThis differs from the recorded sha256 {snapshot.sha256}: rows "
                    "it covers were changed or deleted since (or the export libraries were "
                    "upgraded)."
                )
            )
            return
        self.stdout.write(self.style.SUCCESS(summary + " (identical to the recorded export)"))

    def _bar(self, snapshot: ExportSnapshot, disabled: bool) -> tqdm:
        return tqdm(
            total=snapshot.total,
            unit="comparisons",
            unit_scale=True,
            file=self.stderr._out,
            disable=disabled,
            desc=f"export {snapshot.pk}",
        )


def _advance(bar: tqdm):
    def update(done: int) -> None:
        bar.update(done - bar.n)

    return update


def _format_of(path: Path, *, required: bool = True) -> str | None:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ExportFormat.values:
        return suffix
    if not required:
        return None
    raise CommandError(
        f"cannot tell the format of {path.name!r}: name it *.jsonl, *.csv or *.parquet, "
        "or give --format"
    )


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return "; ".join(exc.messages)
