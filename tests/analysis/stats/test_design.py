"""Tests for the style/rubric design: normalisation, antisymmetry, helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats.design import (
    INTERCEPT,
    MAX_STYLE_CORRELATION,
    POSITION,
    a_wins,
    has_rubric,
    model_matrix,
    position_term,
    rubric_differences,
    style_design,
    style_differences,
    style_scales,
)


def small_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": ["a", "b", "tie", "a"],
            "left": ["a", "b", "a", "b"],
            "annotator": ["u1", "u2", "u1", "u2"],
            "comparison": ["c1", "c1", "c2", "c2"],
            "rubric.correct": [1.0, np.nan, 0.0, -1.0],
            "a.emojis": [2.0, 0.0, 1.0, 0.0],
            "b.emojis": [0.0, 1.0, 1.0, 0.0],
            "a.agreement": [-1.0, 0.0, 1.0, 1.0],
            "b.agreement": [1.0, 0.0, 0.0, 1.0],
            "a.same": [3.0, 3.0, 3.0, 3.0],
            "b.same": [3.0, 3.0, 3.0, 3.0],
        }
    )


def test_relative_difference_for_non_negative_features():
    d = style_design(small_frame())
    raw = np.array([1.0, -1.0, 0.0, 0.0])  # (a-b)/(a+b), 0 when both 0
    rms = np.sqrt(np.mean(raw**2))
    assert d.kinds["emojis"] == "relative"
    assert d.scales["emojis"] == pytest.approx(rms)
    np.testing.assert_allclose(d.differences["emojis"], raw / rms)


def test_plain_difference_for_signed_features():
    d = style_design(small_frame())
    raw = np.array([-2.0, 0.0, 1.0, 0.0])
    assert d.kinds["agreement"] == "difference"
    np.testing.assert_allclose(d.differences["agreement"], raw / np.sqrt(np.mean(raw**2)))


def test_constant_zero_difference_is_dropped_with_a_note():
    d = style_design(small_frame())
    assert "same" not in d.differences.columns
    assert d.dropped == ["same"]
    assert "same" in d.notes[0]
    assert "same" not in style_scales(small_frame())


def test_unit_root_mean_square_and_no_centring():
    diffs = style_differences(small_frame())
    np.testing.assert_allclose((diffs**2).mean(), 1.0)
    # Rows where a and b are equal stay exactly 0 (no centring).
    assert diffs.loc[2, "emojis"] == 0.0


def test_missing_values_give_zero_difference():
    frame = small_frame()
    frame.loc[0, "a.emojis"] = np.nan
    assert style_differences(frame).loc[0, "emojis"] == 0.0


pairs = st.lists(
    st.tuples(
        st.floats(0, 1e4, allow_nan=False),
        st.floats(0, 1e4, allow_nan=False),
        st.floats(-5, 5, allow_nan=False),
        st.floats(-5, 5, allow_nan=False),
    ),
    min_size=2,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_swapping_a_and_b_negates_every_row(rows):
    arr = np.array(rows)
    frame = pd.DataFrame({"a.n": arr[:, 0], "b.n": arr[:, 1], "a.s": arr[:, 2], "b.s": arr[:, 3]})
    swapped = frame.rename(columns={"a.n": "b.n", "b.n": "a.n", "a.s": "b.s", "b.s": "a.s"})
    d1, d2 = style_differences(frame), style_differences(swapped)
    assert list(d1.columns) == list(d2.columns)
    np.testing.assert_allclose(d1.to_numpy(), -d2[d1.columns].to_numpy(), atol=1e-12)


def test_rubric_differences_rename_and_fill():
    out = rubric_differences(small_frame())
    assert list(out.columns) == ["correct"]
    assert out["correct"].tolist() == [1.0, 0.0, 0.0, -1.0]


def test_has_rubric():
    frame = small_frame()
    assert has_rubric(frame)
    frame["rubric.correct"] = np.nan
    assert not has_rubric(frame)
    assert not has_rubric(frame.drop(columns="rubric.correct"))


def test_a_wins_and_position_term():
    frame = small_frame()
    np.testing.assert_array_equal(a_wins(frame), [1.0, 0.0, np.nan, 1.0])
    assert position_term(frame).tolist() == [1.0, -1.0, 1.0, -1.0]


def test_model_matrix_excludes_ties_and_drops_redundant_columns():
    frame = small_frame()
    frame["rubric.copy"] = frame["rubric.correct"] * 2  # collinear with rubric.correct
    frame["rubric.empty"] = np.nan  # constant 0 after filling
    m = model_matrix(frame)
    assert m.n_ties == 1
    assert m.rows.tolist() == [0, 1, 3]
    assert m.columns[:2] == [INTERCEPT, POSITION]
    assert "rubric:copy" not in m.columns and "rubric:empty" not in m.columns
    assert any("rubric:copy" in n and "linear combination" in n for n in m.notes)
    assert any("rubric:empty" in n and "constant" in n for n in m.notes)
    assert m.endog.tolist() == [1.0, 0.0, 1.0]


def duplicated_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Lengths in chars / words (near-duplicates), an independent count, and a signed one."""
    rng = np.random.default_rng(seed)
    words_a, words_b = rng.integers(20, 400, n), rng.integers(20, 400, n)
    return pd.DataFrame(
        {
            "a.words": words_a.astype(float),
            "b.words": words_b.astype(float),
            "a.chars": words_a * 5.0 + rng.integers(0, 20, n),
            "b.chars": words_b * 5.0 + rng.integers(0, 20, n),
            "a.emojis": rng.poisson(1.0, n).astype(float),
            "b.emojis": rng.poisson(1.0, n).astype(float),
            "a.agreement": rng.choice([-1.0, 0.0, 1.0], n),
            "b.agreement": rng.choice([-1.0, 0.0, 1.0], n),
        }
    )


def test_collinearity_guard_keeps_the_first_of_two_near_duplicates():
    frame = duplicated_frame()
    d = style_design(frame)
    assert list(d.differences.columns) == ["words", "emojis", "agreement"]
    assert d.dropped == ["chars"] and "chars" not in d.scales and "chars" not in d.kinds
    (dropped,) = d.dropped_columns
    assert dropped.column == "chars" and dropped.reason == "collinear"
    # The note names both columns and the correlation.
    assert "'chars'" in dropped.detail and "'words'" in dropped.detail
    assert f"> {MAX_STYLE_CORRELATION:g}" in dropped.detail and d.notes == [dropped.detail]
    # Listing chars first keeps chars instead; turning the guard off keeps both.
    assert style_design(frame, ["chars", "words"]).dropped == ["words"]
    off = style_design(frame, max_correlation=None)
    assert set(off.differences.columns) == {"words", "chars", "emojis", "agreement"}
    # The dropped column is the one that is nearly the same (uncentred correlation).
    r = float(np.mean(off.differences["words"] * off.differences["chars"]))
    assert r > MAX_STYLE_CORRELATION and f"{r:+.3f}" in dropped.detail
    # Every model built on the design sees the guard's choice and its note.
    outcome = np.where(np.arange(len(frame)) % 2 == 0, "a", "b")
    m = model_matrix(frame.assign(outcome=outcome, left="a", annotator="u"))
    assert m.block("style:") == ["style:words", "style:emojis", "style:agreement"]
    assert dropped.detail in m.notes


def test_collinearity_guard_leaves_moderately_correlated_columns():
    frame = duplicated_frame()
    # emojis2 = emojis plus independent noise: correlated (~0.7) but a separate column.
    rng = np.random.default_rng(5)
    frame["a.emojis2"] = frame["a.emojis"] + rng.poisson(1.0, len(frame))
    frame["b.emojis2"] = frame["b.emojis"] + rng.poisson(1.0, len(frame))
    d = style_design(frame)
    r = float(np.mean(d.differences["emojis"] * d.differences["emojis2"]))
    assert 0.3 < r < MAX_STYLE_CORRELATION
    assert "emojis2" in d.differences.columns and d.dropped == ["chars"]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_collinearity_guard_does_not_depend_on_which_response_is_a(seed):
    frame = duplicated_frame(n=60, seed=seed % 1000)
    # Swap a and b in a random subset of rows: the same columns survive, rows negate.
    swap = np.random.default_rng(seed).random(len(frame)) < 0.5
    swapped = frame.copy()
    for name in ("words", "chars", "emojis", "agreement"):
        a, b = f"a.{name}", f"b.{name}"
        swapped.loc[swap, [a, b]] = frame.loc[swap, [b, a]].to_numpy()
    d1, d2 = style_design(frame), style_design(swapped)
    assert d1.dropped == d2.dropped
    sign = np.where(swap, -1.0, 1.0)[:, None]
    np.testing.assert_allclose(d1.differences.to_numpy(), sign * d2.differences.to_numpy())
