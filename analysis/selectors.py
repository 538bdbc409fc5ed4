"""Read-side queries for analysis: feature-job progress and stored feature values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.http import Http404

from analysis.features import Registry, active_registry
from analysis.models import ExportSnapshot, FeatureJob, FeatureValue
from annotation.models import Project, Response
from annotation.selectors import project_for_researcher

_ID_BATCH = 5_000


def export_for_researcher(*, slug: str, user, export_id: int) -> ExportSnapshot:
    """Export ``export_id`` of project ``slug`` for one of its researchers.

    Raises ``PermissionDenied`` / ``Http404`` as :func:`project_for_researcher` does, and
    ``Http404`` when the project has no such export.
    """
    project = project_for_researcher(slug=slug, user=user)
    snapshot = (
        ExportSnapshot.objects.select_related("project", "created_by")
        .filter(project=project, pk=export_id)
        .first()
    )
    if snapshot is None:
        raise Http404("No such export.")
    return snapshot


def feature_progress(*, project: Project) -> dict[str, Any] | None:
    """Progress of the project's latest feature job, or None when it never had one.

    ``{"job_id", "status", "done", "total", "percent", "extractors"}``: ``done`` and
    ``total`` count responses; ``percent`` is 100 for a job with nothing to do.
    """
    job = FeatureJob.objects.filter(project=project).order_by("-created_at", "-pk").first()
    return None if job is None else feature_job_progress(job=job)


def feature_job_progress(*, job: FeatureJob) -> dict[str, Any]:
    """Progress of one job, read fresh from the database (a worker updates it)."""
    job.refresh_from_db(fields=["status", "total", "error", "finished_at"])
    done = job.chunks.filter(done=True).aggregate(n=Sum("size"))["n"] or 0
    return {
        "job_id": job.pk,
        "status": job.status,
        "done": done,
        "total": job.total,
        "percent": round(100.0 * done / job.total, 1) if job.total else 100.0,
        "extractors": [{"name": name, "version": version} for name, version in job.extractors],
        "error": job.error,
    }


def feature_values_frame(
    *, project: Project, response_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Stored features of the project's responses under the CURRENT extractor versions.

    Indexed by response id (``response_ids`` in the given order, else every response of
    the project, ascending), one float column per key of ``analysis.features.feature_keys``
    (``<name>`` or ``<name>.<column>``, as ``analysis.features.extract`` returns them).
    NaN where a value is missing: not extracted yet, or stored under an older version only.
    """
    registry = active_registry()
    keys = registry.feature_keys()
    if response_ids is None:
        index = list(
            Response.objects.filter(project=project).order_by("id").values_list("id", flat=True)
        )
        wanted = None
    else:
        index = list(response_ids)
        wanted = list(dict.fromkeys(index))
    if not keys:
        found, matrix = np.empty(0, dtype=np.int64), np.empty((0, 0))
    elif connection.vendor == "postgresql":
        found, matrix = _stored_postgresql(project, registry, wanted)
    else:
        found, matrix = _stored_portable(project, registry, wanted)
    stored = pd.DataFrame(matrix, index=pd.Index(found, name="response_id"), columns=keys)
    return stored.reindex(pd.Index(index, dtype=np.int64, name="response_id"))


def _stored_postgresql(
    project: Project, registry: Registry, wanted: list[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(response ids, values matrix), pivoted to one row per response by PostgreSQL.

    Two to four times faster than decoding each row's JSON in Python (1M responses:
    10–20 s instead of ~40 s on the busy 2-core benchmark machine). A server-side cursor
    streams the rows, so memory stays at the size of the result.
    """
    columns, params = [], []
    for extractor in registry:
        for column in extractor.columns:
            columns.append(
                'max(("values" ->> %s)::float8) FILTER (WHERE extractor = %s AND version = %s)'
            )
            params += [column, extractor.name, extractor.version]
    current = " OR ".join(["(extractor = %s AND version = %s)"] * len(registry))
    params += [project.pk, *(x for e in registry for x in (e.name, e.version))]
    subset = ""
    if wanted is not None:
        subset = "AND fv.response_id = ANY(%s)"
        params.append(wanted)
    sql = f"""
        SELECT fv.response_id, {", ".join(columns)}
        FROM {FeatureValue._meta.db_table} fv
        JOIN {Response._meta.db_table} r ON r.id = fv.response_id
        WHERE r.project_id = %s AND ({current}) {subset}
        GROUP BY fv.response_id
    """
    parts = []
    with transaction.atomic():  # a server-side cursor lives inside a transaction
        connection.ensure_connection()
        with connection.connection.cursor(name="feature_values_frame", binary=True) as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(50_000):
                # None (a missing column) becomes NaN.
                parts.append(np.array(rows, dtype=np.float64))
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty((0, len(columns)))
    data = np.concatenate(parts)
    return data[:, 0].astype(np.int64), data[:, 1:]


def _stored_portable(
    project: Project, registry: Registry, wanted: list[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(response ids, values matrix), decoding each stored row in Python (SQLite)."""
    pairs = [(extractor.name, column) for extractor in registry for column in extractor.columns]
    column_of = {pair: j for j, pair in enumerate(pairs)}
    current = Q(pk__in=[])
    for extractor in registry:
        current |= Q(extractor=extractor.name, version=extractor.version)
    rows = FeatureValue.objects.filter(current, response__project=project)
    # Batches keep ``response_id IN (…)`` under SQLite's bound-parameter limit.
    batches = [None] if wanted is None else _batches(wanted, _ID_BATCH)
    found: dict[int, np.ndarray] = {}
    for batch in batches:
        selected = rows if batch is None else rows.filter(response_id__in=batch)
        values_rows = selected.values_list("response_id", "extractor", "values")
        for response_id, name, values in values_rows.iterator(chunk_size=10_000):
            row = found.get(response_id)
            if row is None:
                row = found[response_id] = np.full(len(column_of), np.nan)
            for column, value in values.items():
                j = column_of.get((name, column))
                if j is not None and value is not None:
                    row[j] = value
    if not found:
        return np.empty(0, dtype=np.int64), np.empty((0, len(column_of)))
    return np.fromiter(found, dtype=np.int64, count=len(found)), np.vstack(list(found.values()))


def _batches(ids: list[int], n: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), n):
        yield ids[start : start + n]
