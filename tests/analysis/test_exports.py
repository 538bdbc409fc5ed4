"""Exports: the three kinds in three formats, pinning, failures, streaming, TRL, round trip."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from datetime import UTC, datetime

import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError

from analysis.exports import writers
from analysis.exports.canonical import canonical_records, read_export
from analysis.exports.preferences import (
    comparison_filter,
    dpo_winner,
    preferences,
    style_heavier,
)
from analysis.exports.pseudonyms import pseudonym
from analysis.features import active_registry
from analysis.models import ExportSnapshot, FeatureValue, JobStatus
from analysis.services import exports as export_service
from analysis.services.exports import (
    ExportError,
    export_options_check,
    export_snapshot_create,
    export_snapshot_enqueue,
    export_snapshot_execute,
    export_snapshot_write,
)
from analysis.services.features import feature_job_enqueue
from analysis.services.simulate import simulated_project_create
from analysis.simulation import SimulationParams
from annotation.models import Criterion, CriterionAnswer, Judgment, JudgmentSource
from tests.factories import ComparisonFactory, UserFactory

pytestmark = pytest.mark.django_db

FORMATS = ("jsonl", "csv", "parquet")


def _sim(capture, slug: str, **params):
    with capture(execute=True):
        return simulated_project_create(
            slug=slug,
            comparisons=params.pop("comparisons", 60),
            annotators=5,
            seed=params.pop("seed", 3),
            params=SimulationParams(**params) if params else None,
        ).project


@pytest.fixture
def sim(django_capture_on_commit_callbacks):
    return _sim(django_capture_on_commit_callbacks, "sim")


def _export(project, kind, fmt, path, **options):
    snapshot = export_snapshot_create(project=project, kind=kind, format=fmt, options=options)
    snapshot = export_snapshot_execute(snapshot_id=snapshot.pk, path=path)
    assert snapshot.status == JobStatus.SUCCEEDED, snapshot.error
    return snapshot


def _judge(comparison, annotator, choice, *, strength=None, answers=(), shown_left="a"):
    judgment = Judgment.objects.create(
        comparison=comparison,
        annotator=annotator,
        rubric=comparison.project.rubric,
        choice=choice,
        strength=strength,
        shown_left=shown_left,
        seconds=12.5,
        source=JudgmentSource.UI,
        created_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
    )
    for key, value in answers:
        criterion = Criterion.objects.get(rubric=comparison.project.rubric, key=key)
        if isinstance(value, tuple):
            CriterionAnswer.objects.create(
                judgment=judgment,
                criterion=criterion,
                score_a=value[0],
                score_b=value[1],
                scale_min=1,
                scale_max=5,
            )
        else:
            CriterionAnswer.objects.create(judgment=judgment, criterion=criterion, choice=value)
    return judgment


def _extract(project, capture):
    with capture(execute=True):
        feature_job_enqueue(project=project)


# --- the vote arithmetic, by hand ------------------------------------------------------------


def test_preferences_tally_by_hand():
    # Comparison 0: a, a, b (rubric tied twice, decided once); 1: tie, tie, a; 2: a, b.
    owner = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    choice = np.array(["a", "a", "b", "tie", "tie", "a", "a", "b"], dtype=object)
    strength = np.array([2, 1, 3, np.nan, np.nan, 1, 1, 1], dtype=float)
    state = np.array(["tied", "tied", "a", "missing", "missing", "missing", "tied", "b"])
    features_a = np.array([[3.0, 1, 0], [0, 0, 0], [1, 1, 1]])
    features_b = np.array([[1.0, 0, 2], [1, 1, 1], [1, 1, 1]])
    prefs = preferences(
        owner=owner,
        n_comparisons=3,
        choice=choice,
        strength=strength,
        rubric_state=state,
        features_a=features_a,
        features_b=features_b,
    )
    assert prefs.votes_a.tolist() == [2, 1, 1]
    assert prefs.votes_b.tolist() == [1, 0, 1]
    assert prefs.votes_tie.tolist() == [0, 2, 0]
    assert prefs.majority.tolist() == ["a", "tie", None]
    assert prefs.agreement.tolist() == pytest.approx([2 / 3, 2 / 3, 1 / 2])
    assert prefs.mean_strength.tolist() == pytest.approx([2.0, 1.0, 1.0])
    # 2 of 3 answered judgments tied; none answered; 1 of 2 tied (not most).
    assert prefs.rubric_tied.tolist() == [True, None, False]
    # a is higher on 2 features, b on 1 → a; b higher on all three → b; all equal → None.
    assert prefs.style_heavier.tolist() == ["a", "b", None]
    assert prefs.style_decided.tolist() == [True, False, False]
    assert dpo_winner(prefs).tolist() == ["a", "a", None]
    assert comparison_filter(prefs).tolist() == [True, True, True]
    assert comparison_filter(prefs, drop_ties=True).tolist() == [True, False, True]
    assert comparison_filter(prefs, min_agreement=0.6).tolist() == [True, True, False]
    assert comparison_filter(prefs, exclude_style_decided=True).tolist() == [False, True, True]


def test_style_heavier_ignores_missing_and_equal_features():
    a = np.array([[np.nan, 2.0], [1.0, 1.0]])
    b = np.array([[5.0, 1.0], [1.0, np.nan]])
    assert style_heavier(a, b).tolist() == ["a", None]


def test_pseudonym_is_stable_keyed_and_per_project():
    one = pseudonym(key=b"k", project_id=1, name="alice")
    assert one == pseudonym(key=b"k", project_id=1, name="alice")
    assert one.startswith("ann-") and len(one) == 20 and "alice" not in one
    assert one != pseudonym(key=b"other", project_id=1, name="alice")
    assert one != pseudonym(key=b"k", project_id=2, name="alice")


# --- writers -----------------------------------------------------------------------------------


def test_writers_are_fed_batch_by_batch_and_write_the_same_rows():
    import pyarrow as pa

    from analysis.exports.schema import MESSAGES

    schema = pa.schema([("id", pa.string()), ("prompt", MESSAGES), ("x", pa.float64())])
    batches = [
        {
            "id": ["1", ""],
            "prompt": [[{"role": "user", "content": 'a "b",\nc'}], None],
            "x": [1.5, None],
        },
        {"id": [None], "prompt": [[]], "x": [2.0]},
    ]
    out = {}
    for fmt in FORMATS:
        buffer = io.BytesIO()
        sink = writers.HashingSink(buffer)
        writer = writers.open_writer(fmt, sink, schema)
        assert [writer.write(b) for b in batches] == [2, 1]
        writer.close()
        assert sink.size == len(buffer.getvalue())
        assert sink.sha256 == hashlib.sha256(buffer.getvalue()).hexdigest()
        out[fmt] = buffer.getvalue()
    lines = [orjson.loads(line) for line in out["jsonl"].splitlines()]
    assert lines[0] == {"id": "1", "prompt": [{"role": "user", "content": 'a "b",\nc'}], "x": 1.5}
    assert lines[1] == {"id": "", "prompt": None, "x": None}
    assert lines[2] == {"id": None, "prompt": [], "x": 2.0}
    assert pq.read_table(io.BytesIO(out["parquet"])).to_pylist() == lines
    assert pq.ParquetFile(io.BytesIO(out["parquet"])).num_row_groups == 2  # one per batch
    parsed = list(csv.reader(io.StringIO(out["csv"].decode(), newline="")))
    assert parsed[0] == ["id", "prompt", "x"]
    assert [json.loads(parsed[1][1]), parsed[1][2]] == [lines[0]["prompt"], "1.5"]
    assert parsed[2] == ["", "", ""] and parsed[3] == ["", "[]", "2"]
    assert b'\n"",,\n' in out["csv"]  # "" is an empty string, nothing is a missing value
    with pytest.raises(ValueError, match="differ in length"):
        writers.open_writer("jsonl", io.BytesIO(), schema).write(
            {"id": ["1"], "prompt": [], "x": []}
        )


def test_the_service_feeds_the_writer_one_batch_at_a_time(sim, tmp_path, monkeypatch):
    """Memory is bounded by the batch: the writer never sees more than one batch's rows."""
    monkeypatch.setattr(export_service, "BATCH_COMPARISONS", 7)
    sizes = []
    original = writers.ExportWriter.write

    def spy(self, columns):
        sizes.append(len(columns[self.schema.names[0]]))
        return original(self, columns)

    monkeypatch.setattr(writers.ExportWriter, "write", spy)
    snapshot = _export(sim, "judgments", "jsonl", tmp_path / "j.jsonl")
    overlap = sim.overlap
    assert len(sizes) == -(-60 // 7)  # ceil: every batch of comparisons is one write
    assert max(sizes) <= 7 * overlap and sum(sizes) == snapshot.row_count == 60 * overlap


# --- the judgments kind ------------------------------------------------------------------------


def test_judgments_export_holds_everything_and_no_username(
    project, django_capture_on_commit_callbacks, tmp_path
):
    alice = UserFactory(username="alice", email="alice@example.org")
    comparison = ComparisonFactory(project=project, external_id="c-1")
    _judge(
        comparison, alice, "b", strength=2, answers=[("correctness", "tie"), ("clarity", (4, 3))]
    )
    _extract(project, django_capture_on_commit_callbacks)
    path = tmp_path / "j.jsonl"
    snapshot = _export(project, "judgments", "jsonl", path)
    text = path.read_text()
    assert "alice" not in text
    (row,) = [json.loads(line) for line in text.splitlines()]
    keys = active_registry().feature_keys()
    assert list(row)[:12] == [
        "comparison_id",
        "prompt_id",
        "prompt",
        "prompt_is_conversation",
        "response_a",
        "response_b",
        "model_a",
        "model_b",
        "annotator",
        "choice",
        "strength",
        "criterion.correctness",
    ]
    assert row["comparison_id"] == "c-1"
    assert row["prompt"] == comparison.prompt.messages and row["prompt_is_conversation"] is False
    assert row["prompt_id"] == comparison.prompt.content_hash
    assert (row["response_a"], row["model_a"]) == ("Plain answer.", "model-x")
    assert row["annotator"].startswith("ann-")
    assert (row["choice"], row["strength"]) == ("b", 2)
    assert row["criterion.correctness"] == "tie"
    assert (row["criterion.clarity.a"], row["criterion.clarity.b"]) == (4, 3)
    assert (row["shown_left"], row["seconds"], row["rationale"]) == ("a", 12.5, "")
    assert row["created_at"] == "2026-11-02T10:00:00Z" and row["source"] == "ui"
    assert row["b.emojis"] == 1.0 and row["a.emojis"] == 0.0
    assert [k for k in row if k.startswith("a.")] == [f"a.{k}" for k in keys]
    assert snapshot.row_count == 1 and snapshot.size == path.stat().st_size
    assert snapshot.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert snapshot.criteria == [["correctness", "compare"], ["clarity", "rating"]]
    assert snapshot.extractors[0][:2] == ["length", 1]


def test_pseudonyms_follow_the_key_setting(
    project, django_capture_on_commit_callbacks, tmp_path, settings
):
    comparison = ComparisonFactory(project=project)
    _judge(comparison, UserFactory(username="bob"), "a")
    _extract(project, django_capture_on_commit_callbacks)
    first = json.loads(_export_text(project, tmp_path / "1.jsonl"))["annotator"]
    assert first == json.loads(_export_text(project, tmp_path / "2.jsonl"))["annotator"]
    settings.TIEBREAK_PSEUDONYM_KEY = "another key"
    assert json.loads(_export_text(project, tmp_path / "3.jsonl"))["annotator"] == pseudonym(
        key=b"another key", project_id=project.pk, name="bob"
    )
    assert first != pseudonym(key=b"another key", project_id=project.pk, name="bob")


def _export_text(project, path) -> str:
    _export(project, "judgments", "jsonl", path)
    return path.read_text()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_same_rows(sim, tmp_path, fmt):
    reference = tmp_path / "ref.jsonl"
    _export(sim, "judgments", "jsonl", reference)
    path = tmp_path / f"j.{fmt}"
    _export(sim, "judgments", fmt, path)
    assert list(read_export(path)) == list(read_export(reference))


# --- pinning and byte identity ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["judgments", "preferences", "dpo"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_exporting_a_snapshot_again_gives_the_same_bytes(
    sim, tmp_path, kind, fmt, django_capture_on_commit_callbacks
):
    snapshot = _export(sim, kind, fmt, tmp_path / f"first.{fmt}")
    # New data after the snapshot: a judgment, and a comparison with features.
    comparison = ComparisonFactory(project=sim)
    _judge(comparison, UserFactory(username="late"), "a")
    _extract(sim, django_capture_on_commit_callbacks)
    again = export_snapshot_write(snapshot=snapshot, path=tmp_path / f"again.{fmt}")
    assert again.sha256 == snapshot.sha256
    assert (tmp_path / f"again.{fmt}").read_bytes() == (tmp_path / f"first.{fmt}").read_bytes()
    fresh = _export(sim, kind, fmt, tmp_path / f"fresh.{fmt}")
    assert fresh.sha256 != snapshot.sha256
    if kind != "dpo":  # a single "a" vote is a new dpo row too, but let the count speak
        assert fresh.row_count == snapshot.row_count + 1


# --- preferences and dpo ----------------------------------------------------------------------


def test_preferences_rows_and_filters(project, django_capture_on_commit_callbacks, tmp_path):
    users = [UserFactory(username=f"u{i}") for i in range(3)]
    tied = [("correctness", "tie"), ("clarity", (3, 3))]
    # c-1: b (plain a, emoji-rich b) wins 2:1 with a tied rubric: style-decided.
    c1 = ComparisonFactory(project=project, external_id="c-1")
    for user, choice in zip(users, "bba", strict=True):
        _judge(c1, user, choice, strength=1 if choice != "tie" else None, answers=tied)
    # c-2: ties win 2:1, rubric decided.
    c2 = ComparisonFactory(project=project, external_id="c-2")
    for user, choice in zip(users, ["tie", "tie", "a"], strict=True):
        _judge(c2, user, choice, answers=[("correctness", "a")])
    ComparisonFactory(project=project, external_id="c-3")  # no judgments: never exported
    _extract(project, django_capture_on_commit_callbacks)
    path = tmp_path / "p.jsonl"
    _export(project, "preferences", "jsonl", path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["comparison_id"] for r in rows] == ["c-1", "c-2"]
    one, two = rows
    assert (one["n_votes"], one["votes_a"], one["votes_b"], one["votes_tie"]) == (3, 1, 2, 0)
    assert (one["majority"], one["agreement"], one["mean_strength"]) == ("b", 2 / 3, 1.0)
    assert (one["rubric_tied"], one["style_heavier"], one["style_decided"]) == (True, "b", True)
    assert (two["majority"], two["rubric_tied"], two["style_decided"]) == ("tie", False, False)
    assert two["mean_strength"] is None

    def ids(**options):
        out = tmp_path / "f.jsonl"
        _export(project, "preferences", "jsonl", out, **options)
        return [json.loads(line)["comparison_id"] for line in out.read_text().splitlines()]

    assert ids(drop_ties=True) == ["c-1"]
    assert ids(exclude_style_decided=True) == ["c-2"]
    assert ids(min_agreement=0.7) == []
    assert ids(min_agreement=0.6) == ["c-1", "c-2"]

    dpo = tmp_path / "d.jsonl"
    _export(project, "dpo", "jsonl", dpo)
    pairs = [json.loads(line) for line in dpo.read_text().splitlines()]
    # c-1: b chosen; c-2: majority tie, but its non-tie votes (one a) have a winner.
    assert pairs == [
        {"prompt": c1.prompt.text, "chosen": c1.response_b.text, "rejected": c1.response_a.text},
        {"prompt": c2.prompt.text, "chosen": c2.response_a.text, "rejected": c2.response_b.text},
    ]
    _export(project, "dpo", "jsonl", dpo, drop_ties=True, exclude_style_decided=True)
    assert dpo.read_text() == ""


def test_dpo_forms_and_the_datasets_library(
    django_capture_on_commit_callbacks, tmp_path, monkeypatch
):
    """The dpo export loads with `datasets`' JSON loader in the columns and types TRL reads."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    from datasets import Features, List, Value, load_dataset

    plain = _sim(django_capture_on_commit_callbacks, "plain", conversation_share=0.0)
    chat = _sim(django_capture_on_commit_callbacks, "chat", conversation_share=0.5, seed=4)

    standard = _export(plain, "dpo", "jsonl", tmp_path / "standard.jsonl")
    assert standard.options["form"] == "standard"  # auto, resolved at creation
    data = load_dataset(
        "json",
        data_files=str(tmp_path / "standard.jsonl"),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert data.column_names == ["prompt", "chosen", "rejected"]
    assert data.features == Features(
        {"prompt": Value("string"), "chosen": Value("string"), "rejected": Value("string")}
    )
    assert len(data) == standard.row_count > 0
    assert all(isinstance(x, str) and x for x in data["prompt"])

    conversational = _export(chat, "dpo", "jsonl", tmp_path / "chat.jsonl")
    assert conversational.options["form"] == "conversational"
    data = load_dataset(
        "json",
        data_files=str(tmp_path / "chat.jsonl"),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    message = {"content": Value("string"), "role": Value("string")}
    assert data.column_names == ["prompt", "chosen", "rejected"]
    assert {k: data.features[k] for k in data.column_names} == {
        "prompt": List(message),
        "chosen": List(message),
        "rejected": List(message),
    }
    example = data[0]
    assert example["prompt"][-1]["role"] == "user"
    assert [m["role"] for m in example["chosen"]] == ["assistant"]
    assert any(len(row) == 3 for row in data["prompt"])  # multi-turn prompts kept whole
    # Standard asked explicitly of a project with multi-turn prompts: refused, by field.
    with pytest.raises(ValidationError) as error:
        export_snapshot_create(
            project=chat, kind="dpo", format="jsonl", options={"form": "standard"}
        )
    assert "form" in error.value.message_dict and "conversational" in str(error.value)
    # The conversational form of single-turn prompts is fine too.
    forced = _export(plain, "dpo", "parquet", tmp_path / "forced.parquet", form="conversational")
    assert (
        pq.read_table(tmp_path / "forced.parquet").column("prompt").to_pylist()[0][0]["role"]
        == "user"
    )
    assert forced.row_count == standard.row_count


# --- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fmt", "options", "field"),
    [
        ("everything", "jsonl", {}, "kind"),
        ("judgments", "xlsx", {}, "format"),
        ("judgments", "jsonl", {"min_agreement": 1.5}, "min_agreement"),
        ("judgments", "jsonl", {"min_agreement": True}, "min_agreement"),
        ("judgments", "jsonl", {"min_agreement": "most"}, "min_agreement"),
        ("judgments", "jsonl", {"drop_ties": "yes"}, "drop_ties"),
        ("judgments", "jsonl", {"exclude_style_decided": 1}, "exclude_style_decided"),
        ("dpo", "jsonl", {"form": "chat"}, "form"),
        ("preferences", "jsonl", {"form": "standard"}, "form"),
        ("judgments", "jsonl", {"min_agreemnt": 0.5}, "min_agreemnt"),
    ],
)
def test_bad_options_name_the_field(kind, fmt, options, field):
    with pytest.raises(ValidationError) as error:
        export_options_check(kind=kind, format=fmt, options=options)
    assert set(error.value.message_dict) == {field}


def test_missing_features_fail_clearly_and_write_nothing(project, tmp_path):
    comparison = ComparisonFactory(project=project)
    _judge(comparison, UserFactory(username="u"), "a")
    path = tmp_path / "j.csv"
    for kind, options in [
        ("judgments", {}),
        ("preferences", {}),
        ("dpo", {"exclude_style_decided": True}),
    ]:
        snapshot = export_snapshot_create(project=project, kind=kind, format="csv", options=options)
        snapshot = export_snapshot_execute(snapshot_id=snapshot.pk, path=path)
        assert snapshot.status == JobStatus.FAILED
        assert "style features are missing" in snapshot.error
        assert f"extract_features {project.slug}" in snapshot.error
        assert not path.exists() and list(tmp_path.iterdir()) == []
    # The dpo kind without the style filter does not need them.
    assert _export(project, "dpo", "csv", path).row_count == 1


def test_a_stored_null_feature_is_a_missing_value_not_missing_work(
    project, django_capture_on_commit_callbacks, tmp_path
):
    comparison = ComparisonFactory(project=project)
    _judge(comparison, UserFactory(username="u"), "a")
    _extract(project, django_capture_on_commit_callbacks)
    FeatureValue.objects.filter(response=comparison.response_a, extractor="emojis").update(
        values={"": None}
    )
    path = tmp_path / "j.jsonl"
    _export(project, "judgments", "jsonl", path)
    assert json.loads(path.read_text())["a.emojis"] is None


def test_a_failed_export_keeps_an_existing_file(project, tmp_path):
    _judge(ComparisonFactory(project=project), UserFactory(username="u"), "a")
    path = tmp_path / "j.jsonl"
    path.write_text("earlier\n")
    snapshot = export_snapshot_create(project=project, kind="judgments", format="jsonl")
    assert export_snapshot_execute(snapshot_id=snapshot.pk, path=path).status == JobStatus.FAILED
    assert path.read_text() == "earlier\n" and len(os.listdir(tmp_path)) == 1


def test_an_unexpected_error_is_recorded_and_leaves_no_file(sim, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export_service, "judgment_columns", broken)
    snapshot = export_snapshot_create(project=sim, kind="judgments", format="parquet")
    snapshot = export_snapshot_execute(snapshot_id=snapshot.pk, path=tmp_path / "x.parquet")
    assert snapshot.status == JobStatus.FAILED and "disk on fire" in snapshot.error
    assert list(tmp_path.iterdir()) == []


# --- inline and background ----------------------------------------------------------------------


def test_small_exports_are_written_inline_and_stored(sim, settings):
    user = UserFactory(username="res")
    snapshot = export_snapshot_enqueue(project=sim, kind="preferences", format="csv", user=user)
    assert snapshot.status == JobStatus.SUCCEEDED and snapshot.created_by == user
    assert snapshot.file.name.startswith("exports/") and snapshot.file.name.endswith(".csv")
    with snapshot.file.open("rb") as file:
        assert hashlib.sha256(file.read()).hexdigest() == snapshot.sha256
    assert snapshot.done == snapshot.total == 60
    snapshot.file.delete(save=False)


def test_large_exports_run_as_a_celery_task_after_commit(
    sim, settings, django_capture_on_commit_callbacks
):
    settings.TIEBREAK_EXPORT_INLINE_MAX_ROWS = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        snapshot = export_snapshot_enqueue(project=sim, kind="judgments", format="parquet")
    assert snapshot.status == JobStatus.PENDING and len(callbacks) == 1
    callbacks[0]()  # eager Celery: the task runs here
    snapshot.refresh_from_db()
    assert snapshot.status == JobStatus.SUCCEEDED and snapshot.row_count == 180
    assert snapshot.done == snapshot.total
    first = snapshot.file.name
    # Idempotent: running the task again rewrites the same file.
    from analysis.tasks import run_export

    assert run_export.delay(snapshot.pk).get() == JobStatus.SUCCEEDED
    snapshot.refresh_from_db()
    assert snapshot.file.name == first
    with snapshot.file.open("rb") as file:
        assert hashlib.sha256(file.read()).hexdigest() == snapshot.sha256
    snapshot.file.delete(save=False)


def test_a_task_that_dies_for_good_marks_the_snapshot_failed(sim):
    from analysis.tasks import run_export

    snapshot = export_snapshot_create(project=sim, kind="judgments", format="jsonl")
    run_export.on_failure(TimeoutError("hard time limit"), "t", (snapshot.pk,), {}, None)
    snapshot.refresh_from_db()
    assert snapshot.status == JobStatus.FAILED and "hard time limit" in snapshot.error


# --- round trip ---------------------------------------------------------------------------------


def test_round_trip_through_the_canonical_format_reproduces_the_analysis(
    django_capture_on_commit_callbacks, tmp_path
):
    from analysis.services.runs import analysis_run_now
    from annotation.services.imports import import_file
    from annotation.services.projects import project_create

    source = _sim(django_capture_on_commit_callbacks, "source", comparisons=150, seed=5)
    export = tmp_path / "judgments.parquet"
    _export(source, "judgments", "parquet", export)
    canonical = tmp_path / "canonical.jsonl"
    with canonical.open("wb") as out:
        for record in canonical_records(read_export(export)):
            out.write(orjson.dumps(record) + b"\n")
    rubric = {
        "name": "round-trip",
        "criteria": [
            {"key": c.key, "label": c.label, "kind": c.kind}
            | ({"scale": [c.scale_min, c.scale_max]} if c.kind == "rating" else {})
            for c in source.rubric.criteria.order_by("position")
        ],
    }
    copy = project_create(slug="copy", name="Copy", rubric_spec=rubric, overlap=source.overlap)
    with django_capture_on_commit_callbacks(execute=True):
        imported = import_file(project=copy, path_or_fileobj=canonical, format="jsonl")
    assert (
        imported.n_judgments_created == Judgment.objects.filter(comparison__project=source).count()
    )

    runs = [
        analysis_run_now(project=p, params={"sections": ["main_model", "tiebreak"]})
        for p in (source, copy)
    ]
    assert [r.status for r in runs] == [JobStatus.SUCCEEDED] * 2, [r.error for r in runs]
    original, again = (r.result for r in runs)
    assert again["n_judgments"] == original["n_judgments"]
    assert again["n_annotators"] == original["n_annotators"]
    assert json.dumps(_effects(again)) == json.dumps(_effects(original))


def _effects(result):
    """The style effects and tie-break shares, rounded past float-summation noise."""

    def rounded(value):
        if isinstance(value, float):
            return round(value, 6)
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rounded(v) for v in value]
        return value

    keys = ("style_effects", "rubric_effects", "model", "tiebreak")
    return rounded({key: result[key] for key in keys})


def test_canonical_conversion_from_csv_matches_jsonl(sim, tmp_path):
    _export(sim, "judgments", "jsonl", tmp_path / "j.jsonl")
    _export(sim, "judgments", "csv", tmp_path / "j.csv")
    from_jsonl = list(canonical_records(read_export(tmp_path / "j.jsonl")))
    assert from_jsonl == list(canonical_records(read_export(tmp_path / "j.csv")))
    assert len(from_jsonl) == 60
    first = from_jsonl[0]
    assert set(first) == {"id", "prompt", "response_a", "response_b", "judgments"}
    assert all(j["annotator"].startswith("ann-") for j in first["judgments"])
    with pytest.raises(ValueError, match="not a judgments export"):
        list(canonical_records([{"prompt": "x"}]))


def test_snapshot_records_who_what_and_when(sim):
    user = UserFactory(username="who")
    snapshot = export_snapshot_create(
        project=sim, kind="dpo", format="jsonl", options={"min_agreement": 0.5}, user=user
    )
    assert snapshot.created_by == user and snapshot.status == JobStatus.PENDING
    assert snapshot.options == {
        "min_agreement": 0.5,
        "drop_ties": False,
        "exclude_style_decided": False,
        "form": "conversational",
    }
    assert snapshot.max_judgment_id == Judgment.objects.order_by("-id").first().id
    assert snapshot.total == 60
    assert "tone.hedges" not in snapshot.style_features and "emojis" in snapshot.style_features
    assert ExportSnapshot.objects.count() == 1


def test_an_empty_project_exports_an_empty_file(project, tmp_path):
    for fmt in FORMATS:
        snapshot = _export(project, "judgments", fmt, tmp_path / f"e.{fmt}")
        assert snapshot.row_count == 0
    assert (tmp_path / "e.jsonl").read_bytes() == b""
    assert (tmp_path / "e.csv").read_text().startswith('"comparison_id","prompt_id"')
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0
    with pytest.raises(ExportError):
        raise ExportError("importable")


def test_canonical_command_line(sim, tmp_path):
    from analysis.exports.canonical import main

    _export(sim, "judgments", "parquet", tmp_path / "j.parquet")
    main([str(tmp_path / "j.parquet"), "-o", str(tmp_path / "c.jsonl")])
    records = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert records == list(canonical_records(read_export(tmp_path / "j.parquet")))
    assert sum(len(r["judgments"]) for r in records) == 180


def test_feature_columns_are_named_as_the_extractors_name_their_keys():
    from analysis.features import Extractor
    from analysis.services.exports import _feature_keys

    extractors = [
        Extractor(name="x", version=1, description="d", unit="u", columns=("col",), func=len),
        Extractor(name="y", version=1, description="d", unit="u", columns=("a", "b"), func=len),
    ]
    pinned = [[e.name, e.version, list(e.columns)] for e in extractors]
    assert _feature_keys(pinned) == [k for e in extractors for k in e.keys] == ["x", "y.a", "y.b"]
