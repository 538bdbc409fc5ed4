"""Per-week figures of a judgment frame: volume, style effects, tie-break and override rates.

The weekly report analyses its own week in full (:func:`analysis.stats.analyze.analyze`)
and every earlier week with the cheap sections only (``main_model`` and ``tiebreak``);
:func:`week_summary` reduces either result to the figures the trend needs, so the same
numbers appear for the report's week and for the weeks before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from analysis.stats.analyze import analyze
from analysis.stats.frame import CREATED_AT, MODEL_A, MODEL_B

__all__ = [
    "TREND_SECTIONS",
    "empty_week",
    "models_known",
    "split_by_week",
    "trend_summaries",
    "week_summary",
]

#: Sections computed for each earlier week of the trend.
TREND_SECTIONS = ("main_model", "tiebreak")

_STYLE_KEYS = ("odds_ratio", "ci_low", "ci_high", "p_adjusted")
_TIEBREAK_KEYS = (
    "tied_n",
    "tied_share_higher_wins",
    "tied_ci_low",
    "tied_ci_high",
    "override_n",
    "override_rate",
    "override_ci_low",
    "override_ci_high",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
)


def split_by_week(
    frame: pd.DataFrame, windows: Sequence[tuple[str, datetime, datetime]]
) -> dict[str, pd.DataFrame]:
    """Return the rows of ``frame`` in each window, by label.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame; its ``created_at`` decides the week.
    windows : sequence of (label, start, end)
        Aware half-open windows ``[start, end)``, e.g. from
        :func:`analysis.weekly.weeks.week_bounds`. Rows outside every window, or without
        a timestamp, are left out.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per label (possibly empty), index reset.
    """
    created = pd.to_datetime(frame[CREATED_AT], utc=True)
    out = {}
    for label, start, end in windows:
        mask = (created >= pd.Timestamp(start)) & (created < pd.Timestamp(end))
        out[label] = frame.loc[mask.to_numpy()].reset_index(drop=True)
    return out


def models_known(frame: pd.DataFrame) -> bool:
    """True when the responses of ``frame`` name at least two different models."""
    if not len(frame):
        return False
    names = pd.concat([frame[MODEL_A], frame[MODEL_B]]).dropna()
    return names.nunique() >= 2


def empty_week(label: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The trend entry of a week without judgments."""
    return {
        "week": label,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "n_judgments": 0,
        "n_ties": 0,
        "n_annotators": 0,
        "style": {},
        "tiebreak": {},
        "warnings": [],
    }


def week_summary(
    label: str, start: datetime, end: datetime, result: Mapping[str, Any]
) -> dict[str, Any]:
    """Reduce an analysis result dict (``AnalysisResult.to_dict()``) to a trend entry.

    Returns
    -------
    dict
        ``week, start, end, n_judgments, n_ties, n_annotators``; ``style``:
        ``{feature: {odds_ratio, ci_low, ci_high, p_adjusted}}`` from the main model;
        ``tiebreak``: ``{feature: {tied_n, tied_share_higher_wins, tied_ci_low,
        tied_ci_high, override_n, override_rate, override_ci_low, override_ci_high,
        diff, diff_ci_low, diff_ci_high}}``; ``warnings``.
    """
    entry = empty_week(label, start, end)
    entry["n_judgments"] = int(result.get("n_judgments") or 0)
    entry["n_ties"] = int(result.get("n_ties") or 0)
    entry["n_annotators"] = int(result.get("n_annotators") or 0)
    entry["style"] = {
        e["feature"]: {k: e.get(k) for k in _STYLE_KEYS} for e in result.get("style_effects") or []
    }
    entry["tiebreak"] = {
        t["feature"]: {k: t.get(k) for k in _TIEBREAK_KEYS} for t in result.get("tiebreak") or []
    }
    entry["warnings"] = list(result.get("warnings") or [])
    return entry


def trend_summaries(
    weeks: Mapping[str, pd.DataFrame],
    windows: Sequence[tuple[str, datetime, datetime]],
    *,
    features: Iterable[str] | None,
    alpha: float = 0.05,
    known: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Trend entries for ``windows`` (oldest first), analysing each week's frame cheaply.

    Parameters
    ----------
    weeks : mapping of str to pandas.DataFrame
        Each week's frame (from :func:`split_by_week`).
    windows : sequence of (label, start, end)
        The weeks, oldest first.
    features : iterable of str, optional
        Style features of the models (default: all in the frames).
    alpha : float
        Interval coverage is ``1 - alpha``.
    known : mapping of str to dict, optional
        Result dicts already computed (the report's own week), used instead of analysing
        that week again.

    Returns
    -------
    list of dict
        One :func:`week_summary` entry per window; :func:`empty_week` for weeks without
        judgments.
    """
    feature_list = None if features is None else list(features)
    known = known or {}
    out = []
    for label, start, end in windows:
        frame = weeks.get(label)
        if label in known:
            out.append(week_summary(label, start, end, known[label]))
        elif frame is None or not len(frame):
            out.append(empty_week(label, start, end))
        else:
            result = analyze(
                frame, alpha=alpha, features=feature_list, sections=list(TREND_SECTIONS)
            ).to_dict()
            out.append(week_summary(label, start, end, result))
    return out
