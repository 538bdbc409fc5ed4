"""Tests for analysis.stats.agreement, cross-checked against the krippendorff package."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pandas as pd
import pytest

from analysis.stats.agreement import agreement_summary, krippendorff_alpha_nominal
from tests.datasets import PANDALM, pandalm_frame


def frame_from_matrix(matrix: np.ndarray, columns: dict[str, np.ndarray] | None = None):
    """Judgment frame from a coders x units matrix of codes 0..2 (NaN = no judgment)."""
    coders, units = np.nonzero(~np.isnan(matrix))
    frame = pd.DataFrame(
        {
            "outcome": np.array(["a", "b", "tie"])[matrix[coders, units].astype(int)],
            "left": "a",
            "annotator": [f"ann-{c}" for c in coders],
            "comparison": [f"c-{u}" for u in units],
        }
    )
    for name, values in (columns or {}).items():
        frame[name] = values[coders, units]
    return frame


def random_matrix(rng: np.random.Generator, coders: int, units: int, missing: float) -> np.ndarray:
    # A shared per-unit tendency so alpha is away from zero and the check is not trivial.
    truth = rng.integers(0, 3, size=units)
    noise = rng.integers(0, 3, size=(coders, units))
    matrix = np.where(rng.random((coders, units)) < 0.6, truth, noise).astype(float)
    matrix[rng.random((coders, units)) < missing] = np.nan
    return matrix


@pytest.mark.parametrize("seed", range(6))
def test_alpha_matches_krippendorff_package_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    matrix = random_matrix(rng, coders=int(rng.integers(2, 8)), units=200, missing=0.4)
    expected = krippendorff.alpha(
        reliability_data=matrix, level_of_measurement="nominal", value_domain=[0, 1, 2]
    )
    summary = agreement_summary(frame_from_matrix(matrix))
    assert summary["krippendorff_alpha"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_criterion_alpha_uses_sign_of_rubric_difference(seed):
    rng = np.random.default_rng(100 + seed)
    matrix = random_matrix(rng, coders=4, units=150, missing=0.3)
    # Rating differences of any magnitude collapse to their sign; some answers are missing.
    signs = rng.integers(-1, 2, size=matrix.shape).astype(float)
    ratings = signs * rng.integers(1, 4, size=matrix.shape)
    ratings[rng.random(matrix.shape) < 0.2] = np.nan
    frame = frame_from_matrix(matrix, {"rubric.clarity": ratings})
    reliability = np.where(np.isnan(matrix), np.nan, np.sign(ratings))
    expected = krippendorff.alpha(
        reliability_data=reliability, level_of_measurement="nominal", value_domain=[-1, 0, 1]
    )
    clarity = agreement_summary(frame)["per_criterion"]["clarity"]
    assert clarity["krippendorff_alpha"] == pytest.approx(expected, abs=1e-9)
    pairable = (~np.isnan(reliability)).sum(axis=0) >= 2
    assert clarity["n_units"] == int(pairable.sum())


def test_alpha_from_counts_matches_package_value_counts():
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 4, size=(300, 3))
    expected = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(counts) == pytest.approx(expected, abs=1e-9)


def test_pandalm_alpha_matches_package():
    frame = pandalm_frame()
    labels = json.loads(PANDALM.read_text())
    reliability = np.array(
        [[item[a] for item in labels] for a in ("annotator1", "annotator2", "annotator3")],
        dtype=float,
    )
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    summary = agreement_summary(frame)
    assert summary["krippendorff_alpha"] == pytest.approx(expected, abs=1e-9)
    assert summary["n_units"] == 999
    assert 0.5 < summary["krippendorff_alpha"] < 1.0
    assert {a["annotator"] for a in summary["annotators"]} == {
        "annotator1",
        "annotator2",
        "annotator3",
    }


def test_perfect_agreement_and_pair_counting():
    frame = pd.DataFrame(
        {
            "outcome": ["a", "a", "b", "b", "a", "tie"],
            "left": "a",
            "annotator": ["x", "y", "x", "y", "z", "x"],
            "comparison": ["c1", "c1", "c2", "c2", "c2", "c3"],
        }
    )
    summary = agreement_summary(frame)
    # c1: 1 agreeing pair of 1; c2: 1 of 3; c3 has a single judgment and is not pairable.
    assert summary["percent_agreement"] == pytest.approx(2 / 4)
    assert summary["n_units"] == 2


def test_undefined_statistics_are_none():
    single = pd.DataFrame(
        {"outcome": ["a", "b"], "left": "a", "annotator": ["x", "y"], "comparison": ["c1", "c2"]}
    )
    summary = agreement_summary(single)
    assert summary["krippendorff_alpha"] is None
    assert summary["percent_agreement"] is None
    assert summary["n_units"] == 0
    assert all(a["agreement_with_majority"] is None for a in summary["annotators"])

    # One category everywhere: observed and expected disagreement are both zero.
    unanimous = pd.DataFrame(
        {"outcome": "a", "left": "a", "annotator": ["x", "y"], "comparison": ["c1", "c1"]}
    )
    summary = agreement_summary(unanimous)
    assert summary["krippendorff_alpha"] is None
    assert summary["percent_agreement"] == 1.0


def test_majority_agreement_counts_tied_majority_as_half():
    frame = pd.DataFrame(
        {
            "outcome": ["a", "a", "b", "a", "a", "b", "tie"],
            "left": "a",
            "annotator": ["w", "x", "y", "z", "w", "x", "y"],
            "comparison": ["c1"] * 4 + ["c2"] * 3,
        }
    )
    by_name = {a["annotator"]: a for a in agreement_summary(frame)["annotators"]}
    # c1: others of w are (a, b, a) -> mode a, agrees. y's others are (a, a, a) -> disagrees.
    # c2: others of w are (b, tie): a two-way tie for the mode that w is not part of -> 0;
    # others of x are (a, tie): x chose b -> 0; others of y are (a, b) -> y chose tie -> 0.
    assert by_name["w"] == {"annotator": "w", "n": 2, "agreement_with_majority": 0.5}
    assert by_name["y"]["agreement_with_majority"] == 0.0
    assert by_name["z"] == {"annotator": "z", "n": 1, "agreement_with_majority": 1.0}

    half = pd.DataFrame(
        {
            "outcome": ["a", "a", "b"],
            "left": "a",
            "annotator": ["x", "y", "z"],
            "comparison": "c1",
        }
    )
    by_name = {a["annotator"]: a for a in agreement_summary(half)["annotators"]}
    # x's others are (a, b): tied mode containing x's choice -> 1/2.
    assert by_name["x"]["agreement_with_majority"] == 0.5
    assert by_name["z"]["agreement_with_majority"] == 0.0
