"""Tests for analysis.stats.leaderboard: reference fits, planted strengths, style control."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit

from analysis.stats.design import style_differences
from analysis.stats.leaderboard import ELO_SCALE, leaderboard
from tests.datasets import PANDALM_MODELS, pandalm_frame

KEYS = {
    "model",
    "rating_raw",
    "rating_style_controlled",
    "ci_low",
    "ci_high",
    "raw_ci_low",
    "raw_ci_high",
    "n",
}


def tournament(
    strengths: dict[str, float],
    n: int,
    *,
    seed: int,
    tie_rate: float = 0.0,
    long_model: str | None = None,
    length_effect: float = 0.0,
) -> pd.DataFrame:
    """Random pairings; strengths on the log-odds scale; optionally one verbose model."""
    rng = np.random.default_rng(seed)
    names = np.array(list(strengths))
    ia = rng.integers(0, len(names), n)
    ib = (ia + rng.integers(1, len(names), n)) % len(names)
    beta = np.array(list(strengths.values()))
    words_a = rng.lognormal(np.log(150), 0.4, n)
    words_b = rng.lognormal(np.log(150), 0.4, n)
    if long_model is not None:
        words_a = np.where(names[ia] == long_model, words_a * 3, words_a)
        words_b = np.where(names[ib] == long_model, words_b * 3, words_b)
    frame = pd.DataFrame(
        {
            "comparison": [f"c-{i}" for i in range(n)],
            "annotator": "ann",
            "left": "a",
            "model_a": names[ia],
            "model_b": names[ib],
            "a.length.words": words_a,
            "b.length.words": words_b,
        }
    )
    eta = beta[ia] - beta[ib]
    if length_effect:
        eta = eta + length_effect * style_differences(frame)["length.words"].to_numpy()
    won = rng.random(n) < expit(eta)
    tie = rng.random(n) < tie_rate
    frame["outcome"] = np.where(tie, "tie", np.where(won, "a", "b"))
    return frame


def reference_ratings(frame: pd.DataFrame, *, style: bool) -> dict[str, float]:
    """Direct ML fit: statsmodels GLM Binomial, reference coding, ties as two half-weight rows."""
    names = sorted(set(frame["model_a"]) | set(frame["model_b"]))
    design = pd.DataFrame(
        {
            m: (frame["model_a"] == m).astype(float) - (frame["model_b"] == m).astype(float)
            for m in names[1:]
        }
    )
    if style:
        design = pd.concat([design, style_differences(frame)], axis=1)
    tie = (frame["outcome"] == "tie").to_numpy()
    x = np.vstack([design.to_numpy(), design.to_numpy()[tie]])
    y = np.concatenate([(frame["outcome"] == "a").to_numpy(float), np.zeros(tie.sum())])
    y[np.flatnonzero(tie)] = 1.0
    weights = np.concatenate([np.where(tie, 0.5, 1.0), np.full(tie.sum(), 0.5)])
    fit = sm.GLM(y, x, family=sm.families.Binomial(), freq_weights=weights).fit(tol=1e-13)
    beta = np.concatenate([[0.0], fit.params[: len(names) - 1]])
    beta -= beta.mean()
    return dict(zip(names, 1000 + ELO_SCALE * beta, strict=True))


def test_ratings_match_direct_maximum_likelihood():
    frame = tournament(
        {"m1": 0.4, "m2": 0.1, "m3": 0.0, "m4": -0.5},
        4000,
        seed=1,
        tie_rate=0.2,
        long_model="m2",
        length_effect=0.5,
    )
    board = {row["model"]: row for row in leaderboard(frame, n_bootstrap=0)}
    raw = reference_ratings(frame, style=False)
    controlled = reference_ratings(frame, style=True)
    for model in raw:
        assert board[model]["rating_raw"] == pytest.approx(raw[model], abs=1e-4)
        assert board[model]["rating_style_controlled"] == pytest.approx(controlled[model], abs=1e-4)
    assert np.mean([row["rating_raw"] for row in board.values()]) == pytest.approx(1000)


def test_recovers_planted_strengths():
    planted = {"alpha": 0.8, "beta": 0.4, "gamma": 0.0, "delta": -0.3, "eps": -0.9}
    board = leaderboard(tournament(planted, 30_000, seed=2), n_bootstrap=200, seed=1)
    assert [row["model"] for row in board] == list(planted)
    centred = np.array(list(planted.values())) - np.mean(list(planted.values()))
    expected = dict(zip(planted, 1000 + ELO_SCALE * centred, strict=True))
    inside = 0
    for row in board:
        assert row["rating_raw"] == pytest.approx(expected[row["model"]], abs=20)
        assert row["raw_ci_low"] < row["rating_raw"] < row["raw_ci_high"]
        inside += row["raw_ci_low"] <= expected[row["model"]] <= row["raw_ci_high"]
        assert row["n"] == pytest.approx(2 * 30_000 / 5, rel=0.05)
    assert inside >= 4


def test_style_control_removes_planted_length_confound():
    strengths = dict.fromkeys(["verbose", "m2", "m3", "m4"], 0.0)
    frame = tournament(strengths, 20_000, seed=3, long_model="verbose", length_effect=1.0)
    board = {row["model"]: row for row in leaderboard(frame, n_bootstrap=100, seed=0)}
    verbose = board["verbose"]
    assert verbose["rating_raw"] > 1060
    assert abs(verbose["rating_style_controlled"] - 1000) < 15
    assert verbose["ci_low"] < 1000 + 15 and verbose["ci_high"] > 1000 - 15
    assert verbose["raw_ci_low"] > 1040


def test_bootstrap_interval_width_is_plausible():
    """The one-step controlled intervals are about as wide as the exact raw intervals."""
    frame = tournament({"m1": 0.3, "m2": 0.0, "m3": -0.3}, 5000, seed=4, tie_rate=0.1)
    for row in leaderboard(frame, n_bootstrap=300, seed=2):
        raw_width = row["raw_ci_high"] - row["raw_ci_low"]
        width = row["ci_high"] - row["ci_low"]
        assert 0.7 < width / raw_width < 1.5
        # Binomial standard error of a rating with n games, roughly.
        se = ELO_SCALE * 2 / math.sqrt(row["n"]) * 1.5
        assert raw_width < 2 * 1.96 * se


def test_ties_count_as_half_wins():
    frame = pd.DataFrame(
        {
            "outcome": ["tie"] * 6,
            "comparison": list("uvwxyz"),
            "model_a": ["m1", "m2", "m3"] * 2,
            "model_b": ["m2", "m3", "m1"] * 2,
        }
    )
    for row in leaderboard(frame, n_bootstrap=20):
        assert row["rating_raw"] == pytest.approx(1000, abs=1e-6)
        assert row["rating_style_controlled"] == row["rating_raw"]


def test_no_model_names_gives_empty_board():
    frame = tournament({"m1": 0.0, "m2": 0.0}, 50, seed=5)
    assert leaderboard(frame.drop(columns=["model_a", "model_b"])) == []
    assert leaderboard(frame.assign(model_a=None, model_b=None)) == []
    assert leaderboard(frame.assign(model_a="m1", model_b="m1")) == []


def test_undefeated_model_still_gets_a_finite_rating():
    frame = pd.DataFrame(
        {
            "outcome": ["a"] * 5 + ["a", "b", "tie"],
            "comparison": [f"c{i}" for i in range(8)],
            "model_a": ["champ"] * 5 + ["m2", "m2", "m3"],
            "model_b": ["m2", "m3"] * 2 + ["m2", "m3", "m3", "m2"],
        }
    )
    board = leaderboard(frame, n_bootstrap=10)
    assert board[0]["model"] == "champ"
    assert all(math.isfinite(row["rating_raw"]) for row in board)


def test_bootstrap_is_reproducible_and_optional():
    frame = tournament({"m1": 0.2, "m2": 0.0, "m3": -0.2}, 600, seed=6, long_model="m1")
    assert leaderboard(frame, seed=3) == leaderboard(frame, seed=3)
    assert leaderboard(frame, seed=3) != leaderboard(frame, seed=4)
    row = leaderboard(frame, n_bootstrap=0)[0]
    assert set(row) == KEYS
    assert row["ci_low"] is None and row["raw_ci_high"] is None


def test_pandalm_leaderboard():
    frame = pandalm_frame()
    board = leaderboard(frame, n_bootstrap=50)
    assert {row["model"] for row in board} == PANDALM_MODELS
    assert sum(row["n"] for row in board) == 2 * len(frame)
    controlled = [row["rating_style_controlled"] for row in board]
    assert controlled == sorted(controlled, reverse=True)
    for row in board:
        assert set(row) == KEYS
        assert row["ci_low"] <= row["rating_style_controlled"] <= row["ci_high"]
        assert row["raw_ci_low"] <= row["rating_raw"] <= row["raw_ci_high"]
    raw = reference_ratings(frame, style=False)
    assert {row["model"]: row["rating_raw"] for row in board} == pytest.approx(raw, abs=1e-4)
