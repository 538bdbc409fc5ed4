"""Tests for the frame-level simulator."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stats.design import style_scales
from analysis.stats.frame import feature_names, rubric_columns
from analysis.stats.synthetic import (
    DEFAULT_BETA_STYLE,
    simulate_frame,
    simulate_null_frame,
    simulate_tiebreaker_frame,
)


def test_frame_follows_the_contract():
    frame, truth = simulate_frame(200, 15, overlap=4, seed=0)
    assert len(frame) == 800
    assert set(frame.outcome.unique()) <= {"a", "b", "tie"}
    assert set(frame.left.unique()) <= {"a", "b"}
    assert sorted(feature_names(frame)) == sorted(truth.beta_style)
    assert [c.removeprefix("rubric.") for c in rubric_columns(frame)] == list(truth.beta_rubric)
    assert frame.model_a.notna().all() and (frame.model_a != frame.model_b).all()
    # Each comparison is judged by `overlap` distinct annotators.
    per_comparison = frame.groupby("comparison").annotator.nunique()
    assert (per_comparison == 4).all()
    # Features belong to responses: identical for every judgment of one comparison.
    assert (frame.groupby("comparison")["a.emojis"].nunique() == 1).all()


def test_truth_is_on_the_model_scale():
    frame, truth = simulate_frame(500, 20, seed=1)
    assert truth.scales == pytest.approx(style_scales(frame))


def test_seed_reproduces():
    a, _ = simulate_frame(100, 10, seed=5)
    b, _ = simulate_frame(100, 10, seed=5)
    assert a.equals(b)


def test_null_and_tiebreaker_settings():
    _, null = simulate_null_frame(n_comparisons=50, n_annotators=10, seed=0)
    assert set(null.beta_style) == set(DEFAULT_BETA_STYLE)
    assert all(v == 0 for v in null.beta_style.values())
    _, tb = simulate_tiebreaker_frame(tied_boost=0.5, n_comparisons=50, n_annotators=10, seed=0)
    for feature, beta in tb.beta_style.items():
        assert abs(tb.beta_style_tied[feature]) >= abs(beta)
        assert tb.beta_style_tied[feature] == pytest.approx(beta + 0.5 * np.sign(beta))


def test_style_only_and_no_models():
    frame, truth = simulate_frame(50, 10, beta_rubric={}, models={}, seed=0)
    assert not rubric_columns(frame) and truth.beta_rubric == {}
    assert frame.model_a.isna().all()


def test_overlap_larger_than_pool_rejected():
    with pytest.raises(ValueError):
        simulate_frame(10, 2, overlap=3)
