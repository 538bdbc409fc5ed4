"""Tests for analysis.stats.annotators: recovery of planted sensitivities, shrinkage, references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.optimize import minimize_scalar
from scipy.special import expit

from analysis.simulation import simulate_campaign, truth_frame
from analysis.stats.annotators import AnnotatorSensitivity, annotator_sensitivity
from analysis.stats.design import position_term, rubric_differences, style_differences


def planted_frame(
    multipliers: dict[str, float],
    judgments: dict[str, int],
    *,
    rubric: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Judgments whose style effect is scaled by each annotator's planted multiplier."""
    rng = np.random.default_rng(seed)
    names = np.repeat(list(judgments), list(judgments.values()))
    n = len(names)
    frame = pd.DataFrame(
        {
            "annotator": names,
            "comparison": [f"c-{i}" for i in range(n)],
            "left": np.where(rng.random(n) < 0.5, "a", "b"),
        }
    )
    for feature in ("flattery", "emojis"):
        frame[f"a.{feature}"] = rng.poisson(1.0, n).astype(float)
        frame[f"b.{feature}"] = rng.poisson(1.0, n).astype(float)
    style = style_differences(frame)
    eta = 0.8 * style["flattery"] + 0.3 * style["emojis"]
    eta = eta * frame["annotator"].map(multipliers) + 0.1 * position_term(frame)
    if rubric:
        # 40 % rubric-tied judgments; elsewhere the rubric dominates.
        answer = rng.choice([-1.0, 0.0, 1.0], size=n, p=[0.3, 0.4, 0.3])
        frame["rubric.correctness"] = answer
        eta = eta + 2.0 * answer
    won = rng.random(n) < expit(eta.to_numpy())
    tie = rng.random(n) < 0.1
    frame["outcome"] = np.where(tie, "tie", np.where(won, "a", "b"))
    return frame


def test_planted_swayed_annotators_rank_first_and_are_flagged():
    multipliers = {f"ann-{i:02d}": 1.0 for i in range(30)}
    multipliers["ann-07"] = multipliers["ann-21"] = 3.0
    frame = planted_frame(multipliers, dict.fromkeys(multipliers, 1500), seed=1)
    result = annotator_sensitivity(frame)
    assert {r["annotator"] for r in result[:2]} == {"ann-07", "ann-21"}
    flagged = {r["annotator"] for r in result if r["flagged"]}
    assert {"ann-07", "ann-21"} <= flagged
    assert len(flagged) <= 3
    top = result[0]
    assert top["ci_low"] < top["style_sensitivity"] < top["ci_high"]
    assert 2.2 < top["style_sensitivity"] < 3.8
    assert set(top) == {
        "annotator",
        "n",
        "style_sensitivity",
        "ci_low",
        "ci_high",
        "flagged",
        "raw_estimate",
        "raw_se",
    }


def test_style_only_data_recovers_swayed_annotator():
    multipliers = {f"ann-{i}": 1.0 for i in range(12)}
    multipliers["ann-3"] = 2.5
    frame = planted_frame(multipliers, dict.fromkeys(multipliers, 1500), rubric=False, seed=2)
    assert not [c for c in frame if c.startswith("rubric.")]
    result = annotator_sensitivity(frame)
    assert result[0]["annotator"] == "ann-3"
    assert result[0]["flagged"]


def test_estimates_track_planted_multipliers():
    rng = np.random.default_rng(3)
    multipliers = {f"ann-{i}": float(m) for i, m in enumerate(rng.uniform(0.2, 2.0, 25))}
    frame = planted_frame(multipliers, dict.fromkeys(multipliers, 2000), seed=3)
    model = AnnotatorSensitivity().fit(frame)
    table = model.results_.set_index("annotator")
    truth = pd.Series(multipliers)
    assert np.corrcoef(truth, table.loc[truth.index, "style_sensitivity"])[0, 1] > 0.95
    assert model.between_variance_ > 0
    assert model.pool_mean_ == pytest.approx(truth.mean(), abs=0.25)


def test_shrinkage_pulls_small_annotators_toward_the_pool_mean():
    multipliers = {f"ann-{i}": 1.0 for i in range(20)}
    multipliers |= {"big-swayed": 2.5, "small-swayed": 2.5, "tiny": 2.5}
    counts = dict.fromkeys(multipliers, 1500) | {"small-swayed": 80, "tiny": 6}
    frame = planted_frame(multipliers, counts, seed=4)
    model = AnnotatorSensitivity().fit(frame)
    rows = model.results_.set_index("annotator")
    mu = model.pool_mean_

    def pulled(name: str) -> float:
        row = rows.loc[name]
        return 1.0 - (row.style_sensitivity - mu) / (row.raw_estimate - mu)

    # Shrinkage fraction (1 - w) grows as the annotator's standard error grows.
    assert 0 <= pulled("big-swayed") < pulled("small-swayed") < pulled("tiny") <= 1
    assert abs(rows.loc["small-swayed", "style_sensitivity"] - mu) < abs(
        rows.loc["small-swayed", "raw_estimate"] - mu
    )
    # Too few judgments: estimated and shrunk, never flagged.
    assert rows.loc["tiny", "n"] < 10
    assert not rows.loc["tiny", "flagged"]
    assert rows.loc["big-swayed", "flagged"]


def test_raw_estimates_match_direct_maximisation():
    multipliers = {f"ann-{i}": m for i, m in enumerate([0.5, 1.0, 1.5, 2.0, 0.8, 1.2])}
    frame = planted_frame(multipliers, dict.fromkeys(multipliers, 600), seed=5)
    model = AnnotatorSensitivity(pooled_ridge=0.0).fit(frame)

    non_tie = frame["outcome"] != "tie"
    data = frame[non_tie]
    y = (data["outcome"] == "a").to_numpy(dtype=float)
    x = pd.concat(
        [rubric_differences(frame), position_term(frame), style_differences(frame)], axis=1
    )[non_tie]
    reference = sm.Logit(y, x.to_numpy()).fit(disp=0, tol=1e-12).params
    np.testing.assert_allclose(
        model.style_coefficients_.to_numpy(), reference[-2:], rtol=0, atol=1e-6
    )

    offset = x.to_numpy()[:, :2] @ reference[:2]
    index = x.to_numpy()[:, 2:] @ reference[2:]
    rows = model.results_.set_index("annotator")
    prior_sd = model.prior_sd
    for name in multipliers:
        mine = (data["annotator"] == name).to_numpy()

        def loss(g, mine=mine):
            eta = offset[mine] + g * index[mine]
            return -np.sum(y[mine] * eta - np.logaddexp(0, eta)) + (g - 1) ** 2 / (2 * prior_sd**2)

        best = minimize_scalar(loss, bounds=(-10, 10), method="bounded", options={"xatol": 1e-10})
        assert rows.loc[name, "raw_estimate"] == pytest.approx(best.x, abs=1e-5)
        p = expit(offset[mine] + best.x * index[mine])
        se = 1 / np.sqrt(np.sum(index[mine] ** 2 * p * (1 - p)) + 1 / prior_sd**2)
        assert rows.loc[name, "raw_se"] == pytest.approx(se, rel=1e-4)


def test_shrinkage_formula_by_hand():
    model = AnnotatorSensitivity(min_judgments=1)
    raw = np.array([0.5, 1.0, 1.5, 3.0])
    se = np.array([0.2, 0.3, 0.25, 0.5])
    shrunk, sd, flagged = model._shrink(raw, se, np.array([100, 100, 100, 100]))
    v = 1 / se**2
    fixed = np.sum(v * raw) / np.sum(v)
    tau2 = max(0.0, (np.sum(v * (raw - fixed) ** 2) - 3) / (np.sum(v) - np.sum(v**2) / np.sum(v)))
    u = 1 / (se**2 + tau2)
    mu = np.sum(u * raw) / np.sum(u)
    w = tau2 / (tau2 + se**2)
    np.testing.assert_allclose(shrunk, w * raw + (1 - w) * mu)
    np.testing.assert_allclose(sd, np.sqrt(w * se**2 + (1 - w) ** 2 / np.sum(u)))
    assert model.between_variance_ == pytest.approx(tau2)
    np.testing.assert_array_equal(flagged, shrunk - 1.959963984540054 * sd > mu)


def test_annotators_without_information_get_nulls():
    multipliers = {f"ann-{i}": 1.0 for i in range(5)}
    frame = planted_frame(multipliers, dict.fromkeys(multipliers, 300), seed=6)
    only_ties = frame.iloc[:3].assign(annotator="lazy", outcome="tie")
    result = annotator_sensitivity(pd.concat([frame, only_ties], ignore_index=True))
    lazy = next(r for r in result if r["annotator"] == "lazy")
    assert lazy["n"] == 0
    assert lazy["style_sensitivity"] is None and lazy["raw_estimate"] is None
    assert lazy["flagged"] is False
    assert result[-1]["annotator"] == "lazy"

    no_style = frame[["annotator", "comparison", "left", "outcome", "rubric.correctness"]]
    result = annotator_sensitivity(no_style)
    assert len(result) == 5
    assert all(r["style_sensitivity"] is None and not r["flagged"] for r in result)


def test_simulated_campaign_swayed_annotators_are_found():
    campaign = simulate_campaign(comparisons=15_000, annotators=16, seed=21)
    result = annotator_sensitivity(truth_frame(campaign))
    swayed = {a for a, v in campaign.truth["annotators"].items() if v["swayed"]}
    assert {r["annotator"] for r in result[:2]} == swayed
    assert all(r["flagged"] for r in result if r["annotator"] in swayed)


def test_features_choose_the_style_index():
    frame = planted_frame({"u1": 1.0, "u2": 1.0}, {"u1": 300, "u2": 300})
    model = AnnotatorSensitivity(features=["flattery"]).fit(frame)
    assert list(model.style_coefficients_.index) == ["flattery"]
    assert list(AnnotatorSensitivity().fit(frame).style_coefficients_.index) == [
        "flattery",
        "emojis",
    ]
    only = annotator_sensitivity(frame, features=["flattery"])
    assert only == AnnotatorSensitivity(features=["flattery"]).fit(frame).to_records()
    assert only != annotator_sensitivity(frame)
