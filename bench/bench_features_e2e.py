"""Benchmark: feature extraction end to end, N responses, real Celery workers on Redis.

    .venv/bin/python bench/bench_features_e2e.py --n 100000
    .venv/bin/python bench/bench_features_e2e.py            # 1,000,000 responses

Creates the database if needed and migrates it, fills a new project with N synthetic
responses (``bench.corpus.realistic_response``, two per prompt) through COPY, starts real
``celery worker`` processes on a queue of their own, then times ``feature_job_enqueue``
until the job has succeeded. Prints end-to-end seconds, responses/s, the workers' CPU time
(less sensitive than wall time to whatever else runs on the machine) and their memory,
sampled from /proc every second: the largest RSS of one process and the total PSS, against
progress, where it should stay flat as the number of responses grows. ``--upsert-only``
instead compares ways of storing a chunk (COPY, unnest arrays, ``bulk_create``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/tiebreak_bench_features"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
PAGE = 4096  # /proc/<pid>/statm counts pages


def fill_project(n: int, seed: int):
    """A new project with ``n`` responses (two per prompt), written with COPY."""
    from django.db import connection

    from annotation.models import Project, Prompt, Response, Rubric
    from bench.corpus import realistic_prompt, realistic_response

    rubric, _ = Rubric.objects.get_or_create(name="bench-features", version=1)
    project = Project.objects.create(
        slug=f"bench-features-{uuid.uuid4().hex[:8]}", name="Feature benchmark", rubric=rubric
    )
    rng = random.Random(seed)
    now = datetime.now(UTC).isoformat()
    n_prompts = (n + 1) // 2
    started = time.monotonic()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        with raw.copy(
            f"COPY {Prompt._meta.db_table} (created_at, updated_at, project_id, messages, "
            "is_conversation, content_hash) FROM STDIN"
        ) as copy:
            for i in range(n_prompts):
                messages = json.dumps([{"role": "user", "content": realistic_prompt(rng)}])
                copy.write_row((now, now, project.pk, messages, False, f"bench-{i}"))
        prompt_ids = [
            row[0]
            for row in raw.execute(
                f"SELECT id FROM {Prompt._meta.db_table} WHERE project_id = %s ORDER BY id",
                [project.pk],
            )
        ]
        with raw.copy(
            f"COPY {Response._meta.db_table} (created_at, updated_at, project_id, prompt_id, "
            "text, model, external_id) FROM STDIN"
        ) as copy:
            for i in range(n):
                text = realistic_response(rng)
                copy.write_row((now, now, project.pk, prompt_ids[i // 2], text, "bench", ""))
        raw.execute(f"ANALYZE {Response._meta.db_table}")
    print(f"filled {n:,} responses in {time.monotonic() - started:.1f} s", flush=True)
    return project


def start_workers(args, queue: str) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
    }
    celery = str(Path(sys.executable).with_name("celery"))
    workers = []
    for i in range(args.workers):
        command = [celery, "-A", "config", "worker", "--pool=prefork"]
        command += [f"--concurrency={args.concurrency}", "-Q", queue, "-l", "WARNING"]
        command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
        command += ["-n", f"bench-{i}-{queue}@%h"]
        workers.append(subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True))
    return workers


def worker_pids(workers: list[subprocess.Popen]) -> list[int]:
    """Every worker process: each parent and its pool children."""
    pids = []
    for worker in workers:
        pids.append(worker.pid)
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
        with contextlib.suppress(FileNotFoundError):
            pids += [int(p) for p in children.read_text().split()]
    return pids


def memory(pids: list[int]) -> tuple[int, int]:
    """(largest RSS of one process, sum of PSS) in bytes.

    PSS splits the pages a pool child shares with its parent (copy-on-write after the
    fork) between them, so the sum is the workers' real footprint; summed RSS would count
    the shared Django/Celery imports once per process.
    """
    largest, total = 0, 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            largest = max(largest, int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE)
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
    return largest, total


def cpu_seconds(pids: list[int], seen: dict[int, float]) -> None:
    """Record in ``seen`` the user + system CPU seconds each live pid has used so far."""
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            # utime and stime, fields 14 and 15 of proc(5)
            seen[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_e2e(args) -> None:
    from analysis.models import JobStatus
    from analysis.selectors import feature_job_progress
    from analysis.services.features import feature_job_enqueue
    from config.celery_app import app

    project = fill_project(args.n, args.seed)
    queue = f"bench-features-{uuid.uuid4().hex[:8]}"
    app.conf.update(broker_url=args.redis_url, task_always_eager=False, task_default_queue=queue)
    workers = start_workers(args, queue)
    try:
        # Only the work is timed: wait for every pool child, then for the imports to settle.
        expected = args.workers * (1 + args.concurrency)
        deadline = time.monotonic() + 120
        while len(worker_pids(workers)) < expected and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(args.warmup)
        pids = worker_pids(workers)
        baseline = memory(pids)
        # CPU of the worker processes. PostgreSQL's share is not measured: Celery's Django
        # fixup closes the connection after every task, so each chunk gets a new backend.
        cpu: dict[int, float] = {}
        cpu_seconds(pids, cpu)
        cpu_before = sum(cpu.values())
        started = time.monotonic()
        job = feature_job_enqueue(project=project, chunk_size=args.chunk_size)
        enqueued = time.monotonic() - started
        print(f"enqueued job {job.pk}: {job.total:,} responses in {enqueued:.1f} s", flush=True)
        samples = []  # (seconds, responses done, largest RSS, total PSS)
        while True:
            progress = feature_job_progress(job=job)
            pids = worker_pids(workers)
            cpu_seconds(pids, cpu)
            samples.append((time.monotonic() - started, progress["done"], *memory(pids)))
            if progress["status"] in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker exited")
            time.sleep(1)
        elapsed = time.monotonic() - started
        cpu_used = sum(cpu.values()) - cpu_before
    finally:
        for worker in workers:
            os.killpg(worker.pid, 9)
            worker.wait()
        # The queue is this run's own: leave no bindings behind in Redis.
        import redis

        client = redis.Redis.from_url(args.redis_url)
        for key in client.scan_iter(f"*{queue}*"):
            client.delete(key)
    if progress["status"] != JobStatus.SUCCEEDED:
        raise SystemExit(f"job failed: {progress['error']}")

    mib = 1024 * 1024
    print(f"responses      {args.n:,} in {job.chunks.count():,} chunks")
    print(f"workers        {args.workers} x concurrency {args.concurrency}")
    print(f"end to end     {elapsed:.1f} s  ({args.n / elapsed:,.0f} responses/s)")
    # CPU time hardly depends on what else runs on the machine; wall time does.
    print(
        f"worker CPU     {cpu_used:.0f} s, {cpu_used / args.n * 1e6:.0f} µs per response "
        f"(load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(
        f"worker memory  idle: largest RSS {baseline[0] / mib:.0f} MiB, "
        f"total PSS {baseline[1] / mib:.0f} MiB"
    )
    print(
        f"               peak: largest RSS {max(s[2] for s in samples) / mib:.0f} MiB, "
        f"total PSS {max(s[3] for s in samples) / mib:.0f} MiB"
    )
    print("memory vs progress (peak largest RSS / total PSS up to that point):")
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        upto = [s for s in samples if s[1] <= fraction * args.n] or samples[:1]
        print(
            f"  {fraction:>5.0%} done ({int(fraction * args.n):>9,}): "
            f"{max(s[2] for s in upto) / mib:4.0f} / {max(s[3] for s in upto) / mib:4.0f} MiB"
        )


def run_upsert_comparison(args) -> None:
    """Store the same extracted rows three ways, one transaction per chunk as a task does."""
    import json

    from django.db import connection, transaction

    from analysis.features import active_registry, normalize_prompt
    from analysis.models import FeatureValue
    from analysis.services.features import feature_values_upsert

    project = fill_project(args.n, args.seed)
    registry = active_registry()
    started = time.monotonic()
    rows = []
    for response_id, text in project.responses.order_by("id").values_list("id", "text"):
        for e in registry:
            values = dict(zip(e.columns, e.values(text, normalize_prompt(None)), strict=True))
            rows.append((response_id, e.name, e.version, values))
    print(f"extraction: {(time.monotonic() - started) / args.n * 1e6:.0f} µs/response")
    chunk = args.chunk_size * len(registry)
    table = FeatureValue._meta.db_table

    def unnest(rows):
        response_ids, names, versions, values = zip(*rows, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} (response_id, extractor, version, "values")
                SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::integer[], %s::jsonb[])
                ON CONFLICT (response_id, extractor, version)
                DO UPDATE SET "values" = EXCLUDED."values"
                """,
                [list(response_ids), list(names), list(versions), [json.dumps(v) for v in values]],
            )

    def bulk_create(rows):
        FeatureValue.objects.bulk_create(
            [FeatureValue(response_id=r, extractor=e, version=v, values=x) for r, e, v, x in rows],
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["response", "extractor", "version"],
            update_fields=["values"],
        )

    strategies = {
        "COPY + INSERT (service)": lambda rows: feature_values_upsert(rows=rows),
        "unnest(arrays)": unnest,
        "bulk_create": bulk_create,
    }
    for name, store in strategies.items():
        FeatureValue.objects.filter(response__project=project).delete()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
        for label in ("insert", "overwrite"):  # the second pass conflicts on every row
            started, cpu = time.monotonic(), time.process_time()
            for start in range(0, len(rows), chunk):
                with transaction.atomic():
                    store(rows[start : start + chunk])
            seconds, cpu = time.monotonic() - started, time.process_time() - cpu
            # This process's CPU is what a worker spends; the rest is PostgreSQL (and waits).
            print(
                f"{name:<24} {label:<9} {len(rows):,} rows: {seconds:5.2f} s, "
                f"{seconds / args.n * 1e6:4.0f} µs/response, of which client CPU "
                f"{cpu / args.n * 1e6:3.0f} µs",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="responses (1,000,000)")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    parser.add_argument("--concurrency", type=int, default=2, help="pool size per worker (2)")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds after pool start")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--upsert-only", action="store_true", help="compare upsert strategies")
    args = parser.parse_args()

    os.environ["CELERY_BROKER_URL"] = args.redis_url
    sys.path.insert(0, str(REPO))
    from bench.database import setup_django

    setup_django(args.database_url, fresh=args.fresh)
    if args.upsert_only:
        run_upsert_comparison(args)
    else:
        run_e2e(args)


if __name__ == "__main__":
    main()
