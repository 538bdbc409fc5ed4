"""Benchmark: import N canonical JSONL comparisons into a fresh project on PostgreSQL.

    .venv/bin/python bench/bench_import.py --n 1000000

Generates the file once (responses of 500–1,500 characters, four comparisons per
prompt, one judgment each by default), creates the database if needed, migrates, and
imports into a new project with the feature trigger off, so only the import is timed.
Prints the import's seconds, rows/s and the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tiebreak_bench"
# Split once at import time; a list literal of 50 words would be harder to read.
WORDS = str.split(
    "the model answer question great you are right here is a clear step first then "
    "finally however note that this because data example result code python function "
    "value return list error fix simply also important consider option approach best "
    "absolutely happy help explain detail summary reason context user request time"
)


def generate(path: Path, n: int, judgments: int, seed: int = 7) -> None:
    """Write ``n`` canonical JSONL records to ``path``."""
    rng = random.Random(seed)
    corpus = " ".join(rng.choice(WORDS) for _ in range(400_000))
    models = ["model-x", "model-y", "gpt-4o-mini", "llama-3.1-8b", "claude-3.5"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            prompt_no = i // 4
            start = (prompt_no * 7919) % (len(corpus) - 400)
            length = 60 + prompt_no % 240
            prompt = f"Question {prompt_no}: {corpus[start : start + length]}?"
            texts = []
            for _ in range(2):
                size = rng.randint(500, 1500)
                offset = rng.randrange(len(corpus) - size)
                texts.append(f"Answer {i}. {corpus[offset : offset + size]}")
            model_a, model_b = rng.sample(models, 2)
            record = {
                "id": f"bench-{i}",
                "prompt": prompt,
                "response_a": {"text": texts[0], "model": model_a},
                "response_b": {"text": texts[1], "model": model_b},
                "metadata": {"batch": i // 10_000},
                "judgments": [
                    {
                        "annotator": f"ann-{(i + k) % 50}",
                        "choice": rng.choice(("a", "b", "tie")),
                        "seconds": round(rng.uniform(5, 120), 1),
                    }
                    for k in range(judgments)
                ],
            }
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")


def _process_cpu(pid: int | None) -> float | None:
    """CPU seconds of a local process (the PostgreSQL backend), if /proc shows it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="comparisons (1,000,000)")
    parser.add_argument("--judgments", type=int, default=1, help="judgments per comparison")
    parser.add_argument("--file", type=Path, help="where to write the generated JSONL")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="import into the existing database instead of dropping and recreating it",
    )
    args = parser.parse_args()

    path = args.file or Path(f"/tmp/tiebreak-bench-{args.n}-{args.judgments}.jsonl")
    if not path.exists():
        started = time.monotonic()
        generate(path, args.n, args.judgments)
        print(
            f"generated {path} ({path.stat().st_size / 1e9:.2f} GB) "
            f"in {time.monotonic() - started:.1f} s",
            flush=True,
        )
    # What an upload of this kind weighs per comparison (sizes TIEBREAK_IMPORT_INLINE_MAX_BYTES).
    size = path.stat().st_size
    print(f"file: {size / 1e9:.2f} GB, {size / args.n:,.0f} bytes per comparison", flush=True)

    sys.path.insert(0, str(REPO))
    from bench.database import setup_django

    setup_django(args.database_url, fresh=not args.reuse_database)
    from django.db import connection

    from annotation.models import Criterion, Project, Rubric
    from annotation.services.imports import import_file

    stamp = time.strftime("%Y%m%d-%H%M%S")
    rubric = Rubric.objects.create(name=f"bench-{stamp}")
    Criterion.objects.create(rubric=rubric, key="correctness", label="Correct", kind="compare")
    project = Project.objects.create(slug=f"bench-{stamp}", name="Bench", rubric=rubric)

    server_pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            server_pid = cursor.fetchone()[0]
    server_cpu = _process_cpu(server_pid)
    own = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    result = import_file(
        project=project,
        path_or_fileobj=path,
        format="jsonl",
        start_features=False,
        batch_size=args.batch_size,
    )
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime
    if server_cpu is not None:
        server_cpu = _process_cpu(server_pid) - server_cpu
    rows = 3 * result.n_comparisons_created + result.n_judgments_created
    peak = after.ru_maxrss / 1024
    print(f"database: {args.database_url}")
    print(
        f"comparisons: {result.n_comparisons_created:,}  judgments: "
        f"{result.n_judgments_created:,}  prompts: {project.prompts.count():,}"
    )
    print(
        f"import: {seconds:.1f} s  {result.n_comparisons_created / seconds:,.0f} comparisons/s  "
        f"{rows / seconds:,.0f} rows/s (responses, comparisons, judgments)"
    )
    print(f"peak memory (max RSS): {peak:,.0f} MB")
    # On a shared machine the wall time depends on the load; CPU times do not.
    cpu = f"CPU: importer {own_cpu:.1f} s"
    if server_cpu is not None:
        cpu += f", database server backend {server_cpu:.1f} s"
    print(f"{cpu}; load average now {os.getloadavg()[0]:.1f}")
    if not args.keep and args.file is None:
        path.unlink()


if __name__ == "__main__":
    main()
