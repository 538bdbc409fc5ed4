"""Tests for relative importance: cross-validated fit and flipped decisions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.stats.importance import relative_importance, share_flipped_by_style
from analysis.stats.main_model import fit_main_model
from analysis.stats.synthetic import simulate_frame


@pytest.fixture(scope="module")
def planted():
    return simulate_frame(6000, 60, seed=13)


def test_both_predicts_at_least_as_well_as_either(planted):
    frame, _ = planted
    out = relative_importance(frame)
    assert out["logloss_both"] <= out["logloss_rubric"]
    assert out["logloss_both"] <= out["logloss_style"]
    assert out["logloss_both"] < out["logloss_position"]
    for key in ("auc_rubric", "auc_style", "auc_both"):
        assert 0.5 < out[key] <= 1.0
    assert 0 < out["share_flipped_by_style"] < 0.5
    assert out["subsampled"] is False
    assert out["n_cv"] == int((frame.outcome != "tie").sum())


def test_share_flipped_by_hand(planted):
    frame, _ = planted
    main = fit_main_model(frame, marginal_effects=False)
    matrix, params = main.fit.matrix, np.asarray(main.fit.results.params)
    style = np.array([c.startswith("style:") for c in matrix.columns])
    eta = matrix.exog @ params
    without = matrix.exog[:, ~style] @ params[~style]
    assert share_flipped_by_style(main) == pytest.approx(np.mean((eta > 0) != (without > 0)))


def test_subsample_is_seeded_and_reported(planted):
    frame, _ = planted
    first = relative_importance(frame, max_rows=3000, seed=1)
    again = relative_importance(frame, max_rows=3000, seed=1)
    assert first["subsampled"] is True and first["n_cv"] == 3000
    assert first == again


def test_style_only_has_no_rubric_scores():
    frame, _ = simulate_frame(1500, 30, beta_rubric={}, seed=3)
    out = relative_importance(frame)
    assert math.isnan(out["logloss_rubric"]) and math.isnan(out["auc_rubric"])
    assert out["logloss_both"] == pytest.approx(out["logloss_style"])
