"""Tests for the main model: reference cross-check, planted effects, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.multitest import multipletests

from analysis.stats.design import position_term, rubric_differences, style_differences
from analysis.stats.main_model import ModelFitError, adjust_p_values, fit_main_model, holm
from analysis.stats.synthetic import simulate_frame


@pytest.fixture(scope="module")
def planted():
    """One big simulation with planted effects (about 54,000 non-tie judgments)."""
    return simulate_frame(20_000, 80, overlap=3, annotator_sd=0.2, seed=11)


def reference_fit(frame: pd.DataFrame, rubric: bool = True):
    """Fit the same model with the statsmodels formula API."""
    parts = [style_differences(frame).add_prefix("s_"), position_term(frame).rename("position")]
    if rubric:
        parts.append(rubric_differences(frame).add_prefix("r_"))
    data = pd.concat(parts, axis=1)
    data.columns = [c.replace(".", "_") for c in data.columns]
    data["y"] = (frame["outcome"] == "a").astype(float)
    data["annotator"] = frame["annotator"]
    data = data[frame["outcome"] != "tie"]
    groups = pd.factorize(data["annotator"])[0]
    formula = "y ~ " + " + ".join(c for c in data.columns if c not in ("y", "annotator"))
    return smf.logit(formula, data).fit(
        disp=False, cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )


def test_matches_statsmodels_formula_fit_with_clustered_errors():
    frame, _ = simulate_frame(1500, 35, seed=5)
    result = fit_main_model(frame)
    ref = reference_fit(frame)
    style = result.style_effects.set_index("feature")
    for feature in style.index:
        name = "s_" + feature.replace(".", "_")
        assert style.loc[feature, "coef"] == pytest.approx(ref.params[name], abs=1e-6)
        assert style.loc[feature, "se"] == pytest.approx(ref.bse[name], abs=1e-6)
        assert style.loc[feature, "p_value"] == pytest.approx(ref.pvalues[name], abs=1e-6)
    rubric = result.rubric_effects.set_index("criterion")
    for key in rubric.index:
        assert rubric.loc[key, "coef"] == pytest.approx(ref.params["r_" + key], abs=1e-6)
        assert rubric.loc[key, "se"] == pytest.approx(ref.bse["r_" + key], abs=1e-6)
    assert result.position["coef"] == pytest.approx(ref.params["position"], abs=1e-6)
    assert result.intercept["se"] == pytest.approx(ref.bse["Intercept"], abs=1e-6)
    # Odds-ratio interval is the exponentiated coefficient interval.
    low, high = ref.conf_int().loc["s_flattery"]
    assert style.loc["flattery", "ci_low"] == pytest.approx(np.exp(low), rel=1e-6)
    assert style.loc["flattery", "ci_high"] == pytest.approx(np.exp(high), rel=1e-6)
    # Average marginal effects equal statsmodels' own.
    margeff = ref.get_margeff(at="overall").summary_frame()
    assert style.loc["emojis", "ame"] == pytest.approx(margeff.loc["s_emojis", "dy/dx"], abs=1e-6)
    assert style.loc["emojis", "ame_se"] == pytest.approx(
        margeff.loc["s_emojis", "Std. Err."], abs=1e-6
    )


def test_planted_effects_recovered_with_covering_intervals(planted):
    frame, truth = planted
    result = fit_main_model(frame)
    style = result.style_effects.set_index("feature")
    for feature, beta in truth.beta_style.items():
        row = style.loc[feature]
        assert row.coef_ci_low <= beta <= row.coef_ci_high, feature
        if beta != 0:
            assert np.sign(row.coef) == np.sign(beta)
            assert row.p_adjusted < 0.001
    rubric = result.rubric_effects.set_index("criterion")
    for key, beta in truth.beta_rubric.items():
        assert rubric.loc[key, "coef_ci_low"] <= beta <= rubric.loc[key, "coef_ci_high"]
    assert result.position["coef_ci_low"] <= truth.position_bias <= result.position["coef_ci_high"]
    assert result.correction == "holm"
    assert result.cov_type == "cluster"
    assert result.n + result.n_ties == len(frame)
    # AME is in probability points: same sign as the coefficient, much smaller.
    assert (np.sign(style.ame) == np.sign(style.coef)).all()
    assert (style.ame.abs() < 0.25).all()


def test_style_only_frame_fits_style_and_position():
    frame, truth = simulate_frame(2000, 40, beta_rubric={}, seed=2)
    result = fit_main_model(frame)
    assert result.style_only
    assert result.rubric_effects.empty
    assert set(result.style_effects.feature) == set(truth.beta_style)
    assert any("style-only" in w for w in result.warnings)


def test_perfect_separation_raises_clear_error():
    frame, _ = simulate_frame(300, 30, seed=1)
    frame = frame.copy()
    frame.loc[frame["a.flattery"] > frame["b.flattery"], "outcome"] = "a"
    frame.loc[frame["a.flattery"] < frame["b.flattery"], "outcome"] = "b"
    with pytest.raises(ModelFitError, match="separation"):
        fit_main_model(frame)


def test_single_outcome_raises():
    frame, _ = simulate_frame(100, 10, seed=1)
    frame = frame.assign(outcome="a")
    with pytest.raises(ModelFitError, match="same winner"):
        fit_main_model(frame)


def test_few_annotators_warns():
    frame, _ = simulate_frame(800, 5, seed=4)
    result = fit_main_model(frame, marginal_effects=False)
    assert any("only 5 annotators" in w for w in result.warnings)
    assert result.style_effects["ame"].isna().all()


def test_holm_equals_multipletests():
    rng = np.random.default_rng(0)
    # Few draws: multipletests runs gc.collect() per Holm call, slow in a big process.
    for _ in range(8):
        p = rng.random(rng.integers(1, 12)) ** 3
        np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
        np.testing.assert_allclose(
            adjust_p_values(p, "fdr_bh"), multipletests(p, method="fdr_bh")[1]
        )


def test_warm_start_on_large_data_gives_the_same_estimates(monkeypatch):
    import analysis.stats.main_model as main_model

    frame, _ = simulate_frame(3000, 40, seed=9)
    cold = fit_main_model(frame, marginal_effects=False)
    monkeypatch.setattr(main_model, "WARM_START_ABOVE", 1000)
    monkeypatch.setattr(main_model, "WARM_START_ROWS", 2000)
    warm = fit_main_model(frame, marginal_effects=False)
    np.testing.assert_allclose(warm.style_effects.coef, cold.style_effects.coef, atol=1e-8)
    np.testing.assert_allclose(warm.style_effects.se, cold.style_effects.se, atol=1e-8)
