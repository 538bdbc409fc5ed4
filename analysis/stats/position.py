"""Position bias: how often the response shown on the left wins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.stats.frame import LEFT, OUTCOME
from analysis.stats.intervals import proportion_summary

__all__ = ["position_bias"]


def position_bias(frame: pd.DataFrame, *, alpha: float = 0.05) -> dict[str, float | int]:
    """Return the share of non-tie judgments won by the response shown on the left.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame.
    alpha : float
        The interval has coverage ``1 - alpha``.

    Returns
    -------
    dict
        ``{"n", "share_left_wins", "ci_low", "ci_high"}``; ``n`` counts non-tie judgments
        with a known display side.

    Notes
    -----
    :math:`\\hat p = \\#\\{i : \\mathrm{outcome}_i = \\mathrm{left}_i\\} / n` with a Wilson
    interval (:func:`analysis.stats.intervals.wilson_interval`). Without position bias
    :math:`p = 0.5`. The main model's ``position`` coefficient is the rubric- and
    style-adjusted counterpart.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"outcome": ["a", "b", "a", "tie"], "left": ["a", "a", "b", "a"]})
    >>> position_bias(f)["share_left_wins"]
    0.3333333333333333
    """
    outcome = frame[OUTCOME].to_numpy(dtype=object)
    left = frame[LEFT].to_numpy(dtype=object)
    usable = np.isin(outcome, ["a", "b"]) & np.isin(left, ["a", "b"])
    wins = int(np.sum(outcome[usable] == left[usable]))
    summary = proportion_summary(wins, int(usable.sum()), alpha)
    return {
        "n": summary["n"],
        "share_left_wins": summary["share"],
        "ci_low": summary["ci_low"],
        "ci_high": summary["ci_high"],
    }
