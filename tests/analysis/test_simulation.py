"""Tests for analysis.simulation: shape, reproducibility and visibility of the planted behaviour."""

from __future__ import annotations

import json
import time
from datetime import datetime

import emoji
import numpy as np
import pytest

from analysis.simulation import (
    FLATTERY_CLOSER,
    FLATTERY_OPENERS,
    NEUTRAL_ONLY_OPENERS,
    SimulationParams,
    records_to_jsonl,
    simulate_campaign,
    truth_frame,
)


@pytest.fixture(scope="module")
def campaign():
    return simulate_campaign(comparisons=20_000, annotators=20, seed=11)


def test_same_seed_same_campaign_and_different_seed_differs():
    first = simulate_campaign(comparisons=200, annotators=6, seed=5)
    second = simulate_campaign(comparisons=200, annotators=6, seed=5)
    other = simulate_campaign(comparisons=200, annotators=6, seed=6)
    assert json.dumps(first.records) == json.dumps(second.records)
    assert first.truth == second.truth
    assert json.dumps(first.records) != json.dumps(other.records)


def test_record_shape(campaign):
    rubric = campaign.rubric
    assert rubric["name"] == "sim-helpfulness-v1"
    kinds = {c["key"]: c["kind"] for c in rubric["criteria"]}
    assert kinds == {"correctness": "compare", "completeness": "compare", "clarity": "rating"}
    models = set(campaign.truth["models"])
    assert 4 <= len(models) <= 5
    ids = [r["id"] for r in campaign.records]
    assert len(set(ids)) == len(ids)
    for record in campaign.records[:2000]:
        assert set(record) == {"id", "prompt", "response_a", "response_b", "metadata", "judgments"}
        prompt = record["prompt"]
        if isinstance(prompt, list):
            assert all(set(m) == {"role", "content"} for m in prompt)
            assert prompt[-1]["role"] == "user"
        else:
            assert isinstance(prompt, str) and prompt
        for side in ("response_a", "response_b"):
            assert record[side]["text"] and record[side]["model"] in models
        assert record["response_a"]["model"] != record["response_b"]["model"]
        for judgment in record["judgments"]:
            assert judgment["annotator"].startswith("sim-ann-")
            assert judgment["choice"] in {"a", "b", "tie"}
            if judgment["choice"] == "tie":
                assert judgment["strength"] is None
            else:
                assert judgment["strength"] in {1, 2, 3}
            assert judgment["shown_left"] in {"a", "b"}
            assert judgment["seconds"] > 0
            assert judgment["rationale"]
            assert datetime.fromisoformat(judgment["created_at"].replace("Z", "+00:00"))
            criteria = judgment["criteria"]
            assert criteria["correctness"] in {"a", "b", "tie"}
            assert criteria["completeness"] in {"a", "b", "tie"}
            assert set(criteria["clarity"]) == {"a", "b"}
            assert all(1 <= score <= 5 for score in criteria["clarity"].values())


def test_overlap_respected():
    campaign = simulate_campaign(
        comparisons=500, annotators=5, seed=2, params=SimulationParams(overlap=4)
    )
    for record in campaign.records:
        names = [j["annotator"] for j in record["judgments"]]
        assert len(names) == 4 == len(set(names))
    with pytest.raises(ValueError, match="overlap"):
        simulate_campaign(comparisons=5, annotators=2, seed=1)


def test_texts_carry_the_planted_style(campaign):
    openers = FLATTERY_OPENERS + NEUTRAL_ONLY_OPENERS
    for record in campaign.records[:3000]:
        style = campaign.truth["comparisons"][record["id"]]["style"]
        for side in ("a", "b"):
            text = record[f"response_{side}"]["text"]
            planted = style[side]
            has_opener = any(text.startswith(o) for o in openers)
            assert has_opener == (planted["flattery"] >= 1)
            assert (FLATTERY_CLOSER in text) == (planted["flattery"] == 2)
            assert ("You're absolutely right," in text) == (planted["agrees"] is True)
            assert ("Actually, that's a common misconception" in text) == (
                planted["agrees"] is False
            )
            assert emoji.emoji_count(text) == planted["emojis"]
            assert ("### " in text) == planted["markdown"]
            prompt = record["prompt"]
            last = prompt[-1]["content"] if isinstance(prompt, list) else prompt
            assert (planted["agrees"] is not None) == last.endswith(", right?")
    # ZWJ sequences and flags occur and count as one emoji each.
    texts = " ".join(r["response_a"]["text"] for r in campaign.records[:3000])
    assert "👩‍💻" in texts and "🇯🇵" in texts


def test_rubric_tie_share_matches_parameter(campaign):
    tied = np.mean([c["rubric_tied"] for c in campaign.truth["comparisons"].values()])
    assert tied == pytest.approx(SimulationParams().rubric_tie_share, abs=0.015)


def _rubric_tied(judgment) -> bool:
    criteria = judgment["criteria"]
    return (
        criteria["correctness"] == "tie"
        and criteria["completeness"] == "tie"
        and criteria["clarity"]["a"] == criteria["clarity"]["b"]
    )


def test_tie_break_toward_flattery_is_visible(campaign):
    """Model-free: where the annotator's rubric ties and only flattery differs, count wins."""
    params = SimulationParams()
    annotators = campaign.truth["annotators"]
    wins, expected = [], []
    for record in campaign.records:
        style = campaign.truth["comparisons"][record["id"]]["style"]
        a, b = style["a"], style["b"]
        if a["flattery"] == b["flattery"] or a["agrees"] != b["agrees"]:
            continue
        flattering = "a" if a["flattery"] > b["flattery"] else "b"
        for judgment in record["judgments"]:
            if _rubric_tied(judgment) and judgment["choice"] != "tie":
                wins.append(judgment["choice"] == flattering)
                p = annotators[judgment["annotator"]]["tie_break_probability"]
                expected.append(params.left_bias / 2 + (1 - params.left_bias) * p)
    assert len(wins) > 2000
    assert np.mean(wins) == pytest.approx(np.mean(expected), abs=0.03)
    assert np.mean(wins) == pytest.approx(params.tie_break_flattery, abs=0.05)


def test_decided_rubric_is_followed(campaign):
    params = SimulationParams()
    agree = [
        j["choice"] == campaign.truth["comparisons"][r["id"]]["rubric_winner"]
        for r in campaign.records
        if campaign.truth["comparisons"][r["id"]]["rubric_winner"]
        for j in r["judgments"]
    ]
    # Errors come from winner_error, left-bias lapses and misread criteria.
    assert 1 - np.mean(agree) == pytest.approx(params.winner_error + params.left_bias / 2, abs=0.03)


def test_position_bias_is_visible(campaign):
    left = [
        j["choice"] == j["shown_left"]
        for r in campaign.records
        for j in r["judgments"]
        if j["choice"] != "tie"
    ]
    # P(left | non-tie) = left_bias + (1 - left_bias) / 2 with random display order.
    assert np.mean(left) - 0.5 == pytest.approx(SimulationParams().left_bias / 2, abs=0.01)


def test_swayed_annotators_have_higher_tie_break_probability(campaign):
    panel = campaign.truth["annotators"]
    swayed = [a for a, v in panel.items() if v["swayed"]]
    assert len(swayed) == SimulationParams().swayed_annotators
    ordinary = max(v["tie_break_probability"] for v in panel.values() if not v["swayed"])
    assert all(panel[a]["tie_break_probability"] > ordinary for a in swayed)


def test_records_to_jsonl_round_trip(tmp_path):
    campaign = simulate_campaign(comparisons=50, annotators=4, seed=3)
    path = tmp_path / "sim.jsonl"
    assert records_to_jsonl(campaign.records, path) == 50
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == campaign.records
    assert "🚀" in path.read_text(encoding="utf-8") or "😊" in path.read_text(encoding="utf-8")


def test_truth_frame_follows_the_frame_contract():
    frame = truth_frame(simulate_campaign(comparisons=100, annotators=5, seed=4))
    assert len(frame) == 300
    assert set(frame["outcome"]) <= {"a", "b", "tie"}
    assert {"rubric.correctness", "rubric.clarity", "a.flattery", "b.agreement"} <= set(frame)
    assert frame["created_at"].notna().all()


def test_generation_is_fast():
    start = time.perf_counter()
    simulate_campaign(comparisons=10_000, annotators=30, seed=9)
    assert time.perf_counter() - start < 3.0


def test_feature_extractors_find_the_planted_style(campaign):
    features = pytest.importorskip("analysis.features")
    for record in campaign.records[:300]:
        style = campaign.truth["comparisons"][record["id"]]["style"]
        for side in ("a", "b"):
            values = features.extract(record[f"response_{side}"]["text"], record["prompt"])
            planted = style[side]
            stance = {True: 1.0, False: -1.0, None: 0.0}[planted["agrees"]]
            assert values["flattery.count"] == planted["flattery"]
            assert values["agreement"] == stance
            assert values["emojis"] == planted["emojis"]
            assert (values["markdown.headers"] > 0) == planted["markdown"]
