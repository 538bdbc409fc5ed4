"""Real public data end to end: import through the adapters, extract features, analyse.

Both data sets carry no rubric answers, so the analysis must label itself style-only. The
numbers printed here (run with ``-s``) are recorded in the issue note.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from analysis.models import JobStatus
from analysis.services.runs import analysis_run_now
from annotation.services.imports import import_file
from annotation.services.projects import project_create
from tests.datasets import HH_RLHF, PANDALM, PANDALM_MODELS

pytestmark = pytest.mark.django_db

RUBRIC = {
    "name": "overall-preference",
    "criteria": [
        {"key": "helpfulness", "label": "Helpfulness", "kind": "compare"},
    ],
}


def _analyse(slug: str, path: Path, capture) -> dict:
    project = project_create(slug=slug, name=slug, rubric_spec=RUBRIC)
    with capture(execute=True):  # the import's on_commit feature job
        import_file(project=project, path_or_fileobj=path)
    run = analysis_run_now(project=project)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert "Style-only data." in run.html
    return run.result


def _dropped(result: dict) -> str:
    return (
        ", ".join(f"{d['feature']} ({d['reason']})" for d in result["dropped_features"]) or "none"
    )


def _effects(result: dict) -> str:
    if not result["style_effects"]:
        return "none (main model not estimated)"
    return ", ".join(
        f"{e['feature']} {e['odds_ratio']:.2f} [{e['ci_low']:.2f}, {e['ci_high']:.2f}]"
        f" p_adj {e['p_adjusted']:.3g}"
        for e in result["style_effects"]
        if e["odds_ratio"] is not None
    )


def test_pandalm_testset(django_capture_on_commit_callbacks):
    result = _analyse("pandalm", PANDALM, django_capture_on_commit_callbacks)
    assert result["has_rubric"] is False and result["style_only"] is True
    assert result["model"]["label"] == "style-only"
    assert (result["n_judgments"], result["n_comparisons"], result["n_annotators"]) == (
        2997,
        999,
        3,
    )
    assert result["tiebreak"] == [] and result["rubric_effects"] == []
    agreement = result["agreement"]
    assert 0.3 < agreement["krippendorff_alpha"] < 0.9
    board = {m["model"]: m for m in result["leaderboard"]}
    assert set(board) == PANDALM_MODELS
    for model in board.values():
        assert math.isfinite(model["rating_raw"]) and math.isfinite(
            model["rating_style_controlled"]
        )
        assert model["raw_ci_low"] <= model["rating_raw"] <= model["raw_ci_high"]
    assert all(math.isfinite(e["odds_ratio"]) for e in result["style_effects"])
    # Default analysis features; emojis and markdown.headers differ in a handful of
    # comparisons only, each time won by the same side: separated, so dropped.
    assert result["params"]["feature_set"] == "default"
    dropped = {d["feature"]: d["reason"] for d in result["dropped_features"]}
    assert dropped["emojis"] == dropped["markdown.headers"] == "separation"
    assert not any("converge" in w for w in result["warnings"])
    length = result["descriptives"]["length"]
    assert 0 < length["share_longer_wins"] < 1

    print(
        f"\nPandaLM: n={result['n_judgments']} judgments, {result['n_ties']} ties; "
        f"Krippendorff alpha {agreement['krippendorff_alpha']:.3f}, "
        f"percent agreement {agreement['percent_agreement']:.3f}; "
        f"longer ({length['feature']}) wins {length['share_longer_wins']:.3f} "
        f"[{length['ci_low']:.3f}, {length['ci_high']:.3f}] of n={length['n']}"
    )
    print("PandaLM style ORs (style-only, not rubric-adjusted): " + _effects(result))
    print("PandaLM dropped features: " + _dropped(result))
    print("PandaLM warnings: " + "; ".join(result["warnings"]))
    print(
        "PandaLM leaderboard raw -> style-controlled: "
        + ", ".join(
            f"{m['model']} {m['rating_raw']:.0f}->{m['rating_style_controlled']:.0f}"
            for m in result["leaderboard"]
        )
    )


def test_hh_rlhf_harmless_base(django_capture_on_commit_callbacks):
    result = _analyse(
        "hh-rlhf",
        HH_RLHF,
        django_capture_on_commit_callbacks,
    )
    assert result["style_only"] is True
    assert result["n_judgments"] == result["n_comparisons"] == 2307
    assert result["n_annotators"] == 1
    length = result["descriptives"]["length"]
    assert math.isfinite(length["share_longer_wins"]) and length["n"] > 1000
    assert length["ci_low"] <= length["share_longer_wins"] <= length["ci_high"]
    assert result["position"]["n"] == 0  # the data has no display order
    # markdown.bold differs in two comparisons, both won by the response with less of it:
    # it separates the outcomes, so it is dropped and the rest of the model is estimated.
    dropped = {d["feature"]: d for d in result["dropped_features"]}
    assert dropped["markdown.bold"]["reason"] == "separation"
    assert dropped["markdown.bold"]["scope"] == "main_model"
    assert any("'markdown.bold'" in w and "separates" in w for w in result["warnings"])
    effects = {e["feature"]: e for e in result["style_effects"]}
    assert "length.words" in effects and "markdown.bold" not in effects
    assert all(math.isfinite(e["odds_ratio"]) for e in effects.values())
    assert result["importance"] is not None

    print(
        f"\nhh-rlhf harmless-base test: n={result['n_judgments']}; longer "
        f"({length['feature']}) wins {length['share_longer_wins']:.3f} "
        f"[{length['ci_low']:.3f}, {length['ci_high']:.3f}] of n={length['n']}"
    )
    print("hh-rlhf style ORs (style-only): " + _effects(result))
    print("hh-rlhf dropped features: " + _dropped(result))
    print("hh-rlhf warnings: " + "; ".join(result["warnings"]))
    importance = result["importance"]
    print(
        f"hh-rlhf importance: log-loss position-only {importance['logloss_position']:.4f}, "
        f"style {importance['logloss_style']:.4f}, AUC style {importance['auc_style']:.3f}, "
        f"share flipped by style {importance['share_flipped_by_style']:.3f}"
    )
