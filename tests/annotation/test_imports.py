"""The import service with the canonical JSONL format: writes, errors, idempotence."""

from __future__ import annotations

import io
import json
import sys
import types

import pytest

from annotation.models import (
    Comparison,
    CriterionAnswer,
    ImportRun,
    Judgment,
    JudgmentSource,
    Prompt,
    Response,
)
from annotation.services.imports import ImportFailed, import_file
from annotation.services.imports.records import prompt_hash
from tests.annotation.test_imports_helpers import (
    assert_judgment_counts_consistent,
    failed_runs,
    row_counts,
    write_json,
    write_jsonl,
)

pytestmark = pytest.mark.django_db


def record(i: int = 1, **overrides):
    data = {
        "id": f"c-{i}",
        "prompt": f"Question {i}?",
        "response_a": {"text": f"Answer a{i}.", "model": "model-x"},
        "response_b": {"text": f"Answer b{i}.", "model": "model-y"},
    }
    data.update(overrides)
    return data


def run(project, path, **kwargs):
    kwargs.setdefault("start_features", False)
    return import_file(project=project, path_or_fileobj=path, **kwargs)


def errors_of(excinfo) -> list[str]:
    return [str(e) for e in excinfo.value.errors]


def test_canonical_record_with_judgments_and_criteria(project, tmp_path):
    path = write_jsonl(
        tmp_path / "data.jsonl",
        [
            {
                "id": "c-17",
                "prompt": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "What is 2+2?"},
                ],
                "response_a": {"text": "4", "model": "model-x"},
                "response_b": "Four, great question!",
                "metadata": {"topic": "math"},
                "judgments": [
                    {
                        "annotator": "ann-3",
                        "choice": "a",
                        "strength": 2,
                        "criteria": {"correctness": "tie", "clarity": {"a": 4, "b": 3}},
                        "shown_left": "b",
                        "seconds": 41.5,
                        "rationale": "Shorter.",
                        "created_at": "2026-11-02T10:00:00Z",
                    },
                    {"annotator": "ann-4", "choice": "tie"},
                ],
            }
        ],
    )
    result = run(project, path)

    assert (result.format, result.n_records, result.n_comparisons_created) == ("jsonl", 1, 1)
    assert result.n_judgments_created == 2
    comparison = Comparison.objects.get(project=project, external_id="c-17")
    assert comparison.metadata == {"topic": "math"}
    assert comparison.n_judgments == 2
    prompt = comparison.prompt
    assert prompt.is_conversation is True
    assert prompt.messages[1] == {"role": "user", "content": "What is 2+2?"}
    assert prompt.content_hash == prompt_hash(prompt.messages)
    a, b = comparison.response_a, comparison.response_b
    assert (a.text, a.model, b.text, b.model) == ("4", "model-x", "Four, great question!", "")
    assert a.project == b.project == project and a.prompt == b.prompt == prompt

    judgment = Judgment.objects.get(comparison=comparison, external_annotator="ann-3")
    assert judgment.annotator is None
    assert judgment.source == JudgmentSource.IMPORT
    assert judgment.rubric == project.rubric
    assert (judgment.choice, judgment.strength, judgment.shown_left) == ("a", 2, "b")
    assert (judgment.seconds, judgment.rationale) == (41.5, "Shorter.")
    assert judgment.created_at.isoformat() == "2026-11-02T10:00:00+00:00"
    answers = {a.criterion.key: a for a in judgment.answers.select_related("criterion")}
    assert answers["correctness"].choice == "tie"
    clarity = answers["clarity"]
    assert (clarity.score_a, clarity.score_b, clarity.scale_min, clarity.scale_max) == (4, 3, 1, 5)

    run_row = result.import_run
    assert run_row.status == ImportRun.Status.SUCCEEDED
    assert (run_row.n_comparisons_created, run_row.n_judgments_created) == (1, 2)
    assert run_row.format == "jsonl" and run_row.filename == "data.jsonl"


def test_prompts_are_deduplicated_responses_are_not(project, tmp_path):
    path = write_jsonl(
        tmp_path / "data.jsonl",
        [record(1, prompt="Same?"), record(2, prompt="Same?"), record(3, prompt="Other?")],
    )
    run(project, path)
    assert Prompt.objects.filter(project=project).count() == 2
    assert Response.objects.filter(project=project).count() == 6
    same = Comparison.objects.filter(project=project, prompt__messages__0__content="Same?")
    assert same.count() == 2


def test_reimport_is_idempotent_and_adds_new_judgments(project, tmp_path):
    records = [
        record(1, judgments=[{"annotator": "x", "choice": "a"}]),
        {k: v for k, v in record(2).items() if k != "id"},  # id derived from the content
    ]
    path = write_jsonl(tmp_path / "data.jsonl", records)
    first = run(project, path)
    before = row_counts()
    again = run(project, path)
    assert row_counts() == before
    assert (again.n_comparisons_created, again.n_comparisons_existing) == (0, 2)
    assert (again.n_judgments_created, again.n_judgments_existing) == (0, 1)
    derived = Comparison.objects.exclude(external_id="c-1").get()
    assert derived.external_id.startswith("auto-")
    assert first.n_comparisons_created == 2

    records[0]["judgments"].append({"annotator": "y", "choice": "b"})
    more = run(project, write_jsonl(tmp_path / "more.jsonl", records))
    assert (more.n_comparisons_created, more.n_judgments_created) == (0, 1)
    assert Comparison.objects.get(external_id="c-1").n_judgments == 2
    assert_judgment_counts_consistent()


def test_gzip_and_json_array_and_file_objects(project, tmp_path):
    run(project, write_jsonl(tmp_path / "one.jsonl.gz", [record(1)], gz=True))
    run(project, write_json(tmp_path / "two.json", [record(2), record(3)]))
    gz_bytes = (tmp_path / "one.jsonl.gz").read_bytes()
    upload = io.BytesIO(gz_bytes)
    result = run(project, upload, filename="upload.jsonl.gz")
    assert result.n_comparisons_existing == 1
    text_stream = io.StringIO(json.dumps(record(4)) + "\n")
    run(project, text_stream, filename="text.jsonl")
    assert Comparison.objects.filter(project=project).count() == 4


def test_bad_value_names_line_and_field_and_writes_nothing(project, tmp_path):
    records = [record(i) for i in range(1, 6)]
    records[2]["response_b"] = {"text": {"nested": True}}
    before = row_counts()
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_jsonl(tmp_path / "bad.jsonl", records))
    assert errors_of(excinfo) == ["line 3: response_b.text: expected a string, got an object"]
    assert row_counts() == before
    failed = failed_runs().get()
    assert failed.errors == [
        {"line": 3, "field": "response_b.text", "message": "expected a string, got an object"}
    ]
    assert excinfo.value.import_run == failed


def test_several_errors_are_collected(project, tmp_path):
    lines = [
        json.dumps(record(1)),
        "{not json",
        json.dumps(record(3, prompt="")),
        json.dumps({k: v for k, v in record(4).items() if k != "response_a"}),
        json.dumps(record(5, judgments=[{"annotator": "x", "choice": "A"}])),
        json.dumps(record(6, judgments=[{"annotator": "x", "choice": "a", "strength": 7}])),
        json.dumps(record(7, prompt=[{"role": "robot", "content": "hi"}])),
        json.dumps([1, 2]),
        json.dumps(record(9, metadata=[1])),
    ]
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_jsonl(tmp_path / "bad.jsonl", lines))
    assert errors_of(excinfo) == [
        "line 2: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
        "line 3: prompt: empty prompt",
        "line 4: response_a: required",
        'line 5: judgments[0].choice: expected one of a, b, tie, got "A"',
        "line 6: judgments[0].strength: expected 1, 2, 3 or null, got 7",
        "line 7: prompt[0].role: expected one of system, user, assistant, got 'robot'",
        "line 8: expected a JSON object, got an array",
        "line 9: metadata: expected an object, got an array",
    ]
    assert Comparison.objects.count() == 0


def test_errors_stop_after_twenty(project, tmp_path):
    lines = ["{broken"] * 30
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_jsonl(tmp_path / "bad.jsonl", lines))
    assert len(excinfo.value.errors) == 20
    assert excinfo.value.errors[-1].line == 20


def test_error_after_written_batches_rolls_everything_back(project, tmp_path):
    records = [record(i) for i in range(1, 12)]
    records[-1]["response_a"] = 42.0
    records[-1]["response_b"] = None
    before = row_counts()
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_jsonl(tmp_path / "bad.jsonl", records), batch_size=2)
    assert errors_of(excinfo) == ["line 11: response_b: required"]
    assert row_counts() == before
    assert ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED).count() == 0
    assert failed_runs().count() == 1


def test_criteria_are_checked_against_the_rubric(project, tmp_path):
    lines = [
        record(1, judgments=[{"annotator": "x", "choice": "a", "criteria": {"tone": "a"}}]),
        record(
            2,
            judgments=[
                {"annotator": "x", "choice": "a", "criteria": {"clarity": {"a": 6, "b": 1}}}
            ],
        ),
        record(3, judgments=[{"annotator": "x", "choice": "a", "criteria": {"clarity": "a"}}]),
        record(4, judgments=[{"annotator": "x", "choice": "a", "criteria": {"correctness": 3}}]),
        record(
            5,
            judgments=[
                {"annotator": "x", "choice": "a", "criteria": {"clarity": {"a": 2.5, "b": 1}}}
            ],
        ),
    ]
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_jsonl(tmp_path / "bad.jsonl", lines))
    assert errors_of(excinfo) == [
        "line 1: judgments[0].criteria.tone: unknown criterion 'tone' "
        "(the project's rubric has: clarity, correctness)",
        "line 2: judgments[0].criteria.clarity.a: 6 is outside the criterion's scale 1–5",
        'line 3: judgments[0].criteria.clarity: expected {"a": score, "b": score}, got "a"',
        "line 4: judgments[0].criteria.correctness: expected one of a, b, tie, got 3",
        "line 5: judgments[0].criteria.clarity.a: expected an integer, got 2.5",
    ]
    assert CriterionAnswer.objects.count() == 0


def test_duplicate_ids_in_one_file(project, tmp_path):
    same = record(1, judgments=[{"annotator": "x", "choice": "a"}])
    again = record(1, judgments=[{"annotator": "y", "choice": "b"}])
    result = run(project, write_jsonl(tmp_path / "ok.jsonl", [same, record(2), again]))
    assert result.n_comparisons_created == 2
    assert Comparison.objects.get(external_id="c-1").n_judgments == 2

    conflicting = record(5, prompt="Something else?")
    conflicting["id"] = "c-9"
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_jsonl(tmp_path / "bad.jsonl", [record(9), conflicting]))
    assert errors_of(excinfo) == [
        "line 2: id: 'c-9' is also the id of line 1, which has a different prompt or responses"
    ]

    # Across batches (the first is written already), the same conflict is still an error.
    with pytest.raises(ImportFailed):
        run(project, write_jsonl(tmp_path / "bad.jsonl", [record(9), conflicting]), batch_size=1)
    with pytest.raises(ImportFailed) as excinfo:
        run(
            project,
            write_jsonl(
                tmp_path / "bad2.jsonl",
                [record(1, judgments=[{"annotator": "x", "choice": "a"}] * 2)],
            ),
        )
    assert errors_of(excinfo) == [
        "line 1: judgments[1].annotator: 'x' judges this comparison twice"
    ]


def test_existing_comparison_with_other_content_is_kept_and_reported(project, tmp_path):
    run(project, write_jsonl(tmp_path / "one.jsonl", [record(1)]))
    changed = record(1, response_a="A different answer.")
    result = run(project, write_jsonl(tmp_path / "two.jsonl", [changed, record(2)]))
    assert (result.n_comparisons_created, result.n_skipped) == (1, 1)
    assert "already exists with a different prompt or responses" in str(result.warnings[0])
    assert Comparison.objects.get(external_id="c-1").response_a.text == "Answer a1."


def test_odd_but_valid_values(project, tmp_path):
    records = [
        record(1, response_a={"text": True, "model": "m"}, response_b=3.5),
        record(2, response_a="", response_b={"text": "", "model": None}),
        record(3, id=17, prompt="NUL\x00 inside", response_a="a\x00b"),
        record(4, response_a={"text": "x", "model": 7}),
    ]
    result = run(project, write_jsonl(tmp_path / "odd.jsonl", records))
    assert result.n_comparisons_created == 4
    first = Comparison.objects.get(external_id="c-1")
    assert (first.response_a.text, first.response_b.text) == ("True", "3.5")
    empty = Comparison.objects.get(external_id="c-2")
    assert (empty.response_a.text, empty.response_b.text) == ("", "")
    nul = Comparison.objects.get(external_id="17")
    assert nul.prompt.messages == [{"role": "user", "content": "NUL inside"}]
    assert nul.response_a.text == "ab"
    assert Comparison.objects.get(external_id="c-4").response_a.model == "7"
    warnings = [str(w) for w in result.warnings]
    assert warnings == [
        "line 1: response_a.text: expected a string, got a boolean; stored as 'True'",
        "line 1: response_b: expected a string, got a number; stored as '3.5'",
        "line 3: prompt: NUL characters removed (the database cannot store them)",
        "line 3: response_a: NUL characters removed (the database cannot store them)",
    ]
    assert result.import_run.warnings[0]["line"] == 1


def test_large_response_and_any_unicode(project, tmp_path):
    big = "Ünïcödé ✓ " * 10_000  # 100,000 characters
    texts = [
        "Emoji 😀👍🏽👨‍👩‍👧 and flags 🇺🇦",
        "עברית מימין לשמאל ‏ العربية",
        "中文，日本語、한국어",
        "combining e\u0301 and zero\u200bwidth",
    ]
    records = [record(1, response_a=big)] + [
        record(i + 2, prompt=t, response_b={"text": t, "model": "m-é"}) for i, t in enumerate(texts)
    ]
    records.append(record(9, response_a="lone \ud800 surrogate"))
    path = tmp_path / "unicode.jsonl"
    # ensure_ascii keeps the lone surrogate as a \ud800 escape, as real files carry it.
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = run(project, path)
    assert result.n_comparisons_created == 6
    assert len(Comparison.objects.get(external_id="c-1").response_a.text) == 100_000
    for i, t in enumerate(texts):
        comparison = Comparison.objects.get(external_id=f"c-{i + 2}")
        assert comparison.prompt.text == t
        assert comparison.response_b.text == t
    assert Comparison.objects.get(external_id="c-9").response_a.text == "lone \ufffd surrogate"
    assert "surrogates replaced" in str(result.warnings[-1])


def test_empty_and_undetectable_files(project, tmp_path):
    for name, content in [("empty.jsonl", ""), ("blank.jsonl", "\n\n"), ("none.json", "[]")]:
        (tmp_path / name).write_text(content)
        with pytest.raises(ImportFailed) as excinfo:
            run(project, tmp_path / name)
        assert "no records" in str(excinfo.value) or "empty" in str(excinfo.value)
    (tmp_path / "what.txt").write_text("hello world\n")
    with pytest.raises(ImportFailed) as excinfo:
        run(project, tmp_path / "what.txt")
    assert "cannot detect the format" in str(excinfo.value)
    (tmp_path / "keys.jsonl").write_text('{"question": "x"}\n')
    with pytest.raises(ImportFailed) as excinfo:
        run(project, tmp_path / "keys.jsonl")
    assert errors_of(excinfo) == [
        "line 1: cannot detect the format from the first record's keys (question); pass a format"
    ]
    assert failed_runs().count() == 5


def test_broken_json_array_names_the_record(project, tmp_path):
    good = json.dumps(record(1))
    (tmp_path / "broken.json").write_text(f"[\n{good},\n{good[:-1]} ,,]\n")
    with pytest.raises(ImportFailed) as excinfo:
        run(project, tmp_path / "broken.json", format="jsonl")
    assert errors_of(excinfo) == [
        "record 1 (line 3): invalid JSON: Expecting property name enclosed in double quotes"
    ]
    (tmp_path / "array.json").write_text(f'[{good}, {{"prompt": 1}}]')
    with pytest.raises(ImportFailed) as excinfo:
        run(project, tmp_path / "array.json")
    assert errors_of(excinfo)[0] == "record 1 (line 1): response_a: required"


def test_invalid_utf8_names_the_line(project, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        json.dumps(record(1)).encode() + b"\n" + '{"prompt": "caf\xe9"}'.encode("latin-1")
    )
    with pytest.raises(ImportFailed) as excinfo:
        run(project, path)
    assert errors_of(excinfo) == ["line 2: not valid UTF-8 (byte 16 of the line)"]


def test_successful_import_starts_feature_extraction_on_commit(
    project, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    fake = types.ModuleType("analysis.services.features")
    fake.feature_job_enqueue = lambda *, project: calls.append(project)
    monkeypatch.setitem(sys.modules, "analysis.services.features", fake)
    path = write_jsonl(tmp_path / "data.jsonl", [record(1)])

    with django_capture_on_commit_callbacks() as callbacks:
        import_file(project=project, path_or_fileobj=path)
    assert calls == []  # not before the commit
    for callback in callbacks:
        callback()
    assert calls == [project]

    with django_capture_on_commit_callbacks(execute=True):
        import_file(project=project, path_or_fileobj=path)  # nothing new: nothing to extract
        import_file(
            project=project,
            path_or_fileobj=write_jsonl(tmp_path / "two.jsonl", [record(2)]),
            start_features=False,
        )
    assert calls == [project]


def test_failed_import_starts_nothing(project, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ImportFailed):
        import_file(project=project, path_or_fileobj=write_jsonl(tmp_path / "x.jsonl", ["{"]))
    assert callbacks == []


def test_nan_and_deep_nesting_are_invalid_json(project, tmp_path):
    nan = json.dumps(record(1)).replace('"Question 1?"', "NaN")
    deep = '{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_jsonl(tmp_path / "bad.jsonl", [json.dumps(record(0)), nan, deep]))
    assert errors_of(excinfo) == [
        "line 2: invalid JSON: NaN is not valid JSON",
        "line 3: invalid JSON: nested too deeply",
    ]
    (tmp_path / "bad.json").write_text(f"[{nan}]")
    with pytest.raises(ImportFailed) as excinfo:
        run(project, tmp_path / "bad.json", format="jsonl")
    assert errors_of(excinfo) == ["record 0 (line 1): invalid JSON: NaN is not valid JSON"]
