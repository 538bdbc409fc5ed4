"""The weekly headline and trend on simulated frames: planted tie-breaking is named, null
data gets "no clear evidence", and every claim carries its numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from analysis.stats.analyze import analyze
from analysis.stats.synthetic import simulate_frame
from analysis.weekly.headline import headline, tiebreakers
from analysis.weekly.trend import models_known, split_by_week, trend_summaries, week_summary
from analysis.weekly.weeks import shift_week, week_bounds

NULL_STYLE = {"flattery": 0.0, "emojis": 0.0, "length.words": 0.0, "agreement": 0.0}


def _frame(seed: int, *, tied: dict[str, float] | None, n: int = 1500) -> pd.DataFrame:
    frame, _ = simulate_frame(
        n_comparisons=n,
        n_annotators=30,
        overlap=2,
        beta_style=NULL_STYLE,
        beta_style_tied=tied or NULL_STYLE,
        rubric_tie_rate=0.4,
        seed=seed,
    )
    return frame


def _headline(frame: pd.DataFrame, previous=None):
    result = analyze(frame, sections=["main_model", "tiebreak"]).to_dict()
    return headline(
        week="2026-W47",
        span="Mon 16 Nov – Sun 22 Nov 2026",
        time_zone="Europe/Berlin",
        result=result,
        previous=previous,
    )


def test_a_planted_flattery_tie_breaker_is_named_with_its_numbers():
    frame = _frame(1, tied={**NULL_STYLE, "flattery": 1.2})
    last_week = week_summary(
        "2026-W46",
        *week_bounds("2026-W46", "UTC"),
        analyze(_frame(2, tied=None), sections=["main_model", "tiebreak"]).to_dict(),
    )
    head = _headline(frame, previous=last_week)
    assert head.verdict == "tiebreaker"
    assert head.tiebreakers[0] == "flattery"
    first = head.sentences[0]
    assert first.startswith(
        "Style acted as a tie-breaker this week: when the rubric was tied, the more "
        "flattering response won "
    )
    # The share, its interval, n and last week's share, as numbers.
    assert "% [" in first and "tied judgments (last week " in first
    share = last_week["tiebreak"]["flattery"]["tied_share_higher_wins"]
    assert f"(last week {100 * share:.0f}%)" in first
    assert "Based on 3,000 judgments" in head.text


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_null_data_gets_no_clear_evidence(seed):
    head = _headline(_frame(seed, tied=None))
    assert head.verdict == "no_clear_evidence", head.text
    assert head.tiebreakers == []
    assert head.sentences[0].startswith("No clear evidence that style broke rubric ties")
    assert "within chance of 50%" in head.sentences[0]
    assert "no earlier week to compare with" in head.sentences[0]


def test_a_tiebreaker_needs_the_corrected_test_not_only_the_interval():
    # Each interval excludes 50% barely; with 12 features, Holm's correction says no.
    table = [
        {
            "feature": f"f{i}",
            "tied_n": 100,
            "tied_share_higher_wins": 0.6,
            "tied_ci_low": 0.502,
            "tied_ci_high": 0.69,
        }
        for i in range(12)
    ]
    tested = tiebreakers(table)
    assert len(tested) == 12 and not any(t.acts for t in tested)
    # A strong one among them still counts.
    table[3] = {**table[3], "tied_share_higher_wins": 0.8, "tied_ci_low": 0.71}
    acting = [t.feature for t in tiebreakers(table) if t.acts]
    assert acting == ["f3"]


def test_less_of_a_feature_winning_is_said_that_way():
    table = [
        {
            "feature": "length.words",
            "tied_n": 400,
            "tied_share_higher_wins": 0.3,
            "tied_ci_low": 0.26,
            "tied_ci_high": 0.35,
        }
    ]
    head = headline(
        week="2026-W47",
        span="…",
        time_zone="UTC",
        result={"n_judgments": 900, "n_annotators": 9, "tiebreak": table, "style_effects": []},
        previous=None,
    )
    assert head.verdict == "tiebreaker"
    assert "the shorter response won 70% [65%, 74%] of 400 tied judgments" in head.text


def test_empty_week_says_so_with_last_weeks_volume():
    previous = {"week": "2026-W46", "n_judgments": 1234}
    head = headline(
        week="2026-W47",
        span="Mon 16 Nov – Sun 22 Nov 2026",
        time_zone="Europe/Berlin",
        result=None,
        previous=previous,
    )
    assert head.verdict == "no_judgments"
    assert head.text == (
        "No judgments were recorded in 2026-W47 (Mon 16 Nov – Sun 22 Nov 2026, "
        "Europe/Berlin). The week before had 1,234 judgments."
    )


def test_style_only_data_does_not_claim_tie_breaking():
    frame, _ = simulate_frame(800, 20, beta_rubric={}, seed=6)
    head = _headline(frame)
    assert head.verdict == "style_only"
    assert "cannot be measured" in head.sentences[0]


def test_trend_splits_a_frame_into_weeks_and_summarises_each():
    frame = _frame(7, tied={**NULL_STYLE, "flattery": 1.2}, n=1200)
    weeks = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    windows = [(w, *week_bounds(w, "Europe/Berlin")) for w in weeks]
    # Spread the judgments over the first three weeks; W47 stays empty.
    start = windows[0][1].astimezone(UTC)
    span = (windows[2][2] - windows[0][1]).total_seconds()
    frame["created_at"] = pd.to_datetime(start) + pd.to_timedelta(
        (frame.index.to_numpy() / len(frame)) * span, unit="s"
    )
    split = split_by_week(frame, windows)
    assert sum(len(f) for f in split.values()) == len(frame)
    assert len(split["2026-W47"]) == 0
    trend = trend_summaries(split, windows, features=None)
    assert [t["week"] for t in trend] == weeks
    assert [t["n_judgments"] for t in trend] == [len(split[w]) for w in weeks]
    assert trend[-1]["n_judgments"] == 0 and trend[-1]["tiebreak"] == {}
    for entry in trend[:3]:
        tb = entry["tiebreak"]["flattery"]
        assert tb["tied_n"] > 0 and tb["tied_ci_low"] <= tb["tied_share_higher_wins"]
        assert entry["style"]["flattery"]["ci_low"] <= entry["style"]["flattery"]["odds_ratio"]
    assert models_known(frame)
    assert shift_week(weeks[0], 3) == weeks[-1]
    assert datetime.fromisoformat(trend[0]["start"]) == windows[0][1]
