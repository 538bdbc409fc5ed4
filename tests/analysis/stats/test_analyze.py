"""Tests for analyze(): the JSON contract, style-only data and section isolation."""

from __future__ import annotations

import json

import numpy as np
import pytest

import analysis.stats.analyze as analyze_module
from analysis.stats.analyze import SECTIONS, analyze, to_jsonable
from analysis.stats.synthetic import simulate_frame

CONTRACT_KEYS = {
    "project",
    "n_judgments",
    "n_comparisons",
    "n_annotators",
    "has_rubric",
    "style_effects",
    "rubric_effects",
    "tiebreak",
    "importance",
    "position",
    "agreement",
    "annotators",
    "leaderboard",
    "descriptives",
}
STYLE_KEYS = {"feature", "coef", "odds_ratio", "ci_low", "ci_high", "p_value", "p_adjusted", "ame"}
RUBRIC_KEYS = {"criterion", "coef", "odds_ratio", "ci_low", "ci_high", "p_value"}
TIEBREAK_KEYS = {
    "feature",
    "tied_n",
    "tied_share_higher_wins",
    "tied_ci_low",
    "tied_ci_high",
    "override_n",
    "override_rate",
    "override_ci_low",
    "override_ci_high",
    "coef_tied",
    "coef_decided",
    "diff_ci_low",
    "diff_ci_high",
}
IMPORTANCE_KEYS = {
    "logloss_rubric",
    "logloss_style",
    "logloss_both",
    "auc_rubric",
    "auc_style",
    "auc_both",
    "share_flipped_by_style",
}


@pytest.fixture(scope="module")
def planted():
    return simulate_frame(3000, 40, seed=17)


def test_json_contract(planted):
    frame, truth = planted
    out = analyze(frame, project="demo").to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert set(out) >= CONTRACT_KEYS
    assert out["project"] == "demo"
    assert out["n_judgments"] == len(frame)
    assert out["n_comparisons"] == 3000 and out["n_annotators"] == 40
    assert out["has_rubric"] is True and out["style_only"] is False
    assert out["correction"] == "holm"
    assert {r["feature"] for r in out["style_effects"]} == set(truth.beta_style)
    assert all(set(r) >= STYLE_KEYS for r in out["style_effects"])
    assert all(set(r) >= RUBRIC_KEYS for r in out["rubric_effects"])
    assert all(set(r) >= TIEBREAK_KEYS for r in out["tiebreak"])
    assert set(out["importance"]) >= IMPORTANCE_KEYS
    assert {"n", "share_left_wins", "ci_low", "ci_high"} <= set(out["position"])
    assert {"mean_winner", "mean_loser", "n"} <= set(out["descriptives"]["flattery"])
    assert {"share_longer_wins", "n", "ci_low", "ci_high"} <= set(out["descriptives"]["length"])
    assert set(out["feature_scales"]) == set(truth.beta_style)
    assert "krippendorff_alpha" in out["agreement"]
    assert isinstance(out["annotators"], list) and isinstance(out["leaderboard"], list)
    assert out["model"]["label"] == "rubric+style"


def test_style_only_frame(planted):
    frame, _ = planted
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("rubric.")])
    result = analyze(frame, sections=[s for s in SECTIONS if s != "annotators"])
    out = result.to_dict()
    json.dumps(out, allow_nan=False)
    assert out["style_only"] is True and out["has_rubric"] is False
    assert out["model"]["label"] == "style-only"
    assert out["rubric_effects"] == []
    assert out["tiebreak"] == []
    assert out["importance"]["logloss_rubric"] is None
    assert out["style_effects"]
    assert any("style-only" in w for w in out["warnings"])


def test_failing_section_becomes_warning(planted, monkeypatch):
    frame, _ = planted

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(analyze_module, "tiebreak_analysis", broken)
    out = analyze(frame, sections=["main_model", "tiebreak", "position"]).to_dict()
    assert out["tiebreak"] is None
    assert any(w.startswith("tiebreak: not computed") and "boom" in w for w in out["warnings"])
    assert out["style_effects"] and out["position"]
    assert out["importance"] is None  # not requested


def test_missing_external_module_is_a_warning(planted, monkeypatch):
    frame, _ = planted
    monkeypatch.setitem(
        analyze_module._EXTERNAL, "leaderboard", ("analysis.stats.nonexistent", "f", [])
    )
    out = analyze(frame, sections=["leaderboard"]).to_dict()
    assert out["leaderboard"] == []
    assert any(w.startswith("leaderboard: not available") for w in out["warnings"])


def test_main_model_failure_leaves_other_sections(planted):
    frame, _ = planted
    frame = frame.assign(outcome="a")  # nothing to model
    out = analyze(frame, sections=["main_model", "importance", "position", "descriptives"])
    d = out.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["style_effects"] is None and d["importance"] is None
    assert d["position"]["share_left_wins"] is not None
    assert any(w.startswith("main_model: not computed") for w in d["warnings"])


def test_features_reach_the_annotator_section(planted, monkeypatch):
    import analysis.stats.annotators as annotators

    frame, _ = planted
    seen = []
    real = annotators.annotator_sensitivity

    def spy(frame, features=None):
        seen.append(features)
        return real(frame, features=features)

    monkeypatch.setattr(annotators, "annotator_sensitivity", spy)
    out = analyze(frame, features=["flattery", "emojis"], sections=["annotators"]).to_dict()
    assert seen == [["flattery", "emojis"]] and out["annotators"]
    analyze(frame, sections=["annotators"])
    assert seen[-1] is None


def test_dropped_features_are_reported_with_reason_and_scope(planted):
    frame, truth = planted
    frame = frame.copy()
    # A near-duplicate of flattery and a rare feature that separates the outcomes.
    frame["a.flattery2"] = frame["a.flattery"] * 2.0
    frame["b.flattery2"] = frame["b.flattery"] * 2.0
    frame["a.sparkle"] = 0.0
    frame["b.sparkle"] = 0.0
    rows = np.flatnonzero(frame["outcome"].eq("a"))[:5]
    frame.iloc[rows, frame.columns.get_loc("a.sparkle")] = 1.0
    out = analyze(frame, sections=["main_model", "importance"]).to_dict()
    json.dumps(out, allow_nan=False)
    dropped = {d["feature"]: d for d in out["dropped_features"]}
    assert set(dropped) == {"flattery2", "sparkle"}
    assert dropped["flattery2"]["reason"] == "collinear" and dropped["flattery2"]["scope"] == "all"
    assert "'flattery'" in dropped["flattery2"]["detail"]
    assert dropped["sparkle"]["reason"] == "separation"
    assert dropped["sparkle"]["scope"] == "main_model"
    assert any("'sparkle'" in w and "separates" in w for w in out["warnings"])
    assert {e["feature"] for e in out["style_effects"]} == set(truth.beta_style)
    assert out["importance"] is not None


def test_unknown_section_rejected(planted):
    with pytest.raises(ValueError, match="unknown sections"):
        analyze(planted[0], sections=["nope"])


def test_to_jsonable_converts_numpy_and_nan():
    value = {"a": np.float64("nan"), "b": np.int64(3), "c": [np.bool_(True), np.inf], 4: 1.5}
    assert to_jsonable(value) == {"a": None, "b": 3, "c": [True, None], "4": 1.5}
