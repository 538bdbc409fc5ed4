"""Feature extraction jobs: fan a project out into chunks, compute and upsert each chunk.

Storage: one ``FeatureValue`` row per (response, extractor, version) holding
``values = {column: float}`` keyed by the extractor's declared ``columns``, i.e. the shape
of ``analysis.features.extract_by_extractor``. Single-column extractors declare the column
``""`` (every built-in does), so they store ``{"": 2.0}``; ``length`` stores
``{"chars": …, "words": …, "tokens": …}``. ``analysis.selectors.feature_values_frame``
maps these back to the keys of ``analysis.features.extract``: ``<name>`` for a
single-column extractor, ``<name>.<column>`` otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from analysis.features import Registry, active_registry, normalize_prompt
from analysis.models import FeatureChunk, FeatureJob, FeatureValue, JobStatus
from annotation.models import Project, Prompt, Response

logger = logging.getLogger(__name__)

# PostgreSQL's per-session staging table for the upsert.
_STAGE = "feature_value_stage"

# A chunk's upsert row: (response_id, extractor, version, values).
Row = tuple[int, str, int, dict[str, float]]


def feature_job_enqueue(
    *, project: Project, force: bool = False, chunk_size: int | None = None
) -> FeatureJob:
    """Create a feature job for ``project`` and enqueue one task per chunk.

    Without ``force`` the job covers only responses missing at least one current
    (extractor, version); with ``force`` every response is recomputed (the upsert
    overwrites). Chunks are contiguous runs of ``chunk_size`` target response ids
    (default ``TIEBREAK_FEATURE_CHUNK_SIZE``).

    Tasks are sent in ``on_commit``, so a worker never looks for rows that are not yet
    committed. With eager Celery (the embedded default) they run in-process as soon as
    the surrounding transaction commits, i.e. before this returns when it is called
    outside one; the returned job is refreshed after that.
    """
    registry = active_registry()
    chunk_size = chunk_size or settings.TIEBREAK_FEATURE_CHUNK_SIZE
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    with transaction.atomic():
        job = FeatureJob.objects.create(
            project=project, force=force, extractors=[[e.name, e.version] for e in registry]
        )
        chunks = [
            FeatureChunk(job=job, first_id=ids[0], last_id=ids[-1], size=len(ids))
            for ids in _batched(_target_response_ids(project, registry, force), chunk_size)
        ]
        FeatureChunk.objects.bulk_create(chunks, batch_size=1000)
        job.total = sum(chunk.size for chunk in chunks)
        update_fields = ["total", "updated_at"]
        if not chunks:
            job.status, job.finished_at = JobStatus.SUCCEEDED, timezone.now()
            update_fields += ["status", "finished_at"]
        job.save(update_fields=update_fields)
        chunk_ids = list(job.chunks.order_by("first_id").values_list("id", flat=True))
        # robust: the import that triggered this has committed already; a broker outage or
        # an (eager) extractor error is logged and recorded on the job, not raised into it.
        # (A closure, not functools.partial: Django's robust error log reads __qualname__.)
        transaction.on_commit(lambda: _send_chunks(job.pk, chunk_ids), robust=True)
    job.refresh_from_db()
    return job


def feature_chunk_process(*, job_id: int, chunk_id: int) -> bool:
    """Compute every current extractor for one chunk and upsert the values.

    Idempotent, so safe to redeliver: a chunk already marked done is skipped, and an
    interrupted attempt left nothing behind (the upsert and ``done=True`` commit in one
    transaction). Without ``job.force`` only the (response, extractor) pairs still missing
    at run time are computed. Returns False when the chunk had already been done.
    """
    chunk = FeatureChunk.objects.select_related("job").filter(pk=chunk_id, job_id=job_id).first()
    if chunk is None or chunk.done:
        return False
    job = chunk.job
    FeatureChunk.objects.filter(pk=chunk_id).update(attempts=F("attempts") + 1)
    FeatureJob.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, updated_at=timezone.now()
    )
    _test_delay()

    try:
        rows = _compute_chunk(chunk, job, active_registry())
    except DatabaseError:
        raise  # transient more often than not: the task retries it
    except Exception as exc:
        # An extractor bug fails the same way on every attempt: say so on the job now
        # (the task's on_failure does not run under eager Celery, which propagates).
        feature_job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise
    with transaction.atomic():
        # The row lock serialises a redelivered copy of this chunk running concurrently
        # (possible after a visibility timeout): the second one finds done=True.
        # (A fetched row: count() would silently drop the FOR UPDATE.)
        done = (
            FeatureChunk.objects.select_for_update()
            .filter(pk=chunk_id)
            .values_list("done", flat=True)
            .first()
        )
        if done is None or done:
            return False
        feature_values_upsert(rows=rows)
        FeatureChunk.objects.filter(pk=chunk_id).update(done=True)
        _job_finish_if_complete(job_id)
    return True


def feature_job_fail(*, job_id: int, error: str) -> None:
    """Record that a chunk of the job failed for good (its retries are exhausted)."""
    FeatureJob.objects.filter(pk=job_id).exclude(status=JobStatus.SUCCEEDED).update(
        status=JobStatus.FAILED,
        error=error[:10_000],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def feature_values_upsert(*, rows: Sequence[Row]) -> None:
    """Insert or overwrite ``FeatureValue`` rows keyed by (response, extractor, version).

    PostgreSQL gets COPY into a temporary staging table, then one
    ``INSERT … SELECT … ON CONFLICT DO UPDATE``: per response (six rows) about 60–100 µs
    of which 16 µs in this process, against 95–135 µs (45 µs) for ``unnest`` of array
    parameters and 175–270 µs (125 µs) for ``bulk_create`` (``bench/bench_features_e2e.py
    --upsert-only``). Other databases use ``bulk_create(update_conflicts=True)``.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        _upsert_postgresql(rows)
        return
    FeatureValue.objects.bulk_create(
        [
            FeatureValue(response_id=rid, extractor=name, version=version, values=values)
            for rid, name, version, values in rows
        ],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["response", "extractor", "version"],
        update_fields=["values"],
    )


def _target_response_ids(project: Project, registry: Registry, force: bool) -> Iterator[int]:
    """The ids of the responses the job must process, ascending, streamed from the DB."""
    responses = Response.objects.filter(project=project)
    if not force:
        if not len(registry):
            return iter(())
        responses = responses.filter(_missing_any(registry))
    return responses.order_by("id").values_list("id", flat=True).iterator(chunk_size=10_000)


def _missing_any(registry: Registry) -> Q:
    """Responses lacking a row for at least one extractor's current version (anti-joins)."""
    condition = Q()
    for extractor in registry:
        has_row = FeatureValue.objects.filter(
            response=OuterRef("pk"), extractor=extractor.name, version=extractor.version
        )
        condition |= ~Exists(has_row)
    return condition


def _compute_chunk(chunk: FeatureChunk, job: FeatureJob, registry: Registry) -> list[Row]:
    """Compute the rows of one chunk (outside any transaction: this is the slow part)."""
    responses = list(
        Response.objects.filter(
            project_id=job.project_id, id__gte=chunk.first_id, id__lte=chunk.last_id
        )
        .order_by("id")
        .values_list("id", "text", "prompt_id")
    )
    # The two responses of a comparison share a prompt: load and normalise each once.
    prompts = {
        prompt_id: normalize_prompt(messages)
        for prompt_id, messages in Prompt.objects.filter(
            id__in={prompt_id for _, _, prompt_id in responses}
        ).values_list("id", "messages")
    }
    present: set[tuple[int, str, int]] = set()
    if not job.force:
        present = set(
            FeatureValue.objects.filter(
                _current(registry), response_id__gte=chunk.first_id, response_id__lte=chunk.last_id
            ).values_list("response_id", "extractor", "version")
        )
    rows: list[Row] = []
    for response_id, text, prompt_id in responses:
        messages = prompts[prompt_id]
        for extractor in registry:
            if (response_id, extractor.name, extractor.version) in present:
                continue
            values = dict(zip(extractor.columns, extractor.values(text, messages), strict=True))
            rows.append((response_id, extractor.name, extractor.version, values))
    return rows


def _current(registry: Registry) -> Q:
    """FeatureValue rows of the registry's (extractor, version) pairs."""
    condition = Q(pk__in=[])
    for extractor in registry:
        condition |= Q(extractor=extractor.name, version=extractor.version)
    return condition


def _upsert_postgresql(rows: Sequence[Row]) -> None:
    table = connection.ops.quote_name(FeatureValue._meta.db_table)
    with connection.cursor() as cursor:
        # A session-local staging table, created on a connection's first use and emptied at
        # every commit: COPY is the fastest way in, and psycopg writes its rows in C, where
        # Django's client-side parameter binding quotes array items in Python.
        cursor.execute(
            f"""
            CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
                response_id bigint, extractor varchar(100), version integer, "values" jsonb
            ) ON COMMIT DELETE ROWS
            """
        )
        with cursor.cursor.copy(
            f'COPY {_STAGE} (response_id, extractor, version, "values") FROM STDIN'
        ) as copy:
            for response_id, name, version, values in rows:
                copy.write_row((response_id, name, version, json.dumps(values, allow_nan=False)))
        cursor.execute(
            f"""
            INSERT INTO {table} (response_id, extractor, version, "values")
            SELECT response_id, extractor, version, "values" FROM {_STAGE}
            ON CONFLICT (response_id, extractor, version)
            DO UPDATE SET "values" = EXCLUDED."values"
            """
        )
        # Emptied now too, for a caller that upserts twice in one transaction.
        cursor.execute(f"DELETE FROM {_STAGE}")


def _job_finish_if_complete(job_id: int) -> None:
    """Mark the job succeeded once no chunk is left; call inside the chunk's transaction.

    The job row lock makes the last two chunks committing at once take turns: whichever
    checks second sees the other's ``done`` committed (READ COMMITTED gives each statement
    a fresh snapshot), so exactly one of them finishes the job and none misses it.
    """
    job = FeatureJob.objects.select_for_update().get(pk=job_id)
    if job.status == JobStatus.SUCCEEDED or job.chunks.filter(done=False).exists():
        return
    job.status, job.finished_at, job.error = JobStatus.SUCCEEDED, timezone.now(), ""
    job.save(update_fields=["status", "finished_at", "error", "updated_at"])


def _send_chunks(job_id: int, chunk_ids: list[int]) -> None:
    # Imported here: analysis.tasks imports this module.
    from analysis.tasks import extract_feature_chunk

    for chunk_id in chunk_ids:
        extract_feature_chunk.delay(job_id, chunk_id)


def _test_delay() -> None:
    # Test-only knob: slows each chunk so a test can kill a worker mid-job.
    delay = float(os.environ.get("TIEBREAK_FEATURE_CHUNK_DELAY") or 0)
    if delay > 0:
        time.sleep(delay)


def _batched(iterable: Iterable[int], n: int) -> Iterator[list[int]]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, n)):
        yield batch
