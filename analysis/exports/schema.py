"""The columns of each export kind, as Arrow schemas (shared by all three file formats)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from analysis.stats.frame import A_PREFIX, B_PREFIX

__all__ = [
    "A_PREFIX",
    "B_PREFIX",
    "CRITERION_PREFIX",
    "LONG_TEXT",
    "MESSAGES",
    "criterion_columns",
    "dpo_schema",
    "judgments_schema",
    "preferences_schema",
]

#: A prompt or a completion in TRL's conversational form: ``[{"role", "content"}, ...]``.
MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
CRITERION_PREFIX = "criterion."
#: Columns of long, mostly unique text: Parquet stores them without a dictionary.
LONG_TEXT = frozenset({"prompt", "response_a", "response_b", "rationale", "chosen", "rejected"})

_COMPARISON = [
    ("comparison_id", pa.string()),
    ("prompt_id", pa.string()),
    ("prompt", MESSAGES),
    ("prompt_is_conversation", pa.bool_()),
    ("response_a", pa.string()),
    ("response_b", pa.string()),
    ("model_a", pa.string()),
    ("model_b", pa.string()),
]


def criterion_columns(criteria: Sequence[tuple[str, str]]) -> list[tuple[str, pa.DataType]]:
    """``criterion.<key>`` (a / b / tie) per compare criterion, ``criterion.<key>.a`` and
    ``criterion.<key>.b`` (scores) per rating criterion, in rubric order."""
    columns: list[tuple[str, pa.DataType]] = []
    for key, kind in criteria:
        if kind == "rating":
            columns += [
                (f"{CRITERION_PREFIX}{key}.a", pa.int64()),
                (f"{CRITERION_PREFIX}{key}.b", pa.int64()),
            ]
        else:
            columns.append((f"{CRITERION_PREFIX}{key}", pa.string()))
    return columns


def judgments_schema(*, criteria: Sequence[tuple[str, str]], features: Sequence[str]) -> pa.Schema:
    """One row per judgment: the comparison, the judgment, its criteria, both feature sets."""
    return pa.schema(
        [
            *_COMPARISON,
            ("annotator", pa.string()),
            ("choice", pa.string()),
            ("strength", pa.int64()),
            *criterion_columns(criteria),
            ("shown_left", pa.string()),
            ("seconds", pa.float64()),
            ("rationale", pa.string()),
            ("created_at", pa.string()),
            ("source", pa.string()),
            *[(A_PREFIX + f, pa.float64()) for f in features],
            *[(B_PREFIX + f, pa.float64()) for f in features],
        ]
    )


def preferences_schema() -> pa.Schema:
    """One row per judged comparison: its votes and what they add up to."""
    return pa.schema(
        [
            *_COMPARISON,
            ("n_votes", pa.int64()),
            ("votes_a", pa.int64()),
            ("votes_b", pa.int64()),
            ("votes_tie", pa.int64()),
            ("majority", pa.string()),
            ("agreement", pa.float64()),
            ("mean_strength", pa.float64()),
            ("rubric_tied", pa.bool_()),
            ("style_heavier", pa.string()),
            ("style_decided", pa.bool_()),
        ]
    )


def dpo_schema(*, conversational: bool) -> pa.Schema:
    """TRL's preference type: ``prompt``, ``chosen``, ``rejected``; strings in the standard
    form, message lists in the conversational form."""
    kind = MESSAGES if conversational else pa.string()
    return pa.schema([("prompt", kind), ("chosen", kind), ("rejected", kind)])
