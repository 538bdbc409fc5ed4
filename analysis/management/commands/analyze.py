"""Analyse a project in this process, store the run, and write its JSON (and HTML) report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analysis.models import JobStatus
from analysis.services.runs import CORRECTIONS, analysis_run_now
from annotation.management.lookup import project_from_slug


class Command(BaseCommand):
    help = (
        "Run the style-bias analysis of a project in this process (no Celery), store it as an "
        "analysis run, and write the result as JSON (AnalysisResult.to_dict(); see "
        "docs/analysis.md) and optionally as a standalone HTML report."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Project slug.")
        parser.add_argument(
            "--output", "-o", required=True, help="Where to write the JSON result ('-' = stdout)."
        )
        parser.add_argument("--html", help="Also write a standalone HTML report here.")
        parser.add_argument(
            "--alpha", type=float, default=0.05, help="Intervals are 1 - alpha (default 0.05)."
        )
        parser.add_argument(
            "--correction",
            choices=CORRECTIONS,
            default="holm",
            help="Multiple-comparison correction across style features (default holm).",
        )
        parser.add_argument(
            "--features",
            nargs="+",
            metavar="FEATURE",
            help="Analyse these style features (default: the setting "
            "TIEBREAK_ANALYSIS_FEATURES, one feature per concept); 'all' = every feature.",
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the resampling steps.")
        parser.add_argument(
            "--compute-missing-features",
            action="store_true",
            help="Compute features that were not extracted yet in-process instead of failing.",
        )

    def handle(self, *args, slug, output, html, alpha, correction, features, seed, **options):
        project = project_from_slug(slug)
        params = {"alpha": alpha, "correction": correction, "features": features, "seed": seed}
        if options["compute_missing_features"]:
            params["missing_features"] = "compute"
        try:
            run = analysis_run_now(project=project, params=params)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if run.status != JobStatus.SUCCEEDED:
            raise CommandError(f"Analysis {run.pk} of {slug!r} failed: {run.error}")

        text = json.dumps(run.result, indent=2, ensure_ascii=False, allow_nan=False)
        if output == "-":
            sys.stdout.write(text + "\n")
        else:
            _write(Path(output), text + "\n")
        if html:
            _write(Path(html), run.html)
        result = run.result
        summary = (
            f"Analysis {run.pk} of {slug!r}: {result['n_judgments']} judgments, "
            f"{result['n_comparisons']} comparisons, {result['n_annotators']} annotators"
            f"{' (style-only data)' if result['style_only'] else ''}."
        )
        # Keep stdout clean for the JSON when it goes there.
        stream = self.stderr if output == "-" else self.stdout
        stream.write(self.style.SUCCESS(summary))
        for effect in result.get("style_effects") or []:
            stream.write(
                f"  {effect['feature']:<24} OR {_fmt(effect.get('odds_ratio'))} "
                f"[{_fmt(effect.get('ci_low'))}, {_fmt(effect.get('ci_high'))}]  "
                f"p_adj {_fmt(effect.get('p_adjusted'), 4)}"
            )
        for dropped in result.get("dropped_features") or []:
            stream.write(
                f"  {dropped['feature']:<24} left out ({dropped['scope']}): {dropped['reason']}"
            )
        if output != "-":
            stream.write(f"JSON written to {output}" + (f", HTML to {html}" if html else ""))


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from exc


def _fmt(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"
