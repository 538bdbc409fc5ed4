"""One batch of comparisons with their judgments, and the columns each export kind makes of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.exports.preferences import Preferences, dpo_winner, preferences
from analysis.exports.schema import A_PREFIX, B_PREFIX
from analysis.stats.frame import RUBRIC_PREFIX
from analysis.stats.tiebreak import rubric_state

__all__ = ["Batch", "ExportDataError", "dpo_columns", "judgment_columns", "preference_columns"]


class ExportDataError(ValueError):
    """The data cannot be exported as asked (e.g. a multi-turn prompt in the standard form)."""


@dataclass
class Batch:
    """Comparisons (in id order) and their judgments (by comparison, then id), column-wise.

    Per-comparison lists have one entry per comparison; per-judgment ones one per
    judgment, ``owner`` giving each judgment's comparison index. Missing values are
    ``None`` (NaN in the float matrices). The prompt, response and model lists may hold
    ``None`` for comparisons that are not written (a loader reads texts only for the
    comparisons an export keeps).
    """

    comparison_id: list[str]
    prompt_id: list[str]
    prompt: list[list[dict[str, str]]]
    prompt_is_conversation: list[bool]
    response_a: list[str]
    response_b: list[str]
    model_a: list[str | None]
    model_b: list[str | None]
    owner: np.ndarray
    annotator: list[str]
    choice: list[str]
    strength: list[int | None]
    shown_left: list[str | None]
    seconds: list[float | None]
    rationale: list[str]
    created_at: list[str]
    source: list[str]
    #: The criterion columns of the judgments kind, per judgment: ``criterion.<key>``
    #: ("a", "b", "tie" or None) and ``criterion.<key>.a`` / ``.b`` (scores or None).
    criteria: dict[str, list[Any]]
    #: ``(judgments, criteria)`` signed rubric answers (a minus b; compare answers as
    #: +1 / 0 / -1), NaN where not answered: the input of ``rubric_state``.
    rubric: np.ndarray
    #: ``(comparisons, features)`` style features of response a and b (None: not loaded).
    features_a: np.ndarray | None = None
    features_b: np.ndarray | None = None

    @property
    def n_comparisons(self) -> int:
        return len(self.comparison_id)

    def tally(self) -> Preferences:
        """The comparisons' votes (see :func:`analysis.exports.preferences.preferences`).

        ``style_heavier`` votes over every column of ``features_a`` / ``features_b``: call
        it on a batch that holds only the style-heavy features.
        """
        keys = [f"{RUBRIC_PREFIX}{k}" for k in range(self.rubric.shape[1])]
        state = rubric_state(pd.DataFrame(self.rubric, columns=keys)).to_numpy(dtype=object)
        strength = np.array(
            [np.nan if s is None else float(s) for s in self.strength], dtype=np.float64
        )
        return preferences(
            owner=self.owner,
            n_comparisons=self.n_comparisons,
            choice=np.array(self.choice, dtype=object),
            strength=strength,
            rubric_state=state,
            features_a=self.features_a,
            features_b=self.features_b,
        )


def _pick(values: Sequence[Any], index: np.ndarray) -> list[Any]:
    return [values[i] for i in index.tolist()]


def _floats(values: np.ndarray) -> list[float | None]:
    """A float column as a list with ``None`` for NaN (every format writes it as missing)."""
    return [None if v != v else v for v in values.tolist()]


def _comparison_columns(batch: Batch, index: np.ndarray) -> dict[str, list[Any]]:
    return {
        "comparison_id": _pick(batch.comparison_id, index),
        "prompt_id": _pick(batch.prompt_id, index),
        "prompt": _pick(batch.prompt, index),
        "prompt_is_conversation": _pick(batch.prompt_is_conversation, index),
        "response_a": _pick(batch.response_a, index),
        "response_b": _pick(batch.response_b, index),
        "model_a": _pick(batch.model_a, index),
        "model_b": _pick(batch.model_b, index),
    }


def judgment_columns(
    batch: Batch,
    keep: np.ndarray,
    *,
    features: Sequence[str],
) -> dict[str, list[Any]]:
    """The ``judgments`` rows of the kept comparisons (``keep``: bool per comparison)."""
    rows = np.flatnonzero(keep[batch.owner]) if len(batch.owner) else np.zeros(0, np.int64)
    owner = batch.owner[rows]
    columns = _comparison_columns(batch, owner)
    columns.update(
        annotator=_pick(batch.annotator, rows),
        choice=_pick(batch.choice, rows),
        strength=_pick(batch.strength, rows),
    )
    for name, values in batch.criteria.items():
        columns[name] = _pick(values, rows)
    columns.update(
        shown_left=_pick(batch.shown_left, rows),
        seconds=_pick(batch.seconds, rows),
        rationale=_pick(batch.rationale, rows),
        created_at=_pick(batch.created_at, rows),
        source=_pick(batch.source, rows),
    )
    if features:
        if batch.features_a is None or batch.features_b is None:
            raise ValueError("the judgments kind needs the batch's features")
        a, b = batch.features_a[owner], batch.features_b[owner]
        for j, name in enumerate(features):
            columns[A_PREFIX + name] = _floats(a[:, j])
        for j, name in enumerate(features):
            columns[B_PREFIX + name] = _floats(b[:, j])
    return columns


def preference_columns(batch: Batch, prefs: Preferences, keep: np.ndarray) -> dict[str, list[Any]]:
    """The ``preferences`` rows of the kept comparisons."""
    index = np.flatnonzero(keep)
    columns = _comparison_columns(batch, index)
    columns.update(
        n_votes=prefs.n_votes[index].tolist(),
        votes_a=prefs.votes_a[index].tolist(),
        votes_b=prefs.votes_b[index].tolist(),
        votes_tie=prefs.votes_tie[index].tolist(),
        majority=prefs.majority[index].tolist(),
        agreement=_floats(prefs.agreement[index]),
        mean_strength=_floats(prefs.mean_strength[index]),
        rubric_tied=prefs.rubric_tied[index].tolist(),
        style_heavier=prefs.style_heavier[index].tolist(),
        style_decided=prefs.style_decided[index].tolist(),
    )
    return columns


def dpo_columns(
    batch: Batch, prefs: Preferences, keep: np.ndarray, *, conversational: bool
) -> dict[str, list[Any]]:
    """TRL preference rows (``prompt``, ``chosen``, ``rejected``) of the kept comparisons
    that have a winner (see :func:`analysis.exports.preferences.dpo_winner`).

    Raises
    ------
    ExportDataError
        In the standard form, for a prompt that is not a single user message: a string
        cannot hold its turns.
    """
    winner = dpo_winner(prefs)
    index = np.flatnonzero(keep & (winner != None))  # noqa: E711 -- elementwise
    prompts, chosen, rejected = [], [], []
    for i in index.tolist():
        a, b = batch.response_a[i], batch.response_b[i]
        win, lose = (a, b) if winner[i] == "a" else (b, a)
        messages = batch.prompt[i]
        if conversational:
            prompts.append(messages)
            chosen.append([{"role": "assistant", "content": win}])
            rejected.append([{"role": "assistant", "content": lose}])
        else:
            if len(messages) != 1 or messages[0]["role"] != "user":
                raise ExportDataError(
                    f"comparison {batch.comparison_id[i]!r} has a conversation as its prompt "
                    f"({len(messages)} messages); the standard form (plain strings) would lose "
                    "turns: export the conversational form (form=conversational or auto)"
                )
            prompts.append(messages[0]["content"])
            chosen.append(win)
            rejected.append(lose)
    return {"prompt": prompts, "chosen": chosen, "rejected": rejected}
