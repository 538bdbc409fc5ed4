"""Tests for the position-bias share."""

from __future__ import annotations

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis.stats.position import position_bias


def test_share_left_wins_by_hand():
    frame = pd.DataFrame(
        {
            "outcome": ["a", "b", "a", "tie", "b", "a"],
            "left": ["a", "a", "b", "a", "b", None],
        }
    )
    # Usable: rows 0, 1, 2, 4 (tie and unknown side excluded); left won in rows 0 and 4.
    out = position_bias(frame)
    assert out["n"] == 4
    assert out["share_left_wins"] == pytest.approx(0.5)
    low, high = proportion_confint(2, 4, method="wilson")
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((low, high))
