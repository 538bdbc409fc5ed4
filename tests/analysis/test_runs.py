"""Analysis runs: lifecycle, stored result and HTML, errors, parameters, the commands."""

from __future__ import annotations

import io
import json
from dataclasses import fields

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from analysis.management.commands.simulate import PARAM_OPTIONS
from analysis.models import AnalysisRun, JobStatus
from analysis.report import ChartRow, Marker, interval_chart
from analysis.services.runs import (
    analysis_params_check,
    analysis_run_create,
    analysis_run_enqueue,
    analysis_run_execute,
    analysis_run_now,
)
from analysis.services.simulate import simulated_project_create
from analysis.simulation import SimulationParams
from annotation.models import Judgment, JudgmentSource
from tests.factories import ComparisonFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim_project(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return simulated_project_create(slug="runs", comparisons=150, annotators=6, seed=5).project


def test_run_now_stores_the_result_and_a_standalone_report(sim_project):
    run = analysis_run_now(project=sim_project)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.finished_at is not None and run.error == ""
    assert run.result["project"] == "runs"
    assert run.result["n_judgments"] == 450
    assert run.params["alpha"] == 0.05 and run.params["correction"] == "holm"
    html = run.html
    assert html.startswith("<!doctype html>")
    assert "<style>" in html and ".chart .dot" in html  # report.css inlined
    assert html.count("<svg") >= 4  # style, tie-break, position, annotators, leaderboard
    assert "<script" not in html


def test_executing_again_overwrites_the_runs_own_result(sim_project):
    run = analysis_run_now(project=sim_project, params={"sections": ["position"]})
    AnalysisRun.objects.filter(pk=run.pk).update(result={"stale": True}, html="old")
    again = analysis_run_execute(run_id=run.pk)
    assert again.pk == run.pk and again.status == JobStatus.SUCCEEDED
    assert again.result["position"]["n"] > 0 and "stale" not in again.result
    assert AnalysisRun.objects.count() == 1


def test_enqueue_runs_through_celery_after_commit(sim_project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = analysis_run_enqueue(project=sim_project, params={"sections": ["descriptives"]})
    assert run.status == JobStatus.PENDING and len(callbacks) == 1
    callbacks[0]()  # what commit does: run_analysis.delay (eager here)
    run.refresh_from_db()
    assert run.status == JobStatus.SUCCEEDED
    assert run.result["descriptives"] is not None


def test_no_judgments_fails_with_a_clear_message():
    project = ProjectFactory(slug="quiet")
    ComparisonFactory(project=project)
    run = analysis_run_now(project=project)
    assert run.status == JobStatus.FAILED
    assert "no judgments yet" in run.error and run.result is None


def test_missing_features_fail_the_run_and_say_what_to_do():
    project = ProjectFactory(slug="raw")
    comparison = ComparisonFactory(project=project)
    Judgment.objects.create(
        comparison=comparison,
        external_annotator="r1",
        choice="a",
        source=JudgmentSource.IMPORT,
        created_at="2025-01-01T00:00:00Z",
    )
    run = analysis_run_now(project=project)
    assert run.status == JobStatus.FAILED
    assert "extract_features raw" in run.error


def test_unknown_feature_fails_the_run(sim_project):
    run = analysis_run_now(project=sim_project, params={"features": ["sparkle"]})
    assert run.status == JobStatus.FAILED
    assert "unknown style features: sparkle" in run.error


# --- which style features ------------------------------------------------------------------


def test_default_analysis_features_are_used_when_the_run_names_none(sim_project, settings):
    run = analysis_run_now(project=sim_project)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.params["features"] is None
    assert run.result["params"]["feature_set"] == "default"
    assert run.result["params"]["features"] == settings.TIEBREAK_ANALYSIS_FEATURES
    analysed = {e["feature"] for e in run.result["style_effects"]}
    analysed |= {d["feature"] for d in run.result["dropped_features"]}
    assert analysed == set(settings.TIEBREAK_ANALYSIS_FEATURES)
    assert not analysed & {"length.chars", "length.tokens", "flattery.rate"}


def test_default_features_the_project_lacks_are_ignored_with_a_warning(sim_project, settings):
    settings.TIEBREAK_ANALYSIS_FEATURES = ["flattery.count", "sparkle", "agreement", "glitter"]
    run = analysis_run_now(project=sim_project)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.result["params"]["features"] == ["flattery.count", "agreement"]
    assert {e["feature"] for e in run.result["style_effects"]} == {"flattery.count", "agreement"}
    warning = run.result["warnings"][0]
    assert "TIEBREAK_ANALYSIS_FEATURES" in warning and "ignored: sparkle, glitter" in warning

    settings.TIEBREAK_ANALYSIS_FEATURES = ["sparkle"]
    run = analysis_run_now(project=sim_project)
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert "length.chars" in run.result["params"]["features"]
    assert any("every style feature is analysed" in w for w in run.result["warnings"])


def test_all_features_lists_the_default_ones_first(sim_project, settings):
    for features in ("all", ["all"]):
        run = analysis_run_now(project=sim_project, params={"features": features})
        assert run.status == JobStatus.SUCCEEDED, run.error
        assert run.params["features"] == "all"
        used = run.result["params"]["features"]
        assert run.result["params"]["feature_set"] == "all"
        assert used[: len(settings.TIEBREAK_ANALYSIS_FEATURES)] == (
            settings.TIEBREAK_ANALYSIS_FEATURES
        )
        assert {"length.chars", "length.tokens", "flattery.rate"} <= set(used)
        # The collinearity guard keeps length.words, the default set's length column.
        dropped = {d["feature"]: d for d in run.result["dropped_features"]}
        assert dropped["length.chars"]["reason"] == "collinear"
        assert "'length.words'" in dropped["length.chars"]["detail"]


def test_chosen_features_are_analysed_as_given(sim_project):
    run = analysis_run_now(
        project=sim_project, params={"features": ["length.chars", "flattery.rate"]}
    )
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.result["params"]["feature_set"] == "chosen"
    assert run.result["params"]["features"] == ["length.chars", "flattery.rate"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"alpha": 0.7}, "alpha"),
        ({"alpha": "x"}, "alpha"),
        ({"correction": "magic"}, "correction"),
        ({"seed": -1}, "seed"),
        ({"sections": ["nope"]}, "sections"),
        ({"features": []}, "features"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_parameters_are_validated_by_key(params, field):
    with pytest.raises(ValidationError) as excinfo:
        analysis_params_check(params)
    assert field in excinfo.value.message_dict


def test_create_fills_in_defaults(sim_project):
    run = analysis_run_create(project=sim_project, params={"alpha": 0.1})
    assert run.params == {
        "alpha": 0.1,
        "correction": "holm",
        "features": None,
        "seed": 0,
        "cv_splits": 5,
        "sections": None,
        "missing_features": "error",
    }
    assert run.status == JobStatus.PENDING


# --- the analyze command --------------------------------------------------------------------


def test_analyze_command_writes_json_and_html(sim_project, tmp_path):
    out = io.StringIO()
    call_command(
        "analyze",
        "runs",
        "--output",
        str(tmp_path / "r.json"),
        "--html",
        str(tmp_path / "r.html"),
        stdout=out,
    )
    data = json.loads((tmp_path / "r.json").read_text())
    run = AnalysisRun.objects.get()
    assert data == run.result
    assert (tmp_path / "r.html").read_text() == run.html
    assert "Analysis" in out.getvalue() and "450 judgments" in out.getvalue()


def test_analyze_command_features_all_and_chosen(sim_project, tmp_path):
    out = io.StringIO()
    call_command(
        "analyze", "runs", "--output", str(tmp_path / "a.json"), "--features", "all", stdout=out
    )
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["params"]["feature_set"] == "all"
    assert "length.chars" in data["params"]["features"]
    assert "length.chars" in out.getvalue() and "left out (all): collinear" in out.getvalue()
    call_command(
        "analyze",
        "runs",
        "--output",
        str(tmp_path / "c.json"),
        "--features",
        "flattery.count",
        "agreement",
        stdout=io.StringIO(),
    )
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["params"]["features"] == ["flattery.count", "agreement"]


def test_analyze_command_to_stdout(sim_project, capsys):
    call_command("analyze", "runs", "--output", "-", "--seed", "3", stdout=io.StringIO())
    data = json.loads(capsys.readouterr().out)
    assert data["params"]["seed"] == 3


def test_analyze_command_errors():
    with pytest.raises(CommandError, match="No project with slug 'ghost'"):
        call_command("analyze", "ghost", "--output", "x.json")
    ProjectFactory(slug="bare")
    with pytest.raises(CommandError, match="no judgments yet"):
        call_command("analyze", "bare", "--output", "x.json")


# --- the simulate command -------------------------------------------------------------------


def test_simulate_command_exposes_every_simulation_parameter():
    exposed = {name for name, *_ in PARAM_OPTIONS}
    assert exposed == {f.name for f in fields(SimulationParams)} - {"models"}
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("simulate", "--help", stdout=out)


def test_simulate_command_prints_the_truth(tmp_path, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "simulate",
            "simmy",
            "--comparisons",
            "30",
            "--annotators",
            "4",
            "--seed",
            "2",
            "--overlap",
            "2",
            "--tie-break-flattery",
            "0.9",
            "--criterion-weights",
            "1",
            "1",
            "1",
            "--truth",
            str(tmp_path / "truth.json"),
            stdout=out,
        )
    text = out.getvalue()
    assert "30 comparisons, 60 judgments" in text
    assert "p = 0.9" in text and "<- swayed" in text
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["params"]["overlap"] == 2 and truth["params"]["criterion_weights"] == [1, 1, 1]
    with pytest.raises(CommandError, match="already exists"):
        call_command("simulate", "simmy", "--comparisons", "3", "--annotators", "4", "--seed", "1")
    with pytest.raises(CommandError, match="at least overlap"):
        call_command("simulate", "other", "--comparisons", "3", "--annotators", "2", "--seed", "1")


# --- rendering ------------------------------------------------------------------------------


def test_chart_text_is_escaped_and_styles_are_classes_only():
    svg = interval_chart(
        [ChartRow(label="<script>alert(1)</script>", markers=[Marker(1.5, 1.1, 2.0)], note="n=3")],
        title='a "title"',
        axis_label="x",
        log=True,
        reference=1.0,
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "style=" not in svg
