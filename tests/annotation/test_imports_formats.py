"""The CSV format and the adapters for public data: hh-rlhf, PandaLM, Chatbot Arena."""

from __future__ import annotations

import json

import pytest

from annotation.models import Comparison, CriterionAnswer, Judgment
from annotation.services.imports import ImportFailed, import_file
from annotation.services.imports.pandalm import split_cmp_key
from tests.annotation.test_imports_helpers import (
    assert_judgment_counts_consistent,
    row_counts,
    write_json,
    write_jsonl,
)

pytestmark = pytest.mark.django_db


def run(project, path, **kwargs):
    kwargs.setdefault("start_features", False)
    return import_file(project=project, path_or_fileobj=path, **kwargs)


def errors_of(excinfo) -> list[str]:
    return [str(e) for e in excinfo.value.errors]


# --- CSV ----------------------------------------------------------------------------------


def test_csv_one_row_per_comparison(project, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "id,prompt,response_a,response_b,model_a,model_b,metadata\n"
        'c-1,What is 2+2?,4,"Four, clearly.",model-x,model-y,"{""topic"": ""math""}"\n'
        'c-2,"A prompt\nover two lines",,"b",,,\n',
        encoding="utf-8",
    )
    result = run(project, path)
    assert (result.format, result.n_comparisons_created, result.n_judgments_created) == (
        "csv",
        2,
        0,
    )
    first = Comparison.objects.get(external_id="c-1")
    assert first.response_b.text == "Four, clearly."
    assert (first.response_a.model, first.metadata) == ("model-x", {"topic": "math"})
    second = Comparison.objects.get(external_id="c-2")
    assert second.prompt.text == "A prompt\nover two lines"
    assert second.response_a.text == ""


def test_csv_one_row_per_judgment(project, tmp_path):
    path = tmp_path / "judged.csv"
    path.write_text(
        "id,prompt,response_a,response_b,model_a,model_b,annotator,choice,strength,"
        "shown_left,seconds,rationale,created_at,criteria\n"
        "c-1,Q?,A,B,x,y,ann-1,a,2,b,12.5,Shorter,2026-01-01T00:00:00Z,"
        '"{""clarity"": {""a"": 5, ""b"": 2}}"\n'
        "c-1,Q?,A,B,x,y,ann-2,tie,,,,,,\n"
        "c-2,Q2?,A,B,x,y,,,,,,,,\n",
        encoding="utf-8",
    )
    result = run(project, path)
    assert (result.n_comparisons_created, result.n_judgments_created) == (2, 2)
    judgment = Judgment.objects.get(external_annotator="ann-1")
    assert (judgment.choice, judgment.strength, judgment.shown_left, judgment.seconds) == (
        "a",
        2,
        "b",
        12.5,
    )
    answer = CriterionAnswer.objects.get(judgment=judgment)
    assert (answer.score_a, answer.score_b, answer.scale_min, answer.scale_max) == (5, 2, 1, 5)
    assert Comparison.objects.get(external_id="c-1").n_judgments == 2
    assert Comparison.objects.get(external_id="c-2").n_judgments == 0


def test_csv_errors_name_the_line_a_record_starts_on(project, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,prompt,response_a,response_b,choice,annotator,strength\n"
        'c-1,"two\nlines",a,b,a,ann,1\n'
        "c-2,Q,a,b,maybe,ann,\n"
        "c-3,Q,a,b,a,,\n"
        "c-4,Q,a,b,a,ann,strong\n"
        "c-5,Q,a,b\n"
        "c-6,,a,b,,,\n"
        "c-7,Q,a,b,,ann,\n",
        encoding="utf-8",
    )
    before = row_counts()
    with pytest.raises(ImportFailed) as excinfo:
        run(project, path)
    assert errors_of(excinfo) == [
        'line 4: choice: expected one of a, b, tie, got "maybe"',
        "line 5: annotator: must not be empty",
        "line 6: strength: expected a number, got 'strong'",
        "line 7: expected 7 fields as in the header, got 4",
        "line 8: prompt: empty prompt",
        "line 9: choice: required when annotator is given",
    ]
    assert row_counts() == before


def test_csv_header_problems(project, tmp_path):
    path = tmp_path / "nohead.csv"
    path.write_text("id,prompt,response_a\nc-1,Q,a\n")
    with pytest.raises(ImportFailed) as excinfo:
        run(project, path)
    assert errors_of(excinfo) == ["line 1: required columns missing: response_b"]
    path.write_text("prompt,response_a,response_b,colour\nQ,a,b,red\n")
    result = run(project, path)
    assert [str(w) for w in result.warnings] == ["line 1: columns ignored: colour"]
    assert Comparison.objects.get().external_id.startswith("auto-")


def test_csv_is_detected_by_extension_and_by_header(project, tmp_path):
    content = "prompt,response_a,response_b\nQ,a,b\n"
    (tmp_path / "x.csv").write_text(content)
    (tmp_path / "x.txt").write_text(content)
    assert run(project, tmp_path / "x.csv").format == "csv"
    assert run(project, tmp_path / "x.txt").format == "csv"


# --- hh-rlhf ------------------------------------------------------------------------------


def hh(first: str, chosen: str, rejected: str) -> dict[str, str]:
    return {
        "chosen": f"{first}\n\nAssistant: {chosen}",
        "rejected": f"{first}\n\nAssistant: {rejected}",
    }


def test_hh_rlhf_splits_transcripts_and_records_the_chosen_side(project, tmp_path):
    shared = "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Tell me a joke"
    records = [hh(f"\n\nHuman: Question {i}?", f"Good {i}", f"Bad {i}") for i in range(20)]
    records.append(hh(shared, "Why did the chicken…", "No."))
    path = write_jsonl(tmp_path / "hh.jsonl.gz", records, gz=True)
    result = run(project, path)
    assert (result.format, result.n_comparisons_created, result.n_judgments_created) == (
        "hh-rlhf",
        21,
        21,
    )
    sides = set()
    for comparison in Comparison.objects.select_related("response_a", "response_b"):
        judgment = comparison.judgments.get()
        assert judgment.external_annotator == "hh-rlhf"
        winner = comparison.response_a if judgment.choice == "a" else comparison.response_b
        loser = comparison.response_b if judgment.choice == "a" else comparison.response_a
        assert winner.text.startswith(("Good", "Why"))
        assert loser.text.startswith(("Bad", "No"))
        assert comparison.metadata == {"source": "hh-rlhf", "chosen": judgment.choice}
        sides.add(judgment.choice)
    assert sides == {"a", "b"}  # the canonical order is not always "chosen is a"
    multi = Comparison.objects.get(response_b__text__in=["No.", "Why did the chicken…"])
    assert multi.prompt.messages == [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Tell me a joke"},
    ]
    assert multi.prompt.is_conversation is True
    # Deterministic: a second import finds the same comparisons.
    again = run(project, path)
    assert (again.n_comparisons_created, again.n_comparisons_existing) == (0, 21)


def test_hh_rlhf_reports_and_skips_records_whose_earlier_turns_differ(project, tmp_path):
    good = hh("\n\nHuman: Q?", "yes", "no")
    differ = {
        "chosen": "\n\nHuman: Q?\n\nAssistant: A.  Human: more?\n\nAssistant: fine",
        "rejected": "\n\nHuman: Q?\n\nAssistant: B",
    }
    not_assistant = {"chosen": "\n\nHuman: Q?\n\nAssistant: A\n\nHuman: ok", "rejected": "x"}
    preamble = {"chosen": "Intro\n\nHuman: Q?\n\nAssistant: A", "rejected": "\n\nHuman: Q?"}
    path = write_jsonl(tmp_path / "hh.jsonl", [good, differ, not_assistant, preamble])
    result = run(project, path)
    assert (result.n_comparisons_created, result.n_skipped) == (1, 3)
    assert [str(w) for w in result.warnings] == [
        "line 2: skipped: earlier turns differ between chosen and rejected "
        "(chosen has 3 turns, rejected 2)",
        "line 3: skipped: chosen: the last turn is not an Assistant turn",
        "line 4: skipped: chosen: text before the first 'Human:' or 'Assistant:' turn",
    ]
    assert result.import_run.n_skipped == 3


def test_hh_rlhf_bad_values_are_errors(project, tmp_path):
    path = write_jsonl(
        tmp_path / "hh.jsonl", [hh("\n\nHuman: Q?", "a", "b"), {"chosen": ["x"], "rejected": "y"}]
    )
    with pytest.raises(ImportFailed) as excinfo:
        run(project, path)
    assert errors_of(excinfo) == ["line 2: chosen: expected a string, got an array"]


# --- PandaLM ------------------------------------------------------------------------------


def panda(idx: int, **overrides):
    data = {
        "idx": idx,
        "motivation_app": "Grammarly",
        "cmp_key": "cerebras-gpt-6.7B_llama-7b",
        "instruction": "Rewrite the sentence.",
        "input": "Me and him goes there.",
        "response1": "He and I go there.",
        "response2": "Me and him go there.",
        "annotator1": 1,
        "annotator2": 0,
        "annotator3": 2,
    }
    data.update(overrides)
    return data


def test_split_cmp_key():
    assert split_cmp_key("cerebras-gpt-6.7B_llama-7b") == ("cerebras-gpt-6.7B", "llama-7b")
    assert split_cmp_key("a_b_c") is None
    assert split_cmp_key("no-separator") is None
    assert split_cmp_key("_b") is None


def test_pandalm_records(project, tmp_path):
    records = [
        panda(0),
        panda(1, input="", response2=True),
        panda(2, response1=False, annotator4=1),
    ]
    result = run(project, write_json(tmp_path / "panda.json", records))
    assert (result.format, result.n_comparisons_created, result.n_judgments_created) == (
        "pandalm",
        3,
        10,
    )
    first = Comparison.objects.get(external_id="pandalm-0")
    assert first.prompt.text == "Rewrite the sentence.\n\nMe and him goes there."
    assert (first.response_a.model, first.response_b.model) == ("cerebras-gpt-6.7B", "llama-7b")
    assert first.metadata == {"source": "pandalm", "motivation_app": "Grammarly", "idx": 0}
    choices = dict(first.judgments.values_list("external_annotator", "choice"))
    assert choices == {
        "pandalm-annotator1": "a",
        "pandalm-annotator2": "tie",
        "pandalm-annotator3": "b",
    }
    second = Comparison.objects.get(external_id="pandalm-1")
    assert second.prompt.text == "Rewrite the sentence."
    assert second.response_b.text == "True"
    assert Comparison.objects.get(external_id="pandalm-2").response_a.text == "False"
    assert [str(w) for w in result.warnings] == [
        "record 1 (line 14): response2: expected a string, got a boolean; stored as 'True'",
        "record 2 (line 26): response1: expected a string, got a boolean; stored as 'False'",
    ]
    assert_judgment_counts_consistent()


def test_pandalm_errors(project, tmp_path):
    records = [
        panda(0, cmp_key="model_with_underscore_x"),
        panda(1, annotator2=3),
        panda(2, annotator1=True),
    ]
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_json(tmp_path / "panda.json", records))
    assert errors_of(excinfo) == [
        "record 0 (line 2): cmp_key: cannot split 'model_with_underscore_x' into two model "
        "names: expected exactly one '_' between them (model names must not contain '_')",
        "record 1 (line 14): annotator2: expected 0 (tie), 1 or 2, got 3",
        "record 2 (line 26): annotator1: expected 0 (tie), 1 or 2, got True",
    ]
    assert Comparison.objects.count() == 0


# --- Chatbot Arena ------------------------------------------------------------------------


def battle(**overrides):
    data = {
        "question_id": "q1",
        "model_a": "gpt-4",
        "model_b": "claude-v1",
        "winner": "model_b",
        "judge": "arena_user_12",
        "conversation_a": [
            {"role": "user", "content": "Hi?"},
            {"role": "assistant", "content": "Hello from A"},
        ],
        "conversation_b": [
            {"role": "user", "content": "Hi?"},
            {"role": "assistant", "content": "Hello from B"},
        ],
        "turn": 1,
        "anony": True,
        "language": "English",
        "tstamp": 1682351591.1322,
    }
    data.update(overrides)
    return data


def two_turns(side: str):
    return [
        {"role": "user", "content": "First?"},
        {"role": "assistant", "content": f"first answer {side}"},
        {"role": "user", "content": "Second?"},
        {"role": "assistant", "content": f"second answer {side}"},
    ]


def test_arena_battles(project, tmp_path):
    records = [
        battle(),
        battle(question_id="q2", winner="tie (bothbad)", judge=None, turn=None),
        battle(
            question_id="q3",
            conversation_a=two_turns("A"),
            conversation_b=two_turns("B"),
            turn=2,
        ),
        battle(
            question_id="q3",
            conversation_a=two_turns("A"),
            conversation_b=two_turns("B"),
            turn=1,
            judge="expert_1",
            winner="model_a",
        ),
    ]
    result = run(project, write_jsonl(tmp_path / "arena.jsonl", records))
    assert (result.format, result.n_comparisons_created, result.n_judgments_created) == (
        "arena",
        4,
        4,
    )
    first = Comparison.objects.get(external_id="arena-q1-gpt-4-claude-v1-turn1")
    assert (first.response_a.text, first.response_a.model) == ("Hello from A", "gpt-4")
    assert (first.response_b.text, first.response_b.model) == ("Hello from B", "claude-v1")
    assert first.prompt.messages == [{"role": "user", "content": "Hi?"}]
    assert first.metadata == {
        "source": "arena",
        "question_id": "q1",
        "turn": 1,
        "anony": True,
        "language": "English",
    }
    judgment = first.judgments.get()
    assert (judgment.external_annotator, judgment.choice) == ("arena_user_12", "b")
    assert judgment.created_at.year == 2023
    tie = Comparison.objects.get(external_id="arena-q2-gpt-4-claude-v1").judgments.get()
    assert (tie.external_annotator, tie.choice) == ("arena", "tie")

    second_turn = Comparison.objects.get(external_id="arena-q3-gpt-4-claude-v1-turn2")
    assert second_turn.prompt.messages == [
        {"role": "user", "content": "First?"},
        {"role": "user", "content": "Second?"},
    ]
    assert second_turn.response_a.text == "second answer A"
    assert second_turn.metadata["earlier_turns_a"] == ["first answer A"]
    assert second_turn.metadata["earlier_turns_b"] == ["first answer B"]
    first_turn = Comparison.objects.get(external_id="arena-q3-gpt-4-claude-v1-turn1")
    assert first_turn.response_b.text == "first answer B"
    assert "earlier_turns_a" not in first_turn.metadata
    assert "earlier assistant turns" in str(result.warnings[0])


@pytest.mark.parametrize("batch_size", [1, 5000])
def test_arena_several_judges_share_a_comparison(project, tmp_path, batch_size):
    records = [battle(judge="j1"), battle(judge="j2", winner="model_a"), battle(judge="j1")]
    result = run(project, write_json(tmp_path / "arena.json", records), batch_size=batch_size)
    assert (result.n_comparisons_created, result.n_judgments_created) == (1, 2)
    assert [str(w) for w in result.warnings] == [
        "record 2 (line 64): annotator: 'j1' already judged "
        "'arena-q1-gpt-4-claude-v1-turn1' earlier in the file; kept the first judgment"
    ]
    assert Comparison.objects.get().n_judgments == 2


def test_arena_skips_and_errors(project, tmp_path):
    different_user = battle(
        question_id="q9",
        conversation_b=[
            {"role": "user", "content": "Something else"},
            {"role": "assistant", "content": "B"},
        ],
    )
    result = run(project, write_jsonl(tmp_path / "arena.jsonl", [battle(), different_user]))
    assert [str(w) for w in result.warnings] == [
        "line 2: skipped: the user turns differ between the conversations"
    ]
    bad = [battle(winner="model_c"), battle(conversation_a="text"), battle(turn=3)]
    with pytest.raises(ImportFailed) as excinfo:
        run(project, write_jsonl(tmp_path / "bad.jsonl", bad))
    assert errors_of(excinfo) == [
        "line 1: winner: expected one of model_a, model_b, tie, tie (bothbad), tie (both bad), "
        "got 'model_c'",
        "line 2: conversation_a: expected a non-empty array of messages, got a string",
        "line 3: conversation_a: has no answer to user turn 3",
    ]


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.jsonl", {"prompt": "Q", "response_a": "a", "response_b": "b"}, "jsonl"),
        ("a.json", [{"prompt": "Q", "response_a": "a", "response_b": "b"}], "jsonl"),
        (
            "a.jsonl",
            {"chosen": "\n\nHuman: Q\n\nAssistant: a", "rejected": "\n\nHuman: Q\n\nAssistant: b"},
            "hh-rlhf",
        ),
        ("a.json", [panda(0)], "pandalm"),
        ("data", [battle()], "arena"),
        ("data.gz", {"prompt": "Q", "response_a": "a", "response_b": "b"}, "jsonl"),
    ],
)
def test_auto_detection(project, tmp_path, name, content, expected):
    path = tmp_path / name
    if isinstance(content, list):
        write_json(path, content)
    else:
        write_jsonl(path, [content], gz=name.endswith(".gz"))
    assert run(project, path).format == expected


def test_explicit_format_overrides_detection(project, tmp_path):
    path = write_jsonl(
        tmp_path / "x.jsonl", [{"prompt": "Q", "response_a": "a", "response_b": "b"}]
    )
    with pytest.raises(ImportFailed) as excinfo:
        run(project, path, format="hh-rlhf")
    assert errors_of(excinfo) == ["line 1: chosen: required", "line 1: rejected: required"]
    assert json.loads(path.read_text())["prompt"] == "Q"
