"""Repeated simulations: interval coverage and false-positive rates of the main model."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stats.intervals import wilson_interval
from analysis.stats.main_model import fit_main_model
from analysis.stats.synthetic import simulate_frame, simulate_null_frame

REPS = 400
# Each simulation: 700 comparisons x 3 annotators = 2,100 judgments (~1,900 non-tie) from a
# pool of 40 annotators whose style sensitivity varies (sd 0.3), so clustering matters.
SIZE = {"n_comparisons": 700, "n_annotators": 40, "overlap": 3, "annotator_sd": 0.3}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def coverage():
    """Per repetition and feature: does the 95% interval cover the planted coefficient?"""
    hits = []
    features = None
    for rep in range(REPS):
        frame, truth = simulate_frame(**SIZE, seed=rep)
        style = fit_main_model(frame, marginal_effects=False).style_effects.set_index("feature")
        features = list(truth.beta_style)
        hits.append(
            [style.coef_ci_low[f] <= truth.beta_style[f] <= style.coef_ci_high[f] for f in features]
        )
    return features, np.array(hits)


@pytest.fixture(scope="module")
def null_runs():
    """Per repetition: raw and Holm-adjusted p-values when no style feature matters."""
    raw, adjusted = [], []
    for rep in range(REPS):
        frame, _ = simulate_null_frame(**SIZE, seed=10_000 + rep)
        style = fit_main_model(frame, marginal_effects=False).style_effects
        raw.append(style.p_value.to_numpy())
        adjusted.append(style.p_adjusted.to_numpy())
    return np.array(raw), np.array(adjusted)


def test_style_interval_covers_truth_about_95_percent(coverage):
    features, hits = coverage
    rate = hits[:, features.index("flattery")].mean()
    assert 0.91 <= rate <= 0.98, rate
    # Every other style coefficient (including the zero one) is in the same band.
    for feature, feature_rate in zip(features, hits.mean(axis=0), strict=True):
        assert 0.91 <= feature_rate <= 0.98, (feature, feature_rate)


def test_null_false_positive_rate_is_nominal(null_runs):
    raw, _ = null_runs
    per_feature = (raw < 0.05).mean(axis=0)
    assert (per_feature <= 0.09).all(), per_feature
    assert (raw < 0.05).mean() <= 0.075


def test_holm_controls_family_wise_error(null_runs):
    _, adjusted = null_runs
    any_rejected = (adjusted < 0.05).any(axis=1)
    low, _ = wilson_interval(int(any_rejected.sum()), any_rejected.size)
    # At most nominal, up to Monte Carlo error: 5% lies inside the 95% interval or above it.
    assert low <= 0.05, any_rejected.mean()
    assert any_rejected.mean() <= 0.07
