"""Tests for winner/loser feature means and the longer-wins share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis.stats.descriptives import describe, length_feature, longer_wins


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": ["a", "b", "tie", "a", "b"],
            "a.emojis": [3.0, 1.0, 9.0, 0.0, np.nan],
            "b.emojis": [1.0, 2.0, 9.0, 4.0, 1.0],
            "a.length.words": [100.0, 50.0, 10.0, 70.0, 30.0],
            "b.length.words": [80.0, 90.0, 20.0, 70.0, 20.0],
            "a.length.chars": [500.0, 300.0, 10.0, 200.0, 100.0],
            "b.length.chars": [400.0, 400.0, 20.0, 300.0, 150.0],
        }
    )


def test_winner_and_loser_means_by_hand():
    out = describe(frame())
    # Non-tie rows with both values: 0 (winner a: 3 vs 1), 1 (b: 2 vs 1), 3 (a: 0 vs 4).
    assert out["emojis"]["n"] == 3
    assert out["emojis"]["mean_winner"] == pytest.approx((3 + 2 + 0) / 3)
    assert out["emojis"]["mean_loser"] == pytest.approx((1 + 1 + 4) / 3)
    assert out["length.words"]["n"] == 4


def test_longer_wins_uses_chars_and_skips_equal_lengths():
    assert length_feature(frame()) == "length.chars"
    out = longer_wins(frame())
    # Non-tie rows: winner chars vs loser chars: 500>400, 400>300, 200<300, 150>100.
    assert out["feature"] == "length.chars"
    assert out["n"] == 4
    assert out["share_longer_wins"] == pytest.approx(3 / 4)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx(
        proportion_confint(3, 4, method="wilson")
    )


def test_first_length_feature_when_no_chars():
    f = frame().drop(columns=["a.length.chars", "b.length.chars"])
    out = longer_wins(f)
    # words: 100>80 (a won), 90>50 (b won), 70=70 skipped, 30>20 but b won (20 vs 30).
    assert out["feature"] == "length.words"
    assert out["n"] == 3
    assert out["share_longer_wins"] == pytest.approx(2 / 3)


def test_no_length_feature():
    f = frame()[["outcome", "a.emojis", "b.emojis"]]
    assert describe(f)["length"] is None
