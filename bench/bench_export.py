"""Benchmark: export N judgments from PostgreSQL in every file format.

    .venv/bin/python bench/bench_export.py --n 1000000            # first run: loads the data
    .venv/bin/python bench/bench_export.py --n 1000000 --reuse    # later runs: export only

Loads ``--n`` comparisons with one judgment each into a project of its own database
(``bench_import.generate``'s canonical JSONL: responses of 500–1,500 characters, through
the real importer), then adds what the importer's file lacks, in SQL: two criterion answers
per judgment (a compare and a 1–5 rating criterion) and one stored feature row per response
and extractor (synthetic values; extraction has its own benchmarks). ``--reuse`` keeps the
database and its project, so later runs time the exports alone.

Each export runs ``export_snapshot_create`` + ``export_snapshot_write`` in this process,
as ``python manage.py export`` does, and prints seconds, rows/s, the file size and the
growth of the process's peak resident memory (``VmHWM``, reset before each export through
``/proc/self/clear_refs``) over its resident memory before the export. Targets: under
120 s and under 200 MB of growth per export.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tiebreak_bench_exports"
SLUG = "bench-export"
TARGET_SECONDS = 120
TARGET_MB = 200


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} is not in /proc/self/status")


def _reset_peak() -> None:
    """Make VmHWM start again from the current RSS (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def load(n: int, keep_file: bool) -> None:
    """Import ``n`` comparisons into project ``SLUG`` and add answers and features in SQL."""
    from django.db import connection, transaction

    from analysis.features import active_registry
    from analysis.models import FeatureValue
    from annotation.models import Comparison, Criterion, CriterionAnswer, Judgment, Project
    from annotation.models import Response as ResponseModel
    from annotation.services.imports import import_file
    from annotation.services.projects import project_create
    from bench.bench_import import generate

    path = Path(f"/tmp/tiebreak-bench-{n}-1.jsonl")
    if not path.exists():
        started = time.monotonic()
        generate(path, n, 1)
        print(f"generated {path} in {time.monotonic() - started:.0f} s", flush=True)
    project = project_create(
        slug=SLUG,
        name="Bench export",
        rubric_spec={
            "name": f"bench-export-{time.strftime('%Y%m%d%H%M%S')}",
            "criteria": [
                {"key": "correctness", "label": "Correct", "kind": "compare"},
                {"key": "clarity", "label": "Clear", "kind": "rating", "scale": [1, 5]},
            ],
        },
    )
    started = time.monotonic()
    result = import_file(
        project=project, path_or_fileobj=path, format="jsonl", start_features=False
    )
    print(
        f"imported {result.n_comparisons_created:,} comparisons in "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    if not keep_file:
        path.unlink()

    started = time.monotonic()
    correctness = Criterion.objects.get(rubric=project.rubric, key="correctness").pk
    clarity = Criterion.objects.get(rubric=project.rubric, key="clarity").pk
    judgments = Judgment._meta.db_table
    comparisons = Comparison._meta.db_table
    answers = CriterionAnswer._meta.db_table
    responses = ResponseModel._meta.db_table
    features = FeatureValue._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {answers} (judgment_id, criterion_id, choice, score_a, score_b,
                                   scale_min, scale_max)
            SELECT j.id, %s, (ARRAY['a', 'b', 'tie', 'tie'])[1 + j.id %% 4], NULL, NULL, NULL, NULL
            FROM {judgments} j JOIN {comparisons} c ON c.id = j.comparison_id
            WHERE c.project_id = %s
            UNION ALL
            SELECT j.id, %s, '', 1 + j.id %% 5, 1 + (j.id * 7) %% 5, 1, 5
            FROM {judgments} j JOIN {comparisons} c ON c.id = j.comparison_id
            WHERE c.project_id = %s
            """,
            [correctness, project.pk, clarity, project.pk],
        )
        # Deterministic pseudo-random values per (response, column): small counts, like the
        # real extractors' (length from the text itself).
        for e, extractor in enumerate(active_registry()):
            pairs = []
            for k, column in enumerate(extractor.columns):
                if extractor.name == "length":
                    value = {
                        "chars": "length(r.text)::float8",
                        "words": "(length(r.text) / 6)::float8",
                    }.get(column, "(length(r.text) / 4)::float8")
                else:
                    value = f"((r.id * 2654435761 + {7 * e + k}) %% 7)::float8 / 2"
                pairs.append(f"'{column}', {value}")
            cursor.execute(
                f"""
                INSERT INTO {features} (response_id, extractor, version, "values")
                SELECT r.id, %s, %s, jsonb_build_object({", ".join(pairs)})
                FROM {responses} r WHERE r.project_id = %s
                """,
                [extractor.name, extractor.version, project.pk],
            )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {answers}; ANALYZE {features}")
    print(f"answers and features added in {time.monotonic() - started:.0f} s", flush=True)
    return Project.objects.get(pk=project.pk)


def run_export(project, kind: str, fmt: str, options: dict, out: Path, first: int | None) -> dict:
    from analysis.services.exports import export_snapshot_create, export_snapshot_write

    snapshot = export_snapshot_create(project=project, kind=kind, format=fmt, options=options)
    if first:
        # Pin the snapshot below the first ``first`` comparisons: a smaller export of the
        # same data, to see that memory does not grow with the export's size.
        ids = project.comparisons.order_by("id").values_list("id", flat=True)
        snapshot.max_comparison_id = ids[first - 1]
        snapshot.max_judgment_id = (
            project.comparisons.filter(id__lte=snapshot.max_comparison_id)
            .order_by("-judgments__id")
            .values_list("judgments__id", flat=True)
            .first()
        )
    rss_before = _status_mb("VmRSS")
    _reset_peak()
    started = time.monotonic()
    cpu = os.times()
    written = export_snapshot_write(snapshot=snapshot, path=out)
    seconds = time.monotonic() - started
    after = os.times()
    growth = _status_mb("VmHWM") - rss_before
    return {
        "kind": kind,
        "format": fmt,
        "rows": written.row_count,
        "seconds": seconds,
        "cpu": after.user + after.system - cpu.user - cpu.system,
        "mb": written.size / 1e6,
        "growth": growth,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="judgments (1,000,000)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database and its data from an earlier run"
    )
    parser.add_argument("--keep-file", action="store_true", help="keep the generated JSONL")
    parser.add_argument(
        "--exports",
        nargs="+",
        default=["judgments.jsonl", "judgments.csv", "judgments.parquet"],
        metavar="KIND.FORMAT",
        help="what to export (default: judgments in each format); e.g. preferences.parquet "
        "dpo.jsonl",
    )
    parser.add_argument("--setup-only", action="store_true", help="load the data and stop")
    parser.add_argument(
        "--first", type=int, help="export only the first N comparisons (memory at another size)"
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp"), help="directory of the files")
    parser.add_argument("--keep-output", action="store_true", help="keep the exported files")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from bench.database import setup_django

    setup_django(args.database_url, fresh=not args.reuse)
    from annotation.models import Project

    project = Project.objects.filter(slug=SLUG).first()
    if project is None:
        project = load(args.n, args.keep_file)
    if len(args.exports) > 1 or args.setup_only:
        n_judgments = project.comparisons.filter(judgments__isnull=False).count()
        print(f"database: {args.database_url}  project {SLUG}: {n_judgments:,} judgments")
    if args.setup_only:
        return
    if len(args.exports) > 1:
        # One process per export: each one's memory growth is measured from a fresh start,
        # not on top of what an earlier export left in the allocator.
        for spec in args.exports:
            command = [
                sys.executable,
                __file__,
                "--reuse",
                "--exports",
                spec,
                "--out",
                str(args.out),
            ]
            command += ["--database-url", args.database_url]
            command += ["--keep-output"] if args.keep_output else []
            command += ["--first", str(args.first)] if args.first else []
            subprocess.run(command, check=True)
        return
    results = []
    for spec in args.exports:
        kind, fmt = spec.split(".")
        out = args.out / f"tiebreak-bench-export.{kind}.{fmt}"
        result = run_export(project, kind, fmt, {}, out, args.first)
        results.append(result)
        verdict = (
            "ok"
            if result["seconds"] < TARGET_SECONDS and result["growth"] < TARGET_MB
            else "MISSED"
        )
        print(
            f"{kind:>11} {fmt:<7} {result['rows']:>9,} rows  {result['seconds']:6.1f} s  "
            f"{result['rows'] / result['seconds']:>8,.0f} rows/s  CPU {result['cpu']:5.1f} s  "
            f"{result['mb']:8,.0f} MB file  peak RSS growth {result['growth']:5.0f} MB  "
            f"[{verdict}]",
            flush=True,
        )
        if not args.keep_output:
            out.unlink()
    print(f"  (load average now {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
