"""Tests for analysis.features._text: prompt normalisation, prose views, phrase matching."""

from __future__ import annotations

import re

import pytest

from analysis.features._text import (
    SENTENCE_START,
    anchored_pattern,
    expand,
    last_user_message,
    normalize_prompt,
    own_voice,
    phrase_groups,
    register_words,
    strip_code,
    trie_regex,
    vocabulary,
)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (None, ()),
        ("hi", ({"role": "user", "content": "hi"},)),
        ("", ({"role": "user", "content": ""},)),
        ({"role": "user", "content": "x"}, ({"role": "user", "content": "x"},)),
        ([{"role": "System", "content": "s"}], ({"role": "system", "content": "s"},)),
        ([{"content": "no role"}], ({"role": "user", "content": "no role"},)),
        ([{"role": "user"}], ({"role": "user", "content": ""},)),
        ([{"role": "user", "content": 5}], ({"role": "user", "content": "5"},)),
        (
            [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image"}]}],
            ({"role": "user", "content": "a"},),
        ),
        (["junk", 3, {"role": "user", "content": "ok"}], ({"role": "user", "content": "ok"},)),
        ((), ()),
    ],
)
def test_normalize_prompt(prompt, expected):
    assert normalize_prompt(prompt) == expected


def test_last_user_message():
    messages = normalize_prompt(
        [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "reply"},
            {"role": "user", "content": "second"},
            {"role": "assistant", "content": "reply 2"},
        ]
    )
    assert last_user_message(messages) == "second"
    assert last_user_message(()) == ""
    assert last_user_message(normalize_prompt([{"role": "system", "content": "s"}])) == ""


def test_strip_code():
    text = "a ```py\nx = 1\n``` b `c` d ~~~\ne\n~~~ f ```unclosed\ng"
    assert strip_code(text) == "a \n b   d \n f \n"


def test_own_voice_removes_quotes_blockquotes_and_code():
    text = 'He said "Great!" — “Wow”.\n> quoted line\nMine’s `code` here'
    voice = own_voice(text)
    assert voice.startswith("\n")
    assert "great" not in voice and "wow" not in voice and "quoted" not in voice
    assert "code" not in voice
    assert "mine's" in voice


def test_vocabulary_splits_punctuation_apostrophes_and_non_ascii():
    expected = {b"you", b"re", b"right", b"maybe", b"well", b"actually", b"don", b"t"}
    register_words([*expected, b"sorry", b"snake_case", b"caf", b"unused"])
    vocab = vocabulary("You're RIGHT, (maybe)... well—actually; don't! sorry😔 snake_case café")
    assert vocab == {*expected, b"sorry", b"snake_case", b"caf"}


def test_vocabulary_reports_only_registered_words():
    text = "Zebras quietly graze."
    assert b"zebras" not in vocabulary(text)
    register_words([b"zebras"])  # clears cached vocabularies, so this text is re-read
    assert b"zebras" in vocabulary(text)


def test_expand():
    expected = ["i'm so sorry", "i'm sorry", "i am so sorry", "i am sorry"]
    assert expand("i{'m| am} {so |}sorry") == expected
    assert expand("plain") == ["plain"]


def test_anchored_pattern_starts_with_its_literal_anchor():
    pattern = anchored_pattern("sure", [("not ", ""), ("i'm not ", "")])
    assert pattern.pattern.startswith("sure")
    assert pattern.findall("\ni'm not sure. not sure, unsure, not surely") == ["sure", "sure"]


def test_phrase_groups_count_each_anchor_once_and_respect_boundaries():
    groups = phrase_groups({"sure": ["{i'm |}not sure", "not {entirely |}sure"]})
    text = "I'm not sure. Not entirely sure. Notsure. not surely."
    assert groups.count(own_voice(text), vocabulary(text)) == 2


def test_phrase_groups_sentence_start_and_exclusions():
    groups = phrase_groups({"yes": ["^yes{,|!}"]})
    text = "Yes, it is. And yes, really. **Yes**! and yes!\n- yes, item"
    assert groups.count(own_voice(text), vocabulary(text)) == 3
    right = phrase_groups(
        {"right": ["{you're|you are} right"]}, not_after=("not ",), not_before=r"\s+to\b"
    )
    for text, expected in [
        ("You're right.", 1),
        ("You're right to ask.", 0),
        ("Not you're right.", 0),
        ("Whatever you're right", 1),
    ]:
        assert right.count(own_voice(text), vocabulary(text)) == expected, text


def test_phrase_groups_rejects_bad_templates():
    with pytest.raises(ValueError, match="does not contain anchor"):
        phrase_groups({"sure": ["certain"]})
    with pytest.raises(ValueError, match="must begin with anchor"):
        phrase_groups({"sure": ["^not sure"]})
    assert SENTENCE_START == "^"


def test_trie_regex_prefers_longest():
    pattern = re.compile(trie_regex(["ab", "abc", "b", "ac"]))
    assert pattern.findall("abcab bac") == ["abc", "ab", "b", "ac"]
