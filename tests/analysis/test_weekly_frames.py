"""``judgment_frame`` with a ``created_at`` window: the rows, answers and features of the
window only, exactly what filtering the whole frame would give."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from analysis.services.frames import FeaturesMissing, judgment_frame
from analysis.stats.frame import CREATED_AT
from annotation.models import Judgment
from tests.analysis.test_weekly_reports import simulated

pytestmark = pytest.mark.django_db

FROM = datetime(2026, 9, 14, tzinfo=UTC)
BEFORE = datetime(2026, 9, 28, 12, tzinfo=UTC)


@pytest.fixture
def sim(django_capture_on_commit_callbacks):
    return simulated(django_capture_on_commit_callbacks, "win", comparisons=120)


def test_window_equals_filtering_the_whole_frame(sim):
    whole = judgment_frame(project=sim)
    created = pd.to_datetime(whole[CREATED_AT], utc=True)
    expected = whole[(created >= FROM) & (created < BEFORE)].reset_index(drop=True)
    window = judgment_frame(project=sim, created_from=FROM, created_before=BEFORE)
    assert 0 < len(window) < len(whole)
    pd.testing.assert_frame_equal(window, expected)
    assert len(window) == (
        Judgment.objects.filter(
            comparison__project=sim, created_at__gte=FROM, created_at__lt=BEFORE
        ).count()
    )


def test_open_ended_and_empty_windows(sim):
    whole = judgment_frame(project=sim)
    created = pd.to_datetime(whole[CREATED_AT], utc=True)
    after = judgment_frame(project=sim, created_from=FROM)
    assert len(after) == int((created >= FROM).sum())
    before = judgment_frame(project=sim, created_before=FROM)
    assert len(before) + len(after) == len(whole)
    empty = judgment_frame(project=sim, created_from=datetime(2030, 1, 1, tzinfo=UTC))
    assert len(empty) == 0 and list(empty.columns) == list(whole.columns)


def test_naive_bounds_are_refused(sim):
    with pytest.raises(ValueError, match="created_from must be an aware datetime"):
        judgment_frame(project=sim, created_from=datetime(2026, 9, 14))


def test_features_are_checked_for_the_window_only(django_capture_on_commit_callbacks):
    project = simulated(
        django_capture_on_commit_callbacks, "nofeat", comparisons=40, start_features=False
    )
    with pytest.raises(FeaturesMissing):
        judgment_frame(project=project, created_from=FROM, created_before=BEFORE)
    # A window without judgments needs no features.
    later = judgment_frame(project=project, created_from=datetime(2030, 1, 1, tzinfo=UTC))
    assert len(later) == 0


def test_a_window_reads_the_stored_features_of_its_judged_responses_only(sim, monkeypatch):
    import analysis.services.frames as frames
    from annotation.models import Comparison

    asked: list = []

    def spy(**kwargs):
        asked.append(kwargs.get("response_ids"))
        return feature_values_frame(**kwargs)

    feature_values_frame = frames.feature_values_frame
    monkeypatch.setattr(frames, "feature_values_frame", spy)
    judgment_frame(project=sim)
    judgment_frame(project=sim, created_from=FROM, created_before=BEFORE)

    judged = Comparison.objects.filter(
        judgments__created_at__gte=FROM, judgments__created_at__lt=BEFORE, project=sim
    ).values_list("response_a_id", "response_b_id")
    expected = sorted({rid for pair in judged for rid in pair})
    assert asked[0] is None  # the whole project: every stored value, one scan
    assert sorted(asked[1]) == expected and len(expected) < sim.responses.count()
