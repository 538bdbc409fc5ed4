"""Benchmark: the weekly bias report of a project with 1M judgments on PostgreSQL.

    .venv/bin/python bench/bench_weekly_report.py --n 1000000

Creates (once; ``--fresh`` recreates it) the database ``tiebreak_bench_weekly`` with one
project of ``--n`` judgments spread evenly over the ``--weeks`` completed weeks before
this one (in the project's time zone, Europe/Berlin), three per comparison by 200
annotators, a three-criterion rubric, five models, and stored style features for every
response. The rows are generated column-wise with numpy and written with ``COPY``, not
through the importer (``bench/bench_import.py`` times that): the report is what is
timed here. Outcomes follow a planted model (the rubric decides; where it ties, the more
flattering response wins 70% of the time), so the report has something to find.

Then times ``report_generate`` for the last completed week end to end (frame load of
that week plus up to eight earlier ones, the full analysis of the week, the trend
analyses, the charts and the HTML) and prints the seconds per stage and the process's
peak memory. Target: under 120 s.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_analysis import peak_memory_mb  # noqa: E402 -- after the path setup above
from bench.database import setup_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tiebreak_bench_weekly"
SLUG = "bench-weekly"
TIME_ZONE = "Europe/Berlin"
MODELS = ["sunny-7b", "terse-13b", "scholar-70b", "chirpy-3b", "plain-8b"]
RUBRIC = {
    "name": "bench-weekly-rubric",
    "criteria": [
        {"key": "correctness", "label": "Correctness", "kind": "compare"},
        {"key": "completeness", "label": "Completeness", "kind": "compare"},
        {"key": "clarity", "label": "Clarity", "kind": "rating", "scale": [1, 5]},
    ],
}


def _copy(table: str, frame: pd.DataFrame, chunk: int = 500_000) -> None:
    """Write ``frame`` into ``table`` (its columns by name) with COPY … FROM STDIN (csv)."""
    from django.db import connection

    columns = ", ".join(f'"{c}"' for c in frame.columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ) as copy,
    ):
        for start in range(0, len(frame), chunk):
            buffer = io.StringIO()
            frame.iloc[start : start + chunk].to_csv(
                buffer, header=False, index=False, na_rep="\\N"
            )
            copy.write(buffer.getvalue())


def _next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        return int(cursor.fetchone()[0])


def _reset_sequence(table: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )


def fill(n: int, weeks: int, end: datetime, seed: int = 0) -> None:
    """Create project SLUG with ``n`` judgments over the ``weeks`` weeks before ``end``."""
    from django.db import transaction

    from analysis.features.registry import active_registry
    from analysis.models import FeatureValue
    from annotation.models import (
        Comparison,
        Criterion,
        CriterionAnswer,
        Judgment,
        Prompt,
        Response,
    )
    from annotation.services.projects import project_create

    rng = np.random.default_rng(seed)
    overlap, n_annotators = 3, 200
    n_comp = -(-n // overlap)  # the last comparison gets fewer judgments when n % 3
    n_judg = n
    now = datetime.now(UTC).isoformat()
    started = time.perf_counter()
    with transaction.atomic():
        project = project_create(slug=SLUG, name="Bench: weekly report", rubric_spec=RUBRIC)
        project.time_zone = TIME_ZONE
        project.save(update_fields=["time_zone"])
        criteria = {c.key: c for c in Criterion.objects.filter(rubric=project.rubric)}

        # Prompts: four comparisons per prompt.
        n_prompts = (n_comp + 3) // 4
        p0 = _next_id(Prompt._meta.db_table)
        prompt_ids = np.arange(p0, p0 + n_prompts)
        _copy(
            Prompt._meta.db_table,
            pd.DataFrame(
                {
                    "id": prompt_ids,
                    "created_at": now,
                    "updated_at": now,
                    "project_id": project.pk,
                    "messages": [
                        json.dumps([{"role": "user", "content": f"Question {i}?"}])
                        for i in range(n_prompts)
                    ],
                    "is_conversation": False,
                    "content_hash": [f"bench-{i}" for i in range(n_prompts)],
                }
            ),
        )

        # Responses: two per comparison (a = even offset, b = odd), with a model each.
        r0 = _next_id(Response._meta.db_table)
        comp_prompt = prompt_ids[np.arange(n_comp) // 4]
        model_a = rng.integers(0, len(MODELS), n_comp)
        model_b = (model_a + rng.integers(1, len(MODELS), n_comp)) % len(MODELS)
        response_ids = np.arange(r0, r0 + 2 * n_comp)
        models = np.array(MODELS, dtype=object)
        _copy(
            Response._meta.db_table,
            pd.DataFrame(
                {
                    "id": response_ids,
                    "created_at": now,
                    "updated_at": now,
                    "project_id": project.pk,
                    "prompt_id": np.repeat(comp_prompt, 2),
                    "text": "",
                    "model": np.column_stack([models[model_a], models[model_b]]).ravel(),
                    "external_id": "",
                }
            ),
        )
        print(f"  prompts and responses written: {time.perf_counter() - started:.0f} s")

        c0 = _next_id(Comparison._meta.db_table)
        comparison_ids = np.arange(c0, c0 + n_comp)
        _copy(
            Comparison._meta.db_table,
            pd.DataFrame(
                {
                    "id": comparison_ids,
                    "created_at": now,
                    "updated_at": now,
                    "project_id": project.pk,
                    "external_id": [f"c-{i}" for i in range(n_comp)],
                    "prompt_id": comp_prompt,
                    "response_a_id": response_ids[0::2],
                    "response_b_id": response_ids[1::2],
                    "metadata": "{}",
                    "n_judgments": np.bincount(
                        np.repeat(np.arange(n_comp), overlap)[:n_judg], minlength=n_comp
                    ),
                    "n_reserved": 0,
                }
            ),
        )

        # Style features per response: flattering models flatter more, and so on.
        flatter = np.array([0.8, 0.05, 0.2, 0.5, 0.3])
        emoji = np.array([0.6, 0.0, 0.05, 0.9, 0.2])
        sentences = np.array([4, 2, 8, 3, 5])
        model_of = np.column_stack([model_a, model_b]).ravel()
        n_resp = response_ids.size
        flattery = rng.binomial(2, flatter[model_of] / 2)
        words = rng.poisson(14 * sentences[model_of]) + 5
        values = {
            "length": {
                "chars": words * 6,
                "words": words,
                "tokens": (words * 1.3).astype(int),
            },
            "emojis": {"": rng.binomial(3, emoji[model_of] / 2)},
            "flattery": {"count": flattery, "rate": flattery / np.maximum(words, 1) * 100},
            "agreement": {"": rng.choice([-1, 0, 0, 1], n_resp)},
            "markdown": {
                "headers": rng.poisson(0.3, n_resp),
                "bold": rng.poisson(0.5, n_resp),
                "list_items": rng.poisson(1.0, n_resp),
            },
            "tone": {
                "exclamations": rng.poisson(0.5, n_resp),
                "hedges": rng.poisson(0.4, n_resp),
                "confident": rng.poisson(0.4, n_resp),
                "apologies": rng.poisson(0.1, n_resp),
                "refusals": rng.poisson(0.02, n_resp),
            },
        }
        for extractor in active_registry():
            columns = values[extractor.name]
            keys = list(columns)
            matrix = np.column_stack([np.asarray(columns[k], dtype=float) for k in keys])
            texts = [
                json.dumps(dict(zip(keys, (round(v, 4) for v in row), strict=True)))
                for row in matrix.tolist()
            ]
            _copy(
                FeatureValue._meta.db_table,
                pd.DataFrame(
                    {
                        "response_id": response_ids,
                        "extractor": extractor.name,
                        "version": extractor.version,
                        "values": texts,
                    }
                ),
            )
        print(f"  comparisons and features written: {time.perf_counter() - started:.0f} s")

        # Judgments: three distinct annotators per comparison, times spread over the weeks.
        j_comp = np.repeat(np.arange(n_comp), overlap)[:n_judg]
        first = rng.integers(0, n_annotators, n_comp)
        annot = (np.repeat(first, overlap) + np.tile(np.arange(overlap) * 7, n_comp))[
            :n_judg
        ] % n_annotators
        span = weeks * 7 * 86400
        start = end - timedelta(seconds=span)
        offsets = rng.uniform(0, span, n_judg)
        created = pd.to_datetime(start) + pd.to_timedelta(offsets, unit="s")
        # Rubric: 40% of comparisons truly tied; answers read with 5% noise per criterion.
        tied_truth = rng.random(n_comp) < 0.4
        winner_a = rng.random(n_comp) < 0.5
        truth = np.where(tied_truth, 0, np.where(winner_a, 1, -1))[j_comp]
        noise = rng.random((n_judg, 2)) < 0.05
        compare = np.where(noise, rng.integers(-1, 2, (n_judg, 2)), truth[:, None])
        clarity_a = rng.integers(2, 5, n_judg)
        clarity_b = np.clip(clarity_a - np.sign(truth) * (rng.random(n_judg) < 0.5), 1, 5)
        votes = np.sign(compare).sum(axis=1) + np.sign(clarity_a - clarity_b)
        # Outcome: the rubric majority decides (5% errors); a tied rubric is a tie 25% of
        # the time, else the more flattering response wins 70% of the time.
        fa = flattery[0::2][j_comp]
        fb = flattery[1::2][j_comp]
        u = rng.random(n_judg)
        tie_break_a = np.where(fa > fb, u < 0.7, np.where(fa < fb, u < 0.3, u < 0.5))
        outcome = np.where(
            votes > 0,
            np.where(u < 0.95, "a", "b"),
            np.where(
                votes < 0,
                np.where(u < 0.95, "b", "a"),
                np.where(rng.random(n_judg) < 0.25, "tie", np.where(tie_break_a, "a", "b")),
            ),
        )
        shown_left = np.where(rng.random(n_judg) < 0.5, "a", "b")
        j0 = _next_id(Judgment._meta.db_table)
        judgment_ids = np.arange(j0, j0 + n_judg)
        _copy(
            Judgment._meta.db_table,
            pd.DataFrame(
                {
                    "id": judgment_ids,
                    "comparison_id": comparison_ids[j_comp],
                    "external_annotator": np.char.add("ann-", annot.astype(str)),
                    "rubric_id": project.rubric_id,
                    "choice": outcome,
                    "strength": np.where(outcome == "tie", None, 2),
                    "rationale": "",
                    "shown_left": shown_left,
                    "seconds": 30.0,
                    "source": "import",
                    "idempotency_key": "",
                    "created_at": created.strftime("%Y-%m-%d %H:%M:%S+00"),
                }
            ),
        )
        print(f"  judgments written: {time.perf_counter() - started:.0f} s")
        letters = np.array(["b", "tie", "a"], dtype=object)
        answers = []
        for k, key in enumerate(("correctness", "completeness")):
            answers.append(
                pd.DataFrame(
                    {
                        "judgment_id": judgment_ids,
                        "criterion_id": criteria[key].pk,
                        "choice": letters[compare[:, k] + 1],
                        "score_a": None,
                        "score_b": None,
                        "scale_min": None,
                        "scale_max": None,
                    }
                )
            )
        answers.append(
            pd.DataFrame(
                {
                    "judgment_id": judgment_ids,
                    "criterion_id": criteria["clarity"].pk,
                    "choice": "",
                    "score_a": clarity_a,
                    "score_b": clarity_b.astype(int),
                    "scale_min": 1,
                    "scale_max": 5,
                }
            )
        )
        for frame in answers:
            _copy(CriterionAnswer._meta.db_table, frame)
        for model in (Prompt, Response, Comparison, Judgment, CriterionAnswer, FeatureValue):
            _reset_sequence(model._meta.db_table)
    print(f"  criterion answers written, committed: {time.perf_counter() - started:.0f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="judgments (default 1M)")
    parser.add_argument("--weeks", type=int, default=10, help="weeks they span (default 10)")
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL (its own database)")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the data")
    parser.add_argument("--setup-only", action="store_true", help="create the data, time nothing")
    parser.add_argument("--html", type=Path, help="also write the report's HTML here")
    args = parser.parse_args()

    setup_django(args.url, fresh=args.fresh)
    from analysis.weekly.weeks import last_completed_week, week_bounds
    from annotation.models import Judgment, Project

    now = datetime.now(UTC)
    week = last_completed_week(now, TIME_ZONE)
    _, end = week_bounds(week, TIME_ZONE)
    project = Project.objects.filter(slug=SLUG).first()
    if project is None:
        print(f"creating {args.n:,} judgments over the {args.weeks} weeks up to {week} …")
        fill(args.n, args.weeks, end)
        project = Project.objects.get(slug=SLUG)
    n = Judgment.objects.filter(comparison__project=project).count()
    print(f"project {SLUG!r}: {n:,} judgments ({args.url})")
    if args.setup_only:
        return

    from analysis.services.weekly_reports import report_generate

    started = time.perf_counter()
    report = report_generate(project=project, week=week)
    total = time.perf_counter() - started
    timings = (report.result or {}).get("timings") or {}
    print(f"\nreport {report.week}: status {report.status}, {report.n_judgments:,} judgments")
    if report.error:
        print(f"error: {report.error}")
    print(f"headline: {report.headline}")
    print(f"\n{'stage':<22} {'seconds':>8}")
    for name, seconds in timings.items():
        print(f"{name:<22} {seconds:>8.2f}")
    print(f"{'report_generate total':<22} {total:>8.2f}   (target < 120 s)")
    print(f"html: {len(report.html) / 1e6:.2f} MB")
    print(f"\npeak memory: {peak_memory_mb():,.0f} MB")
    if args.html:
        args.html.write_text(report.html, encoding="utf-8")


if __name__ == "__main__":
    main()
