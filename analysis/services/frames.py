"""Loads a project's judgments from the database into the judgment frame.

The frame is the one table every statistic reads; its columns are defined in
:mod:`analysis.stats.frame`. This module is the only place that builds it from Django
models, and it does so column-wise: each table is read with one query straight into
arrays (``COPY … TO STDOUT`` on PostgreSQL, a plain cursor elsewhere), criterion answers
are pivoted with numpy, and no model instance is created per row, so a million judgments
load in seconds.

Decisions worth knowing:

* Every judgment of the project counts, imported ones too. ``annotator`` is the member's
  username, or the external annotator id of an imported judgment (the two share one
  namespace: a member called ``ann-3`` and an imported ``ann-3`` are one annotator).
* ``left`` is ``None`` when the display order is unknown (imported data without
  ``shown_left``); the statistics give such rows a position term of 0 and leave them out
  of the position-bias share (``analysis.stats.design.position_term``).
* ``rubric.<key>`` columns follow the project's *current* rubric. Judgments answered
  under an older version contribute their answers to the criteria with the same key;
  criteria that no longer exist are left out, and criteria the judgment did not answer
  are NaN.
* Style features are the stored values of the *current* extractor versions
  (``analysis.selectors.feature_values_frame``). If some judged responses have not been
  extracted yet, :func:`judgment_frame` raises :class:`FeaturesMissing` by default
  rather than silently analysing a subset; ``missing_features="compute"`` computes the
  missing ones in-process instead (without storing them), which is fine for small
  projects and tests.
* ``created_from`` / ``created_before`` keep the judgments created in ``[from, before)``
  (the weekly report's windows). The bounds go into the SQL of every query that reads
  per-judgment rows, and features are read only for the responses those judgments use,
  so a window's frame costs what its rows cost, not what the project's do.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet

from analysis.features import extract
from analysis.features.registry import active_registry
from analysis.models import FeatureValue
from analysis.selectors import feature_values_frame
from analysis.stats.frame import (
    A_PREFIX,
    ANNOTATOR,
    B_PREFIX,
    COMPARISON,
    CREATED_AT,
    LEFT,
    MODEL_A,
    MODEL_B,
    OUTCOME,
    RUBRIC_PREFIX,
)
from annotation.models import Comparison, Criterion, CriterionAnswer, Judgment, Project, Response

__all__ = ["FeaturesMissing", "FrameError", "judgment_frame"]

# Keeps ``IN (…)`` lists under SQLite's bound-parameter limit.
_ID_BATCH = 5_000
_COMPARE_SIGN = {"a": 1.0, "tie": 0.0, "b": -1.0}


class FrameError(Exception):
    """The project's data cannot be turned into a judgment frame as asked."""


class FeaturesMissing(FrameError):
    """Some judged responses have no stored features under the current extractor versions.

    Attributes
    ----------
    n_missing : int
        Responses lacking at least one current extractor's values.
    n_responses : int
        Responses that appear in the project's judgments.
    """

    def __init__(self, *, project: Project, n_missing: int, n_responses: int):
        self.n_missing = n_missing
        self.n_responses = n_responses
        super().__init__(
            f"style features are missing for {n_missing} of the {n_responses} judged responses "
            f"of project {project.slug!r} under the current extractor versions: feature "
            "extraction has not finished (see /api/projects/"
            f"{project.slug}/features/progress/) or was never started (run "
            f"`python manage.py extract_features {project.slug}`). Analyse again once it is "
            "done."
        )


def judgment_frame(
    *,
    project: Project,
    missing_features: Literal["error", "compute"] = "error",
    created_from: datetime | None = None,
    created_before: datetime | None = None,
) -> pd.DataFrame:
    """Return the project's judgments as a judgment frame (:mod:`analysis.stats.frame`).

    Parameters
    ----------
    project : Project
        The project; every judgment of its comparisons is one row, ordered by judgment id.
    missing_features : {"error", "compute"}
        What to do when judged responses lack stored features under the current extractor
        versions: raise :class:`FeaturesMissing` (default), or compute them in-process
        with :func:`analysis.features.extract` without storing them.
    created_from, created_before : datetime, optional
        Keep only judgments with ``created_from <= created_at < created_before`` (aware
        datetimes; either bound may be left out). Features are then checked, and computed
        with ``"compute"``, only for the responses of the kept judgments.

    Returns
    -------
    pandas.DataFrame
        Columns ``outcome, left, annotator, comparison, created_at, model_a, model_b``,
        then ``rubric.<key>`` per criterion of the project's current rubric (in rubric
        order), then ``a.<feature>`` and ``b.<feature>`` per current feature key. The
        index is a RangeIndex; a project without judgments gives an empty frame with the
        same columns.

    Raises
    ------
    FeaturesMissing
        See ``missing_features``.
    """
    if missing_features not in ("error", "compute"):
        raise ValueError("missing_features must be 'error' or 'compute'")
    for name, bound in (("created_from", created_from), ("created_before", created_before)):
        if bound is not None and (not isinstance(bound, datetime) or bound.tzinfo is None):
            raise ValueError(f"{name} must be an aware datetime, not {bound!r}")
    window = _window("created_at", created_from, created_before)

    judgments = _read(
        Judgment.objects.filter(comparison__project=project, **window)
        .order_by("id")
        .values_list(
            "id",
            "comparison_id",
            "annotator_id",
            "external_annotator",
            "choice",
            "shown_left",
            "created_at",
        ),
        ["id", "comparison_id", "annotator_id", "external", "choice", "shown_left", "created_at"],
        ints=["id", "comparison_id"],
    )
    n = len(judgments)
    judgment_ids = judgments["id"].to_numpy(dtype=np.int64)

    comparisons = _read(
        Comparison.objects.filter(project=project).values_list(
            "id",
            "external_id",
            "response_a_id",
            "response_b_id",
            "response_a__model",
            "response_b__model",
        ),
        ["id", "external_id", "response_a_id", "response_b_id", "model_a", "model_b"],
        ints=["id", "response_a_id", "response_b_id"],
    )
    where = pd.Index(comparisons["id"].to_numpy(dtype=np.int64)).get_indexer(
        judgments["comparison_id"].to_numpy(dtype=np.int64)
    )
    # Per-comparison columns are cleaned once per comparison, then spread to judgments.
    external_id = comparisons["external_id"].to_numpy(dtype=object)
    external_id = np.where(
        _blank(external_id), comparisons["id"].astype(str).to_numpy(dtype=object), external_id
    )
    model_a = _strings(comparisons["model_a"].to_numpy(dtype=object))
    model_b = _strings(comparisons["model_b"].to_numpy(dtype=object))
    left = judgments["shown_left"].to_numpy(dtype=object)

    frame = pd.DataFrame(index=pd.RangeIndex(n))
    frame[OUTCOME] = judgments["choice"].to_numpy(dtype=object)  # never blank (a CHECK)
    frame[LEFT] = np.where(np.isin(left, ["a", "b"]), left, None)
    frame[ANNOTATOR] = _annotators(judgments)
    frame[COMPARISON] = external_id[where]
    frame[CREATED_AT] = pd.to_datetime(judgments["created_at"], utc=True, format="ISO8601")
    frame[MODEL_A] = model_a[where]
    frame[MODEL_B] = model_b[where]

    rubric = _rubric_matrix(
        project, judgment_ids, _window("judgment__created_at", created_from, created_before)
    )
    response_a = comparisons["response_a_id"].to_numpy(dtype=np.int64)[where]
    response_b = comparisons["response_b_id"].to_numpy(dtype=np.int64)[where]
    features = _feature_matrices(
        project, response_a, response_b, missing_features, subset=bool(window)
    )
    return pd.concat([frame, rubric, features], axis=1)


def _window(field: str, start: datetime | None, end: datetime | None) -> dict[str, datetime]:
    """Queryset filters for ``start <= field < end`` (missing bounds left out)."""
    out = {}
    if start is not None:
        out[f"{field}__gte"] = start
    if end is not None:
        out[f"{field}__lt"] = end
    return out


# --- reading --------------------------------------------------------------------------------


def _read(queryset: QuerySet, names: Sequence[str], *, ints: Iterable[str] = ()) -> pd.DataFrame:
    """Run a ``values_list`` queryset and return its rows as a DataFrame, without models.

    PostgreSQL streams the result as CSV through ``COPY (…) TO STDOUT`` into
    ``pandas.read_csv``, several times faster than fetching Python tuples; other databases
    fetch tuples with a plain cursor. Empty strings stay empty strings, SQL NULL becomes
    NaN/None; ``ints`` columns are parsed as int64.
    """
    sql, params = queryset.query.sql_with_params()
    ints = list(ints)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.BytesIO()
            copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER false)"
            with cursor.cursor.copy(copy_sql, params) as copy:
                for block in copy:
                    buffer.write(block)
            buffer.seek(0)
            if not buffer.getbuffer().nbytes:
                return _empty(names, ints)
            # NULL and '' both arrive as "" (keep_default_na=False); every caller treats
            # them alike ("no value"), see _blank().
            return pd.read_csv(
                buffer,
                header=None,
                names=list(names),
                dtype={name: ("int64" if name in ints else object) for name in names},
                keep_default_na=False,
            )
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return _empty(names, ints)
    frame = pd.DataFrame.from_records(rows, columns=list(names))
    for name in ints:
        frame[name] = frame[name].astype(np.int64)
    return frame


def _empty(names: Sequence[str], ints: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: np.array([], dtype=np.int64 if name in ints else object) for name in names}
    )


def _blank(values: np.ndarray) -> np.ndarray:
    """True where a text column holds no value (NULL, NaN or "")."""
    series = pd.Series(values, dtype=object)
    return (series.isna() | (series == "")).to_numpy(dtype=bool)


def _strings(values: np.ndarray) -> np.ndarray:
    """An object array of str with None where the value is missing (NULL, NaN or "")."""
    out = values.astype(object, copy=True)
    out[_blank(out)] = None
    return out


def _annotators(judgments: pd.DataFrame) -> np.ndarray:
    """Username of the member who judged, else the imported external annotator id."""
    user_ids = pd.to_numeric(judgments["annotator_id"], errors="coerce").to_numpy(dtype=np.float64)
    names = _strings(judgments["external"].to_numpy(dtype=object))
    has_user = ~np.isnan(user_ids)
    if has_user.any():
        codes = user_ids[has_user].astype(np.int64)
        unique = np.unique(codes)
        usernames: dict[int, str] = {}
        user_model = get_user_model()
        for batch in _batches(unique.tolist(), _ID_BATCH):
            usernames.update(
                user_model.objects.filter(pk__in=batch).values_list("pk", user_model.USERNAME_FIELD)
            )
        lookup = np.array([usernames.get(int(u)) for u in unique], dtype=object)
        names[has_user] = lookup[np.searchsorted(unique, codes)]
    return names


# --- rubric ---------------------------------------------------------------------------------


def _rubric_matrix(
    project: Project, judgment_ids: np.ndarray, window: dict[str, datetime]
) -> pd.DataFrame:
    """``rubric.<key>`` columns (a minus b) for the judgments, NaN where not answered.

    ``window`` filters the answers by their judgment's ``created_at`` exactly as the
    judgments were filtered, so no answer of a judgment outside the frame is read.
    """
    keys = list(project.rubric.criteria.order_by("position", "id").values_list("key", flat=True))
    column_of = {key: j for j, key in enumerate(keys)}
    data = np.full((judgment_ids.size, len(keys)), np.nan)
    if judgment_ids.size and keys:
        answers = _read(
            CriterionAnswer.objects.filter(
                judgment__comparison__project=project, **window
            ).values_list("judgment_id", "criterion_id", "choice", "score_a", "score_b"),
            ["judgment_id", "criterion_id", "choice", "score_a", "score_b"],
            ints=["judgment_id", "criterion_id"],
        )
        if len(answers):
            criterion_ids = np.unique(answers["criterion_id"].to_numpy(dtype=np.int64))
            key_of: dict[int, str] = {}
            for batch in _batches(criterion_ids.tolist(), _ID_BATCH):
                key_of.update(Criterion.objects.filter(pk__in=batch).values_list("pk", "key"))
            # Column per criterion id (-1: a criterion the current rubric no longer has).
            col_by_id = np.array([column_of.get(key_of.get(c, ""), -1) for c in criterion_ids])
            cols = col_by_id[
                np.searchsorted(criterion_ids, answers["criterion_id"].to_numpy(dtype=np.int64))
            ]
            rows = np.searchsorted(judgment_ids, answers["judgment_id"].to_numpy(dtype=np.int64))
            choice = answers["choice"].to_numpy(dtype=object)
            compare = pd.Series(choice).map(_COMPARE_SIGN).to_numpy(dtype=np.float64)
            score_a = pd.to_numeric(answers["score_a"], errors="coerce").to_numpy(np.float64)
            score_b = pd.to_numeric(answers["score_b"], errors="coerce").to_numpy(np.float64)
            values = np.where(np.isnan(compare), score_a - score_b, compare)
            keep = (cols >= 0) & (rows < judgment_ids.size)
            data[rows[keep], cols[keep]] = values[keep]
    return pd.DataFrame(data, columns=[RUBRIC_PREFIX + key for key in keys])


# --- features -------------------------------------------------------------------------------


def _feature_matrices(
    project: Project,
    response_a: np.ndarray,
    response_b: np.ndarray,
    missing: str,
    *,
    subset: bool = False,
) -> pd.DataFrame:
    """``a.<feature>`` and ``b.<feature>`` raw values for each judgment's two responses.

    ``subset`` reads the stored values of the judged responses only (a time window
    covers a fraction of the project); otherwise every response of the project is read,
    which is faster when most of them are judged.
    """
    used = np.unique(np.concatenate([response_a, response_b]))
    values = feature_values_frame(project=project, response_ids=used.tolist() if subset else None)
    keys = [str(k) for k in values.columns]
    index = pd.Index(values.index.to_numpy(dtype=np.int64))
    matrix = values.to_numpy(dtype=np.float64, copy=True)
    if used.size and keys:
        rows = index.get_indexer(used)
        incomplete = used[np.isnan(matrix[rows]).any(axis=1)]
        if incomplete.size:
            lacking = _without_stored_features(incomplete)
            if lacking:
                if missing == "error":
                    raise FeaturesMissing(
                        project=project, n_missing=len(lacking), n_responses=int(used.size)
                    )
                computed = _compute_features(sorted(lacking), keys)
                matrix[index.get_indexer(list(computed))] = np.array(list(computed.values()))
    pos_a, pos_b = index.get_indexer(response_a), index.get_indexer(response_b)
    a = matrix[pos_a] if keys else np.empty((response_a.size, 0))
    b = matrix[pos_b] if keys else np.empty((response_b.size, 0))
    return pd.concat(
        [
            pd.DataFrame(a, columns=[A_PREFIX + k for k in keys]),
            pd.DataFrame(b, columns=[B_PREFIX + k for k in keys]),
        ],
        axis=1,
    )


def _without_stored_features(response_ids: np.ndarray) -> set[int]:
    """The responses among ``response_ids`` that lack a row for some current extractor.

    A NaN in ``feature_values_frame`` means either "no row" or a stored null (a value the
    extractor could not compute); only the former is missing work.
    """
    registry = list(active_registry())
    ids = [int(i) for i in response_ids]
    lacking: set[int] = set()
    for batch in _batches(ids, _ID_BATCH):
        for extractor in registry:
            present = set(
                FeatureValue.objects.filter(
                    response_id__in=batch, extractor=extractor.name, version=extractor.version
                ).values_list("response_id", flat=True)
            )
            lacking.update(i for i in batch if i not in present)
    return lacking


def _compute_features(response_ids: list[int], keys: list[str]) -> dict[int, list[float]]:
    """Current feature values of the given responses, computed in-process (not stored)."""
    registry = active_registry()
    out: dict[int, list[float]] = {}
    for batch in _batches(response_ids, _ID_BATCH):
        rows = Response.objects.filter(pk__in=batch).values_list("pk", "text", "prompt__messages")
        for pk, text, messages in rows.iterator(chunk_size=2_000):
            values = extract(text or "", prompt=messages or None, registry=registry)
            out[pk] = [float(values.get(key, np.nan)) for key in keys]
    return out


def _batches(items: list[Any], n: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), n):
        yield items[start : start + n]
