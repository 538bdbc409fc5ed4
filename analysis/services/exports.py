"""Dataset exports: record a snapshot, then write it batch by batch (request, command or task).

A snapshot's lifecycle: ``pending`` (created: kind, format, options, and the pins below)
→ ``running`` → ``succeeded`` (``row_count``, ``sha256``, ``size``, and ``file`` for
exports made from the site or the API) or ``failed`` (``error`` says why, in words a
researcher can act on; no file is left behind).

Pinning: at creation the snapshot stores the highest judgment and comparison ids, the
extractor versions (with their columns), the rubric's criteria and the style features of
the style-heavier vote; every read is bounded by them and ordered by id, so writing the
same snapshot again gives the same bytes while those rows are unchanged.

Streaming: comparisons are read in keyset-paginated batches of ``BATCH_COMPARISONS``
(``id > last``), each batch's judgments, criterion answers, features, texts and prompts
with one column-wise query each (``values_list``, no model instance per row), turned into
columns by :mod:`analysis.exports.rows` and written by :mod:`analysis.exports.writers`.
Memory holds one batch.

Exports covering more than ``settings.TIEBREAK_EXPORT_INLINE_MAX_ROWS`` judgments run in
the ``run_export`` Celery task (:func:`export_snapshot_enqueue`); smaller ones are written
in the request. The ``export`` command writes in-process to the file it is given.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import InterfaceError, OperationalError, connection, reset_queries, transaction
from django.db.models import Count, Max, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.crypto import salted_hmac

from analysis.exports.preferences import comparison_filter
from analysis.exports.pseudonyms import pseudonym
from analysis.exports.rows import (
    Batch,
    ExportDataError,
    dpo_columns,
    judgment_columns,
    preference_columns,
)
from analysis.exports.schema import (
    CRITERION_PREFIX,
    LONG_TEXT,
    dpo_schema,
    judgments_schema,
    preferences_schema,
)
from analysis.exports.writers import BackgroundWriter, HashingSink, open_writer
from analysis.features import active_registry
from analysis.models import ExportFormat, ExportKind, ExportSnapshot, FeatureValue, JobStatus
from annotation.models import (
    Comparison,
    Criterion,
    CriterionAnswer,
    Judgment,
    Project,
    Prompt,
)

__all__ = [
    "BATCH_COMPARISONS",
    "FORMS",
    "ExportError",
    "ExportWritten",
    "export_filename",
    "export_options_check",
    "export_snapshot_create",
    "export_snapshot_enqueue",
    "export_snapshot_execute",
    "export_snapshot_fail",
    "export_snapshot_write",
]

logger = logging.getLogger(__name__)

#: Comparisons per batch. Part of the output's identity for Parquet (one row group per
#: batch), so it is a constant rather than an option.
BATCH_COMPARISONS = 2_500
FORMS = ("auto", "standard", "conversational")
OPTION_KEYS = ("min_agreement", "drop_ties", "exclude_style_decided", "form")
_SIGN = {"a": 1.0, "tie": 0.0, "b": -1.0}


class ExportError(Exception):
    """The project's data cannot be exported as asked (style features missing, ...)."""


@dataclass(frozen=True)
class ExportWritten:
    """What a write produced."""

    row_count: int
    sha256: str
    size: int


# --- validation and creation ------------------------------------------------------------------


def export_options_check(
    *, kind: str, format: str, options: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Validate an export request; return its options complete (defaults filled in).

    Raises ``ValidationError`` with messages by field (``kind``, ``format``, each option);
    unknown options are errors too. ``form`` is for the ``dpo`` kind (``auto`` is
    accepted, and ignored, for the others).
    """
    options = dict(options or {})
    errors: dict[str, list[str]] = {}
    if kind not in ExportKind.values:
        errors["kind"] = [f"must be one of {', '.join(ExportKind.values)}"]
    if format not in ExportFormat.values:
        errors["format"] = [f"must be one of {', '.join(ExportFormat.values)}"]
    for key in sorted(set(options) - set(OPTION_KEYS)):
        errors[key] = [f"unknown option; expected one of {', '.join(OPTION_KEYS)}"]
    out: dict[str, Any] = {}
    value = options.get("min_agreement")
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1
    ):
        errors["min_agreement"] = ["must be a number from 0 to 1 (the share of agreeing votes)"]
    else:
        out["min_agreement"] = None if value is None else float(value)
    for key in ("drop_ties", "exclude_style_decided"):
        value = options.get(key, False)
        if not isinstance(value, bool):
            errors[key] = ["must be true or false"]
        out[key] = bool(value)
    form = options.get("form")
    if kind == ExportKind.DPO:
        form = "auto" if form is None else form
        if form not in FORMS:
            errors["form"] = [f"must be one of {', '.join(FORMS)}"]
        out["form"] = form
    elif form not in (None, "auto"):
        errors["form"] = ["only the dpo kind has a form"]
    if errors:
        raise ValidationError(errors)
    return out


def export_snapshot_create(
    *,
    project: Project,
    kind: str,
    format: str,
    options: Mapping[str, Any] | None = None,
    user=None,
) -> ExportSnapshot:
    """Create a pending snapshot of the project as it is now (see the module's pinning).

    The dpo ``form`` ``auto`` is resolved here: conversational when a judged comparison's
    prompt was imported as a conversation, else standard.

    Raises
    ------
    django.core.exceptions.ValidationError
        Invalid kind, format or options (by field), or ``form=standard`` while some
        judged prompt has several turns.
    """
    return _create(project=project, kind=kind, format=format, options=options, user=user)[0]


def _create(*, project, kind, format, options, user) -> tuple[ExportSnapshot, int]:
    checked = export_options_check(kind=kind, format=format, options=options)
    judgments = Judgment.objects.filter(comparison__project=project).aggregate(
        top=Max("id"), n=Count("id")
    )
    comparisons = Comparison.objects.filter(project=project).aggregate(top=Max("id"), n=Count("id"))
    max_judgment, max_comparison = judgments["top"] or 0, comparisons["top"] or 0
    registry = active_registry()
    extractors = [[e.name, e.version, list(e.columns)] for e in registry]
    keys = _feature_keys(extractors)
    criteria = [
        [key, kind_]
        for key, kind_ in project.rubric.criteria.order_by("position", "id").values_list(
            "key", "kind"
        )
    ]
    style = [f for f in settings.TIEBREAK_STYLE_HEAVY_FEATURES if f in keys]
    if kind == ExportKind.DPO:
        checked["form"] = _resolve_form(project, checked["form"], max_comparison, max_judgment)
    snapshot = ExportSnapshot.objects.create(
        project=project,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        kind=kind,
        format=format,
        options=checked,
        max_judgment_id=max_judgment,
        max_comparison_id=max_comparison,
        extractors=extractors,
        criteria=criteria,
        style_features=style,
        total=comparisons["n"],
    )
    return snapshot, judgments["n"]


def _resolve_form(project: Project, form: str, max_comparison: int, max_judgment: int) -> str:
    conversations = Prompt.objects.filter(
        is_conversation=True,
        comparisons__project=project,
        comparisons__id__lte=max_comparison,
        comparisons__judgments__id__lte=max_judgment,
    )
    if form == "auto":
        return "conversational" if conversations.exists() else "standard"
    if form == "standard":
        messages = conversations.distinct().values_list("messages", flat=True)
        for turns in messages.iterator(chunk_size=2_000):
            if len(turns) != 1 or turns[0].get("role") != "user":
                raise ValidationError(
                    {
                        "form": [
                            "some judged prompts are conversations of several turns, which "
                            "the standard form (plain strings) would lose; use "
                            "conversational or auto"
                        ]
                    }
                )
    return form


def _feature_keys(extractors: list[list[Any]]) -> list[str]:
    """Feature keys as ``analysis.features.Extractor.keys`` names them: ``name`` for a
    single-column extractor (whatever its column is called), else ``name.column``."""
    return [
        name if len(cols) == 1 else f"{name}.{column}"
        for name, _, cols in extractors
        for column in cols
    ]


def _needs_features(snapshot: ExportSnapshot) -> bool:
    return snapshot.kind in (ExportKind.JUDGMENTS, ExportKind.PREFERENCES) or bool(
        snapshot.options.get("exclude_style_decided")
    )


# --- writing ----------------------------------------------------------------------------------


def export_snapshot_write(
    *,
    snapshot: ExportSnapshot,
    path: str | Path,
    progress: Callable[[int], None] | None = None,
) -> ExportWritten:
    """Write ``snapshot``'s rows to ``path``; nothing else is changed.

    The file appears only when complete: the rows go to a temporary file beside ``path``
    that replaces it at the end, and is removed on any error. ``progress`` is called after
    each batch with the number of comparisons gone through.

    Raises
    ------
    ExportError
        Style features are missing for a judged response (kinds and options that need
        them), or the data cannot take the asked form.
    """
    path = Path(path)
    schema, columns = _plan(snapshot, progress)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with partial.open("wb") as file:
            sink = HashingSink(file)
            writer = BackgroundWriter(
                open_writer(snapshot.format, sink, schema, long_text=LONG_TEXT)
            )
            try:
                for batch in columns:
                    writer.write(batch)
                writer.close()
            except BaseException:
                writer.abort()
                raise
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except ExportDataError as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(str(exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    logger.info(
        "export %s of %s: %d rows, %d bytes",
        snapshot.pk,
        snapshot.project.slug,
        writer.rows,
        sink.size,
    )
    return ExportWritten(row_count=writer.rows, sha256=sink.sha256, size=sink.size)


def _plan(
    snapshot: ExportSnapshot, progress: Callable[[int], None] | None
) -> tuple[pa.Schema, Iterator[dict[str, list[Any]]]]:
    """The export's schema, and its columns batch by batch (lazily: reading happens as
    the writer asks for the next batch)."""
    kind, options = snapshot.kind, snapshot.options
    criteria = [(key, kind_) for key, kind_ in snapshot.criteria]
    features = _feature_keys(snapshot.extractors) if _needs_features(snapshot) else []
    style = [features.index(f) for f in snapshot.style_features if f in features]
    conversational = options.get("form") == "conversational"
    if kind == ExportKind.JUDGMENTS:
        schema = judgments_schema(criteria=criteria, features=features)
    elif kind == ExportKind.PREFERENCES:
        schema = preferences_schema()
    else:
        schema = dpo_schema(conversational=conversational)

    def columns() -> Iterator[dict[str, list[Any]]]:
        done = 0
        for n_seen, batch, refs in _batches(snapshot, criteria, features):
            if batch is not None:
                prefs = _subset(batch, style).tally()
                keep = comparison_filter(
                    prefs,
                    min_agreement=options.get("min_agreement"),
                    drop_ties=options.get("drop_ties", False),
                    exclude_style_decided=options.get("exclude_style_decided", False),
                )
                _load_texts(snapshot.project_id, batch, refs, keep)
                if kind == ExportKind.JUDGMENTS:
                    yield judgment_columns(batch, keep, features=features)
                elif kind == ExportKind.PREFERENCES:
                    yield preference_columns(batch, prefs, keep)
                else:
                    yield dpo_columns(batch, prefs, keep, conversational=conversational)
            done += n_seen
            if progress is not None:
                progress(done)

    return schema, columns()


def _subset(batch: Batch, style: list[int]) -> Batch:
    """The batch with only the style-heavier vote's features (for the tally)."""
    if batch.features_a is None:
        return batch
    return replace(
        batch, features_a=batch.features_a[:, style], features_b=batch.features_b[:, style]
    )


# --- reading ----------------------------------------------------------------------------------


def _batches(
    snapshot: ExportSnapshot, criteria: list[tuple[str, str]], features: list[str]
) -> Iterator[tuple[int, Batch | None, list[tuple]]]:
    """(comparisons gone through, the batch of those with judgments or None, and their
    ``(id, external_id, response_a_id, response_b_id)``), in id order."""
    project = snapshot.project
    secret = (settings.TIEBREAK_PSEUDONYM_KEY or "").encode() or salted_hmac(
        "tiebreak.exports.pseudonym", "key", algorithm="sha256"
    ).digest()
    names: dict[str, str] = {}
    username = f"annotator__{get_user_model().USERNAME_FIELD}"
    # Criterion id -> key for every rubric version's criteria with a pinned key (few rows).
    keys_of = dict(
        Criterion.objects.filter(key__in=[key for key, _ in criteria]).values_list("id", "key")
    )
    last = 0
    while True:
        if settings.DEBUG:
            # The debug query log would keep every batch's SQL (with its id arrays): memory
            # growing with the export, which is what batches are there to avoid.
            reset_queries()
        chunk = list(
            Comparison.objects.filter(
                project=project, id__gt=last, id__lte=snapshot.max_comparison_id
            )
            .order_by("id")
            .values_list("id", "external_id", "response_a_id", "response_b_id")[:BATCH_COMPARISONS]
        )
        if not chunk:
            return
        last = chunk[-1][0]
        # Ranges, not IN lists: building and sending thousands of parameters per query
        # cost more than the queries themselves.
        first = chunk[0][0]
        judgments = _fetch(
            Judgment.objects.filter(
                comparison__project=project,
                comparison_id__gte=first,
                comparison_id__lte=last,
                id__lte=snapshot.max_judgment_id,
            )
            .order_by("comparison_id", "id")
            .values_list(
                "comparison_id",
                "id",
                username,
                "external_annotator",
                "choice",
                "strength",
                "shown_left",
                "seconds",
                "rationale",
                "created_at",
                "source",
            )
        )
        if not judgments:
            yield len(chunk), None, []
            continue
        judged = sorted({row[0] for row in judgments})
        position = {cid: i for i, cid in enumerate(judged)}
        info = {row[0]: row for row in chunk}
        comparisons = [info[cid] for cid in judged]
        owner = np.fromiter((position[row[0]] for row in judgments), np.int64, len(judgments))
        annotators = []
        for row in judgments:
            name = row[2] if row[2] is not None else row[3]
            alias = names.get(name)
            if alias is None:
                alias = names[name] = pseudonym(key=secret, project_id=project.pk, name=name)
            annotators.append(alias)
        criterion_columns, rubric = _answers(snapshot, judged, judgments, criteria, keys_of)
        batch = Batch(
            comparison_id=[row[1] or str(row[0]) for row in comparisons],
            prompt_id=[None] * len(comparisons),
            prompt=[None] * len(comparisons),
            prompt_is_conversation=[None] * len(comparisons),
            response_a=[None] * len(comparisons),
            response_b=[None] * len(comparisons),
            model_a=[None] * len(comparisons),
            model_b=[None] * len(comparisons),
            owner=owner,
            annotator=annotators,
            choice=[row[4] for row in judgments],
            strength=[row[5] for row in judgments],
            shown_left=[row[6] or None for row in judgments],
            seconds=[row[7] for row in judgments],
            rationale=[row[8] for row in judgments],
            created_at=[_iso(row[9]) for row in judgments],
            source=[row[10] for row in judgments],
            criteria=criterion_columns,
            rubric=rubric,
        )
        if features:
            # Response a and b of each comparison, interleaved.
            responses = np.array(
                [rid for row in comparisons for rid in (row[2], row[3])], dtype=np.int64
            )
            matrix = _features(snapshot, responses, comparisons)
            batch.features_a, batch.features_b = matrix[0::2], matrix[1::2]
        yield len(chunk), batch, comparisons


def _answers(
    snapshot: ExportSnapshot,
    judged: list[int],
    judgments: list[tuple],
    criteria: list[tuple[str, str]],
    keys_of: dict[int, str],
) -> tuple[dict[str, list[Any]], np.ndarray]:
    """The judgments' criterion columns and signed rubric matrix (see ``Batch``)."""
    row_of = {row[1]: i for i, row in enumerate(judgments)}
    n = len(judgments)
    column_of = {key: k for k, (key, _) in enumerate(criteria)}
    rubric = np.full((n, len(criteria)), np.nan)
    columns: dict[str, list[Any]] = {}
    for key, kind in criteria:
        if kind == "rating":
            columns[f"{CRITERION_PREFIX}{key}.a"] = [None] * n
            columns[f"{CRITERION_PREFIX}{key}.b"] = [None] * n
        else:
            columns[f"{CRITERION_PREFIX}{key}"] = [None] * n
    if not criteria:
        return columns, rubric
    answers = CriterionAnswer.objects.filter(
        judgment__comparison__project=snapshot.project_id,
        judgment__comparison_id__gte=judged[0],
        judgment__comparison_id__lte=judged[-1],
        judgment_id__lte=snapshot.max_judgment_id,
    ).values_list("judgment_id", "criterion_id", "choice", "score_a", "score_b")
    for judgment_id, criterion_id, choice, score_a, score_b in _fetch(answers):
        key = keys_of.get(criterion_id)
        i = row_of.get(judgment_id)
        if key is None or i is None:
            continue  # a criterion the pinned rubric does not have
        k = column_of[key]
        rating = criteria[k][1] == "rating"
        if choice:
            rubric[i, k] = _SIGN[choice]
            if not rating:
                columns[f"{CRITERION_PREFIX}{key}"][i] = choice
        elif score_a is not None and score_b is not None:
            rubric[i, k] = score_a - score_b
            if rating:
                columns[f"{CRITERION_PREFIX}{key}.a"][i] = score_a
                columns[f"{CRITERION_PREFIX}{key}.b"][i] = score_b
    return columns, rubric


def _features(snapshot: ExportSnapshot, response_ids: np.ndarray, comparisons: list) -> np.ndarray:
    """``(responses, features)`` stored values under the pinned extractor versions.

    Raises ``ExportError`` when a response lacks a pinned extractor's row (not extracted
    yet); a stored null is a missing value, not missing work.
    """
    extractors = snapshot.extractors
    if not extractors:
        return np.empty((response_ids.size, 0))
    ids = response_ids.tolist()
    if connection.vendor == "postgresql":
        found, present, matrix = _features_postgresql(extractors, ids)
    else:
        found, present, matrix = _features_portable(extractors, ids)
    position = {rid: i for i, rid in enumerate(found)}
    rows = np.array([position.get(rid, -1) for rid in ids], dtype=np.int64)
    complete = rows >= 0
    complete[complete] = present[rows[complete]] == len(extractors)
    if not np.all(complete):
        first = int(np.flatnonzero(~complete)[0])
        project = snapshot.project
        comparison = comparisons[first // 2]
        raise ExportError(
            f"style features are missing for judged responses of project {project.slug!r} "
            "under the extractor versions this export uses ("
            + ", ".join(f"{name} v{version}" for name, version, _ in extractors)
            + f"): {int((~complete).sum())} of the {len(ids)} responses of a batch of "
            f"comparisons, the first response {ids[first]} of comparison "
            f"{comparison[1] or comparison[0]!r}. Feature extraction has not finished (see "
            f"/api/projects/{project.slug}/features/progress/) or was never started (run "
            f"`python manage.py extract_features {project.slug}`). Export again once it is "
            "done; nothing was written."
        )
    return matrix[rows]


def _features_postgresql(
    extractors: list[list[Any]], ids: list[int]
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(response ids found, pinned extractors present per response, values), pivoted by
    PostgreSQL: decoding each row's JSON in Python would take several times longer."""
    columns, params = [], []
    for name, version, cols in extractors:
        for column in cols:
            columns.append(
                'max(("values" ->> %s)::float8) FILTER (WHERE extractor = %s AND version = %s)'
            )
            params += [column, name, version]
    current = " OR ".join(["(extractor = %s AND version = %s)"] * len(extractors))
    params += [ids, *(x for name, version, _ in extractors for x in (name, version))]
    sql = f"""
        SELECT response_id, count(*), {", ".join(columns)}
        FROM {FeatureValue._meta.db_table}
        WHERE response_id = ANY(%s) AND ({current})
        GROUP BY response_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return [], np.zeros(0, np.int64), np.empty((0, len(columns)))
    data = np.array(rows, dtype=np.float64)  # None (a null value) becomes NaN
    return data[:, 0].astype(np.int64).tolist(), data[:, 1].astype(np.int64), data[:, 2:]


def _features_portable(
    extractors: list[list[Any]], ids: list[int]
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The same as :func:`_features_postgresql`, decoding each stored row in Python."""
    offsets, start = {}, 0
    for name, version, cols in extractors:
        offsets[(name, version)] = (start, cols)
        start += len(cols)
    current = Q(pk__in=[])
    for name, version, _ in extractors:
        current |= Q(extractor=name, version=version)
    found: dict[int, list[Any]] = {}
    rows = FeatureValue.objects.filter(current, response_id__in=ids).values_list(
        "response_id", "extractor", "version", "values"
    )
    for response_id, name, version, values in rows.iterator(chunk_size=10_000):
        entry = found.get(response_id)
        if entry is None:
            entry = found[response_id] = [0, np.full(start, np.nan)]
        entry[0] += 1
        first, cols = offsets[(name, version)]
        for j, column in enumerate(cols):
            value = values.get(column)
            if value is not None:
                entry[1][first + j] = value
    if not found:
        return [], np.zeros(0, np.int64), np.empty((0, start))
    order = sorted(found)
    present = np.array([found[r][0] for r in order], dtype=np.int64)
    return order, present, np.vstack([found[r][1] for r in order])


def _load_texts(project_id: int, batch: Batch, refs: list[tuple], keep: np.ndarray) -> None:
    """Fill in the prompts, texts and models of the kept comparisons (others stay None).

    One query over the kept comparisons' id range; a prompt's messages are decoded once
    per batch (prompts are shared by several comparisons).
    """
    index = np.flatnonzero(keep).tolist()
    if not index:
        return
    wanted = {refs[i][0]: i for i in index}
    rows = Comparison.objects.filter(
        project_id=project_id, id__gte=refs[index[0]][0], id__lte=refs[index[-1]][0]
    ).values_list(
        "id",
        "prompt_id",
        "prompt__content_hash",
        Cast("prompt__messages", TextField()),
        "prompt__is_conversation",
        "response_a__text",
        "response_a__model",
        "response_b__text",
        "response_b__model",
    )
    prompts: dict[int, list[dict[str, str]]] = {}
    for cid, prompt_id, content_hash, raw, conversation, a, model_a, b, model_b in _fetch(rows):
        i = wanted.get(cid)
        if i is None:
            continue  # in the range but filtered out
        messages = prompts.get(prompt_id)
        if messages is None:
            messages = prompts[prompt_id] = [
                {"role": m["role"], "content": m["content"]} for m in orjson.loads(raw)
            ]
        batch.prompt_id[i] = content_hash
        batch.prompt[i] = messages
        batch.prompt_is_conversation[i] = bool(conversation)  # SQLite gives 0 / 1
        batch.response_a[i], batch.response_b[i] = a, b
        batch.model_a[i], batch.model_b[i] = model_a or None, model_b or None


def _fetch(queryset: QuerySet) -> list[tuple]:
    """The rows of a ``values_list`` queryset, fetched at once by a plain cursor.

    Several times faster than iterating the queryset (Django fetches 100 rows per round
    trip and converts each value); the callers handle the raw values: datetimes arrive as
    text on SQLite (:func:`_iso`), booleans as 0 / 1, JSON as text.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _iso(value: datetime | str) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2026-11-02T10:00:00Z`` (microseconds when set)."""
    if isinstance(value, str):  # SQLite without a converter: "2026-11-02 10:00:00[.ffffff]"
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite stores UTC (USE_TZ) without an offset
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- lifecycle --------------------------------------------------------------------------------


def export_snapshot_execute(
    *,
    snapshot_id: int,
    path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportSnapshot:
    """Write snapshot ``snapshot_id`` and record the outcome on it; return it refreshed.

    Without ``path`` the file is stored under ``MEDIA_ROOT/exports/`` as the snapshot's
    ``file`` (replacing an earlier one: executing again rewrites the same file); with
    ``path`` it is written there (the command line). Never raises for a failed export:
    the snapshot ends ``failed`` with the reason in ``error``. Database connection errors
    propagate, so the task can retry. ``progress`` is called with the comparisons gone
    through after each batch, as is the snapshot's ``done``.
    """
    snapshot = ExportSnapshot.objects.select_related("project").get(pk=snapshot_id)
    ExportSnapshot.objects.filter(pk=snapshot.pk).update(
        status=JobStatus.RUNNING, done=0, error="", updated_at=timezone.now()
    )

    def report(done: int) -> None:
        ExportSnapshot.objects.filter(pk=snapshot.pk).update(done=done, updated_at=timezone.now())
        if progress is not None:
            progress(done)

    workdir = None
    try:
        if path is None:
            workdir = Path(tempfile.mkdtemp(prefix="tiebreak-export-"))
            target = workdir / export_filename(snapshot)
        else:
            target = Path(path)
        written = export_snapshot_write(snapshot=snapshot, path=target, progress=report)
        if path is None:
            if snapshot.file:
                snapshot.file.delete(save=False)
            with target.open("rb") as file:
                # Moved into the storage rather than copied, when it is on the same disk.
                snapshot.file.save(export_filename(snapshot), _WrittenFile(file), save=False)
            ExportSnapshot.objects.filter(pk=snapshot.pk).update(file=snapshot.file.name)
    except (OperationalError, InterfaceError):
        raise
    except (ExportError, ValidationError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        _finish(snapshot, status=JobStatus.FAILED, error=message)
    except Exception as exc:  # a bug in one export is recorded on it, not lost
        logger.exception("export %s of %s failed", snapshot.pk, snapshot.project.slug)
        _finish(
            snapshot,
            status=JobStatus.FAILED,
            error=f"internal error ({type(exc).__name__}: {exc}); see the server log",
        )
    else:
        _finish(snapshot, status=JobStatus.SUCCEEDED, written=written)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    snapshot.refresh_from_db()
    return snapshot


def export_snapshot_enqueue(
    *,
    project: Project,
    kind: str,
    format: str,
    options: Mapping[str, Any] | None = None,
    user=None,
) -> ExportSnapshot:
    """Create a snapshot and write it: in this process when it covers at most
    ``TIEBREAK_EXPORT_INLINE_MAX_ROWS`` judgments, else in the ``run_export`` task after
    commit (with eager Celery, before this returns). Returns the snapshot, refreshed.

    Raises ``ValidationError`` as :func:`export_snapshot_create` does.
    """
    from analysis.tasks import run_export  # imported here: tasks imports this module

    with transaction.atomic():
        snapshot, n_judgments = _create(
            project=project, kind=kind, format=format, options=options, user=user
        )
        queue = n_judgments > settings.TIEBREAK_EXPORT_INLINE_MAX_ROWS
        if queue:
            transaction.on_commit(lambda: run_export.delay(snapshot.pk), robust=True)
    if not queue:
        return export_snapshot_execute(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    return snapshot


def export_snapshot_fail(*, snapshot_id: int, error: str) -> None:
    """Record that an export stopped for good (the task failed), unless it finished."""
    now = timezone.now()
    stopped = (
        ExportSnapshot.objects.filter(pk=snapshot_id)
        .exclude(status__in=(JobStatus.SUCCEEDED, JobStatus.FAILED))
        .update(
            status=JobStatus.FAILED,
            error=f"the export stopped: {error}"[:10_000],
            finished_at=now,
            updated_at=now,
        )
    )
    if stopped:
        logger.error("export %s failed: %s", snapshot_id, error)


class _WrittenFile(File):
    """A finished export file: ``FileSystemStorage`` moves it in (``temporary_file_path``)."""

    def temporary_file_path(self) -> str:
        return self.file.name


def export_filename(snapshot: ExportSnapshot) -> str:
    """The file name an export is stored and downloaded under."""
    return f"{snapshot.project.slug}-{snapshot.kind}-{snapshot.pk}.{snapshot.format}"


def _finish(
    snapshot: ExportSnapshot,
    *,
    status: str,
    written: ExportWritten | None = None,
    error: str = "",
) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": status,
        "error": error[:10_000],
        "finished_at": now,
        "updated_at": now,
    }
    if written is not None:
        fields.update(
            row_count=written.row_count,
            sha256=written.sha256,
            size=written.size,
            done=snapshot.total,
        )
    ExportSnapshot.objects.filter(pk=snapshot.pk).update(**fields)
