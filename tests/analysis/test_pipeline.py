"""The whole pipeline: simulate (command) → import → features → analyze (command) → planted truth.

Runs on the embedded default (SQLite, eager Celery) and again, unchanged, in the PostgreSQL
pass (it is a ``django_db`` test). ``transaction=True`` so that the import really commits
and its ``on_commit`` feature job runs, as in production.
"""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from analysis.models import AnalysisRun, FeatureJob, JobStatus
from analysis.services.frames import judgment_frame
from analysis.simulation import SimulationParams, simulate_campaign
from analysis.stats.tiebreak import rubric_state
from annotation.models import Project

pytestmark = pytest.mark.django_db(transaction=True)

SIM = {"comparisons": 3000, "annotators": 12, "seed": 1}
PLANTED = {"rubric_tie_share": 0.6, "left_bias": 0.15}
# Near-duplicates the built-in extractors produce: with every feature, the collinearity
# guard keeps the default set's column of each concept and drops these.
NEAR_DUPLICATES = {"length.chars": "length.words", "length.tokens": "length.words"}
NEAR_DUPLICATES |= {"flattery.rate": "flattery.count"}

CONTRACT_KEYS = {
    "project",
    "n_judgments",
    "n_comparisons",
    "n_annotators",
    "n_ties",
    "has_rubric",
    "style_only",
    "style_effects",
    "rubric_effects",
    "model",
    "tiebreak",
    "importance",
    "position",
    "agreement",
    "annotators",
    "leaderboard",
    "descriptives",
    "normalisation",
    "feature_scales",
    "feature_kinds",
    "dropped_features",
    "correction",
    "params",
    "warnings",
}


def implied_share(frame, campaign, feature: str) -> tuple[float, int]:
    """The planted probability that the response with more of ``feature`` wins a rubric tie.

    Over the rows the model-free tie-break share counts (non-tie outcome, rubric answers all
    tied, the extracted feature differs): the simulator picks the more sycophantic response
    with the annotator's probability p (1/2 when equally sycophantic), then with
    ``left_bias`` replaces the choice by the left response. So the row's expected indicator
    is ``(1 - lambda) q + lambda [left has more]`` with q = p, 1 - p or 1/2.
    """
    truth = campaign.truth
    lam = truth["params"]["left_bias"]
    a = frame[f"a.{feature}"].to_numpy()
    b = frame[f"b.{feature}"].to_numpy()
    rows = (
        (rubric_state(frame).to_numpy() == "tied")
        & frame["outcome"].isin(["a", "b"]).to_numpy()
        & (a != b)
    )
    total = 0.0
    for i in np.flatnonzero(rows):
        style = truth["comparisons"][frame["comparison"].iat[i]]["style"]
        sycophancy = style["a"]["sycophancy"] - style["b"]["sycophancy"]
        more = "a" if a[i] > b[i] else "b"
        p = truth["annotators"][frame["annotator"].iat[i]]["tie_break_probability"]
        if sycophancy == 0:
            q = 0.5
        else:
            q = p if (sycophancy > 0) == (more == "a") else 1.0 - p
        total += (1 - lam) * q + lam * (frame["left"].iat[i] == more)
    return total / rows.sum(), int(rows.sum())


def test_simulate_extract_analyze_recovers_the_planted_effects(tmp_path):
    started = time.perf_counter()
    out = io.StringIO()
    call_command(
        "simulate",
        "pipeline",
        "--comparisons",
        str(SIM["comparisons"]),
        "--annotators",
        str(SIM["annotators"]),
        "--seed",
        str(SIM["seed"]),
        "--rubric-tie-share",
        str(PLANTED["rubric_tie_share"]),
        "--left-bias",
        str(PLANTED["left_bias"]),
        stdout=out,
    )
    printed = out.getvalue()
    assert "Planted truth" in printed and "<- swayed" in printed
    project = Project.objects.get(slug="pipeline")
    # Features were extracted automatically once the import committed.
    job = FeatureJob.objects.get(project=project)
    assert job.status == JobStatus.SUCCEEDED and job.total == 2 * SIM["comparisons"]
    simulated = time.perf_counter()

    # The default analysis (no --features): TIEBREAK_ANALYSIS_FEATURES, one per concept.
    json_path, html_path = tmp_path / "out.json", tmp_path / "report.html"
    call_command(
        "analyze",
        "pipeline",
        "--output",
        str(json_path),
        "--html",
        str(html_path),
        stdout=io.StringIO(),
    )
    all_path = tmp_path / "all.json"
    call_command(
        "analyze", "pipeline", "--output", str(all_path), "--features", "all", stdout=io.StringIO()
    )
    analysed = time.perf_counter()

    result = json.loads(json_path.read_text())
    assert set(result) == CONTRACT_KEYS
    assert result["project"] == "pipeline"
    assert result["n_judgments"] == 3 * SIM["comparisons"]
    assert result["n_comparisons"] == SIM["comparisons"]
    assert result["n_annotators"] == SIM["annotators"]
    assert result["has_rubric"] is True and result["style_only"] is False
    assert AnalysisRun.objects.filter(project=project, status=JobStatus.SUCCEEDED).count() == 2
    html = html_path.read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html and "<style>" in html
    assert result["params"]["feature_set"] == "default"
    assert result["params"]["features"] == settings.TIEBREAK_ANALYSIS_FEATURES

    # Main model: flattery and agreement win more often, holding the rubric fixed.
    effects = {e["feature"]: e for e in result["style_effects"]}
    assert set(effects) <= set(settings.TIEBREAK_ANALYSIS_FEATURES)
    for feature in ("flattery.count", "agreement"):
        effect = effects[feature]
        assert effect["coef"] > 0 and effect["ci_low"] > 1.0, effect
        assert effect["p_adjusted"] < 0.05, effect
    # Nothing was planted on emojis, length or markdown.
    for feature in ("emojis", "length.words", "markdown.headers"):
        assert effects[feature]["p_adjusted"] > 0.05, effects[feature]
    # Every default feature is either estimated or listed as dropped, with its reason.
    dropped = {d["feature"]: d for d in result["dropped_features"]}
    assert set(effects) | set(dropped) == set(settings.TIEBREAK_ANALYSIS_FEATURES)
    assert dropped["markdown.bold"]["reason"] == "collinear"  # simulated bold = headers
    assert "'markdown.headers'" in dropped["markdown.bold"]["detail"]
    assert any("'markdown.bold'" in w for w in result["warnings"])

    # Every feature: the guard drops the near-duplicates, and the answer does not change.
    everything = json.loads(all_path.read_text())
    assert everything["params"]["feature_set"] == "all"
    all_dropped = {d["feature"]: d for d in everything["dropped_features"]}
    for duplicate, kept in NEAR_DUPLICATES.items():
        assert all_dropped[duplicate]["reason"] == "collinear", all_dropped[duplicate]
        assert f"'{kept}'" in all_dropped[duplicate]["detail"]
    assert {e["feature"]: e["coef"] for e in everything["style_effects"]} == {
        f: e["coef"] for f, e in effects.items()
    }

    # Model-free tie-breaking: the planted probability lies inside the Wilson interval.
    campaign = simulate_campaign(**SIM, params=SimulationParams(**PLANTED))
    frame = judgment_frame(project=project)
    tiebreak = {t["feature"]: t for t in result["tiebreak"]}
    flattery = tiebreak["flattery.count"]
    expected, n = implied_share(frame, campaign, "flattery.count")
    assert flattery["tied_n"] == n
    assert flattery["tied_share_higher_wins"] > 0.5 and flattery["tied_ci_low"] > 0.5
    assert flattery["tied_ci_low"] <= expected <= flattery["tied_ci_high"], (expected, flattery)
    assert tiebreak["flattery.count"]["diff"] > 0 and tiebreak["flattery.count"]["diff_ci_low"] > 0

    # Position: planted left bias 0.15 → the left response wins 0.5 + 0.15 / 2 of choices.
    position = result["position"]
    assert position["share_left_wins"] > 0.5 and position["ci_low"] > 0.5
    assert position["ci_low"] <= 0.5 + PLANTED["left_bias"] / 2 <= position["ci_high"]

    # The two planted highly-swayed annotators are ranked on top, and only they are flagged.
    swayed = {a for a, info in campaign.truth["annotators"].items() if info["swayed"]}
    ranked = [a["annotator"] for a in result["annotators"]]
    assert set(ranked[:2]) == swayed, result["annotators"][:3]
    flagged = {a["annotator"] for a in result["annotators"] if a["flagged"]}
    assert flagged and flagged <= swayed

    print(
        f"\npipeline: simulate+import+features {simulated - started:.1f}s, "
        f"two analyses {analysed - simulated:.1f}s; flattery tie-break share "
        f"{flattery['tied_share_higher_wins']:.3f} [{flattery['tied_ci_low']:.3f}, "
        f"{flattery['tied_ci_high']:.3f}] vs planted {expected:.3f} (n={n})"
    )
