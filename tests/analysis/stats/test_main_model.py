"""Tests for the main model: reference cross-check, planted effects, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.multitest import multipletests

from analysis.stats.design import (
    model_matrix,
    position_term,
    rubric_differences,
    style_differences,
)
from analysis.stats.main_model import (
    ModelFitError,
    adjust_p_values,
    fit_clustered_logit,
    fit_main_model,
    holm,
    separation_direction,
)
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


def plant_separating_feature(frame: pd.DataFrame, n_rows: int = 8, seed: int = 0) -> pd.DataFrame:
    """Add ``sparkle``: non-zero in ``n_rows`` non-tie judgments, all won by the higher side."""
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    frame["a.sparkle"] = 0.0
    frame["b.sparkle"] = 0.0
    rows = rng.choice(np.flatnonzero(frame["outcome"].ne("tie")), n_rows, replace=False)
    for row in rows:
        side = frame["outcome"].iat[row]  # the winner gets the sparkle
        frame.iloc[row, frame.columns.get_loc(f"{side}.sparkle")] = float(rng.integers(1, 4))
    return frame


def test_separating_feature_is_dropped_and_the_rest_estimated():
    frame, truth = simulate_frame(3000, 40, seed=21)
    planted = plant_separating_feature(frame)
    # Without the guard the planted column sends the fit off to infinity.
    with pytest.raises(ModelFitError, match="separation"):
        fit_clustered_logit(model_matrix(planted, features=[*truth.beta_style, "sparkle"]))
    result = fit_main_model(planted)
    assert "sparkle" not in set(result.style_effects.feature)
    assert set(result.style_effects.feature) == set(truth.beta_style)
    notes = [w for w in result.warnings if "'sparkle'" in w]
    assert len(notes) == 1 and "separates the outcomes" in notes[0], result.warnings
    assert "differs in 8 of" in notes[0] and "more of it won every one" in notes[0]
    assert result.dropped_features == [
        {"feature": "sparkle", "reason": "separation", "detail": notes[0]}
    ]
    # Exactly the model without the column, and the planted effects are still found.
    without = fit_main_model(planted, features=list(truth.beta_style))
    pd.testing.assert_frame_equal(result.style_effects, without.style_effects)
    style = result.style_effects.set_index("feature")
    for feature, beta in truth.beta_style.items():
        assert style.coef_ci_low[feature] - 0.05 <= beta <= style.coef_ci_high[feature] + 0.05
    assert style.p_adjusted["flattery"] < 0.001


def test_separation_by_a_combination_is_found_by_the_linear_programme():
    frame, truth = simulate_frame(1500, 30, seed=3)
    frame = frame.copy()
    # Neither f nor g separates alone, but f + g > 0 exactly when a won.
    n = len(frame)
    rng = np.random.default_rng(1)
    a_won = frame["outcome"].eq("a").to_numpy()
    decided = frame["outcome"].ne("tie").to_numpy()
    rows = rng.choice(np.flatnonzero(decided), 30, replace=False)
    f = np.zeros(n)
    g = np.zeros(n)
    sign = np.where(a_won[rows], 1.0, -1.0)
    first = rng.random(rows.size) < 0.5
    f[rows] = sign * np.where(first, 2.0, -1.0)
    g[rows] = sign * np.where(first, -1.0, 2.0)
    frame["a.f"], frame["b.f"] = f, 0.0 * f
    frame["a.g"], frame["b.g"] = g, 0.0 * g
    features = [*truth.beta_style, "f", "g"]
    matrix = model_matrix(frame, features=features)
    z = (2 * matrix.endog - 1)[:, None] * matrix.exog
    for name in ("style:f", "style:g"):
        column = z[:, matrix.columns.index(name)]
        assert (column > 0).any() and (column < 0).any()  # not separating on its own
    direction = separation_direction(matrix.exog, matrix.endog)
    assert direction is not None
    involved = {c for c, w in zip(matrix.columns, direction, strict=True) if abs(w) > 0.1}
    assert {"style:f", "style:g"} <= involved
    result = fit_main_model(frame, features=features)
    dropped = [d for d in result.dropped_features if d["reason"] == "separation"]
    assert len(dropped) == 1 and dropped[0]["feature"] in {"f", "g"}, result.dropped_features
    assert "quasi-separation" in dropped[0]["detail"] and "together with" in dropped[0]["detail"]
    assert set(result.style_effects.feature) == set(features) - {dropped[0]["feature"]}
    assert np.isfinite(result.style_effects.coef).all()


def test_separation_direction_is_none_for_ordinary_data():
    frame, _ = simulate_frame(800, 20, seed=8)
    matrix = model_matrix(frame)
    assert separation_direction(matrix.exog, matrix.endog) is None


def test_separation_by_the_rubric_raises_and_names_it():
    frame, _ = simulate_frame(400, 30, seed=1)
    frame = frame.copy()
    decided = frame["rubric.correctness"].ne(0) & frame["outcome"].ne("tie")
    frame.loc[decided, "outcome"] = np.where(frame.loc[decided, "rubric.correctness"] > 0, "a", "b")
    with pytest.raises(ModelFitError, match="separation: rubric:correctness"):
        fit_main_model(frame)


def test_when_every_style_feature_separates_nothing_is_left():
    frame, _ = simulate_frame(300, 30, beta_style={"flattery": 0.4}, seed=1)
    frame = frame.copy()
    frame.loc[frame["a.flattery"] > frame["b.flattery"], "outcome"] = "a"
    frame.loc[frame["a.flattery"] < frame["b.flattery"], "outcome"] = "b"
    with pytest.raises(ModelFitError, match="nothing is left"):
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
