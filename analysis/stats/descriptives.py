"""Descriptive statistics: feature means of winners and losers, and the length effect."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.stats.frame import A_PREFIX, B_PREFIX, OUTCOME, feature_names
from analysis.stats.intervals import proportion_summary

__all__ = ["describe", "length_feature", "longer_wins", "winner_loser_means"]


def _winner_loser(frame: pd.DataFrame, feature: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the raw feature values of winner and loser over non-tie judgments."""
    outcome = frame[OUTCOME].to_numpy(dtype=object)
    a = frame[A_PREFIX + feature].to_numpy(dtype=np.float64, na_value=np.nan)
    b = frame[B_PREFIX + feature].to_numpy(dtype=np.float64, na_value=np.nan)
    a_won, b_won = outcome == "a", outcome == "b"
    decided = a_won | b_won
    winner = np.where(a_won, a, b)[decided]
    loser = np.where(a_won, b, a)[decided]
    return winner, loser


def winner_loser_means(
    frame: pd.DataFrame, features: Iterable[str] | None = None
) -> dict[str, dict[str, float | int]]:
    """Return, per feature, the mean raw value of the winning and the losing response.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame.
    features : iterable of str, optional
        Feature names; default all.

    Returns
    -------
    dict
        ``{feature: {"mean_winner", "mean_loser", "n"}}`` where ``n`` counts non-tie
        judgments with both values present (means are NaN when ``n`` is 0).

    Notes
    -----
    :math:`\\bar w_f = \\frac{1}{n}\\sum_i f(\\mathrm{winner}_i)` and
    :math:`\\bar l_f = \\frac{1}{n}\\sum_i f(\\mathrm{loser}_i)` over the non-tie
    judgments; a judgment counts once per annotator, so a comparison judged by three
    annotators contributes three times. Not adjusted for the rubric.
    """
    out: dict[str, dict[str, float | int]] = {}
    for feature in feature_names(frame) if features is None else features:
        winner, loser = _winner_loser(frame, feature)
        both = ~(np.isnan(winner) | np.isnan(loser))
        n = int(both.sum())
        out[feature] = {
            "mean_winner": float(winner[both].mean()) if n else math.nan,
            "mean_loser": float(loser[both].mean()) if n else math.nan,
            "n": n,
        }
    return out


def length_feature(frame: pd.DataFrame) -> str | None:
    """Return ``"length.chars"`` if present, else the first ``length.*`` feature, else None."""
    names = feature_names(frame)
    if "length.chars" in names:
        return "length.chars"
    return next((n for n in names if n.startswith("length.")), None)


def longer_wins(frame: pd.DataFrame, *, alpha: float = 0.05) -> dict[str, object] | None:
    """Return the share of non-tie judgments on unequal-length pairs won by the longer one.

    Returns
    -------
    dict or None
        ``{"feature", "share_longer_wins", "n", "ci_low", "ci_high"}`` (Wilson interval),
        or None when the frame has no ``length.*`` feature.

    Notes
    -----
    :math:`\\hat p = \\#\\{i: \\mathrm{len}(\\mathrm{winner}_i) > \\mathrm{len}
    (\\mathrm{loser}_i)\\} / \\#\\{i: \\mathrm{len}(\\mathrm{winner}_i) \\ne
    \\mathrm{len}(\\mathrm{loser}_i)\\}`, non-tie judgments only, rubric not held fixed.
    """
    feature = length_feature(frame)
    if feature is None:
        return None
    winner, loser = _winner_loser(frame, feature)
    unequal = ~(np.isnan(winner) | np.isnan(loser)) & (winner != loser)
    summary = proportion_summary(
        int(np.sum(winner[unequal] > loser[unequal])), int(unequal.sum()), alpha
    )
    return {
        "feature": feature,
        "share_longer_wins": summary["share"],
        "n": summary["n"],
        "ci_low": summary["ci_low"],
        "ci_high": summary["ci_high"],
    }


def describe(frame: pd.DataFrame, *, alpha: float = 0.05) -> dict[str, object]:
    """Return the descriptives section: per-feature winner/loser means plus ``"length"``.

    The result maps each feature name to :func:`winner_loser_means`' entry and the key
    ``"length"`` to :func:`longer_wins` (None without a length feature).
    """
    out: dict[str, object] = dict(winner_loser_means(frame))
    out["length"] = longer_wins(frame, alpha=alpha)
    return out
