"""The frame loader: a project's judgments as the judgment frame of analysis.stats.frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.features import extract, feature_keys
from analysis.models import FeatureValue
from analysis.services.features import feature_job_enqueue
from analysis.services.frames import FeaturesMissing, judgment_frame
from analysis.services.simulate import simulated_project_create
from analysis.simulation import truth_frame
from analysis.stats.design import position_term
from annotation.models import Criterion, CriterionAnswer, Judgment, JudgmentSource, Rubric
from annotation.services.assignment import assignment_next
from annotation.services.judgments import judgment_submit
from tests.factories import ComparisonFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE_COLUMNS = ["outcome", "left", "annotator", "comparison", "created_at", "model_a", "model_b"]


@pytest.fixture
def simulated(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return simulated_project_create(slug="sim", comparisons=40, annotators=5, seed=3)


def test_simulated_import_matches_the_simulators_own_frame(simulated):
    frame = judgment_frame(project=simulated.project)
    truth = truth_frame(simulated.campaign)
    keys = feature_keys()
    assert list(frame.columns) == [
        *BASE_COLUMNS,
        "rubric.correctness",
        "rubric.completeness",
        "rubric.clarity",
        *[f"a.{k}" for k in keys],
        *[f"b.{k}" for k in keys],
    ]
    assert isinstance(frame.index, pd.RangeIndex) and len(frame) == len(truth) == 120
    for column in [*BASE_COLUMNS, "rubric.correctness", "rubric.completeness", "rubric.clarity"]:
        assert frame[column].tolist() == truth[column].tolist(), column
    assert str(frame["created_at"].dt.tz) == "UTC"
    # Features are the stored values, i.e. what extract() gives for each response.
    judgments_per_record = [len(r["judgments"]) for r in simulated.campaign.records]
    for side in ("a", "b"):
        expected = pd.DataFrame(
            [
                extract(r[f"response_{side}"]["text"], prompt=r["prompt"])
                for r, n in zip(simulated.campaign.records, judgments_per_record, strict=True)
                for _ in range(n)
            ]
        )
        for key in keys:
            np.testing.assert_allclose(frame[f"{side}.{key}"], expected[key], err_msg=key)


def test_member_judgments_use_username_display_side_and_rubric_kinds(
    django_capture_on_commit_callbacks,
):
    project = ProjectFactory(slug="members", overlap=1)
    ComparisonFactory(project=project, external_id="pair-1")
    user = UserFactory(username="alice")
    MembershipFactory(project=project, user=user)
    with django_capture_on_commit_callbacks(execute=True):
        feature_job_enqueue(project=project)
    assignment = assignment_next(project=project, annotator=user)
    left = assignment.shown_left
    judgment_submit(
        assignment=assignment,
        annotator=user,
        choice="left",
        strength=2,
        criteria={"correctness": "tie", "clarity": {"left": 5, "right": 2}},
        source=JudgmentSource.UI,
    )
    frame = judgment_frame(project=project)
    row = frame.iloc[0]
    assert row["annotator"] == "alice"
    assert row["comparison"] == "pair-1"
    assert row["left"] == left
    assert row["outcome"] == left  # chose the left response, stored canonically
    assert row["rubric.correctness"] == 0.0
    assert row["rubric.clarity"] == (3.0 if left == "a" else -3.0)
    assert (row["model_a"], row["model_b"]) == ("model-x", "model-y")
    # The factory's response b says "Great question! ... 😀": more flattery and emoji.
    assert row["b.emojis"] > row["a.emojis"]


def test_unknown_display_side_and_unanswered_criteria(django_capture_on_commit_callbacks):
    project = ProjectFactory(slug="imported")
    comparison = ComparisonFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        feature_job_enqueue(project=project)
    Judgment.objects.create(
        comparison=comparison,
        external_annotator="rater-7",
        choice="b",
        source=JudgmentSource.IMPORT,
        created_at="2025-01-02T03:04:05Z",
    )
    frame = judgment_frame(project=project)
    assert frame["annotator"].tolist() == ["rater-7"]
    assert frame["left"].isna().all()
    assert position_term(frame).tolist() == [0.0]
    assert frame["rubric.correctness"].isna().all() and frame["rubric.clarity"].isna().all()
    assert frame["created_at"].iloc[0] == pd.Timestamp("2025-01-02T03:04:05Z")


def test_answers_under_an_older_rubric_version_map_by_key(django_capture_on_commit_callbacks):
    project = ProjectFactory(slug="versions")
    old = project.rubric
    comparison = ComparisonFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        feature_job_enqueue(project=project)
    judgment = Judgment.objects.create(
        comparison=comparison,
        external_annotator="r1",
        rubric=old,
        choice="a",
        shown_left="a",
        source=JudgmentSource.IMPORT,
        created_at="2025-01-01T00:00:00Z",
    )
    old_correctness = old.criteria.get(key="correctness")
    CriterionAnswer.objects.create(judgment=judgment, criterion=old_correctness, choice="b")
    old_clarity = old.criteria.get(key="clarity")
    CriterionAnswer.objects.create(
        judgment=judgment, criterion=old_clarity, score_a=2, score_b=4, scale_min=1, scale_max=5
    )
    new = Rubric.objects.create(name=old.name, version=2, previous=old)
    Criterion.objects.create(rubric=new, key="correctness", label="C", kind="compare", position=0)
    Criterion.objects.create(rubric=new, key="safety", label="S", kind="compare", position=1)
    project.rubric = new
    project.save(update_fields=["rubric"])

    frame = judgment_frame(project=project)
    assert [c for c in frame.columns if c.startswith("rubric.")] == [
        "rubric.correctness",
        "rubric.safety",
    ]
    assert frame["rubric.correctness"].tolist() == [-1.0]
    assert frame["rubric.safety"].isna().all()  # not asked under v1; clarity is gone


def test_missing_features_raise_a_clear_error_or_are_computed():
    project = ProjectFactory(slug="nofeatures")
    comparison = ComparisonFactory(project=project)
    Judgment.objects.create(
        comparison=comparison,
        external_annotator="r1",
        choice="a",
        source=JudgmentSource.IMPORT,
        created_at="2025-01-01T00:00:00Z",
    )
    with pytest.raises(FeaturesMissing) as excinfo:
        judgment_frame(project=project)
    message = str(excinfo.value)
    assert "2 of the 2 judged responses" in message
    assert "extract_features nofeatures" in message

    frame = judgment_frame(project=project, missing_features="compute")
    expected = extract(comparison.response_b.text, prompt=comparison.prompt.messages)
    for key, value in expected.items():
        assert frame[f"b.{key}"].iloc[0] == pytest.approx(value)
    assert not FeatureValue.objects.exists()  # computed, not stored


def test_a_stored_null_value_is_not_missing_work(django_capture_on_commit_callbacks):
    project = ProjectFactory(slug="nulls")
    comparison = ComparisonFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        feature_job_enqueue(project=project)
    Judgment.objects.create(
        comparison=comparison,
        external_annotator="r1",
        choice="a",
        source=JudgmentSource.IMPORT,
        created_at="2025-01-01T00:00:00Z",
    )
    row = FeatureValue.objects.get(response=comparison.response_a, extractor="emojis")
    row.values = {"": None}
    row.save(update_fields=["values"])
    frame = judgment_frame(project=project)
    assert np.isnan(frame["a.emojis"].iloc[0])


def test_project_without_judgments_gives_an_empty_frame_with_the_columns():
    project = ProjectFactory(slug="empty")
    ComparisonFactory(project=project)
    frame = judgment_frame(project=project)
    assert len(frame) == 0
    assert list(frame.columns[:7]) == BASE_COLUMNS
    assert "rubric.correctness" in frame.columns and f"a.{feature_keys()[0]}" in frame.columns
