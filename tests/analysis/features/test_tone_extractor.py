"""Tests for the tone extractor."""

from __future__ import annotations

import pytest

from analysis.features.tone import EXTRACTOR, tone_features

COLUMNS = ("exclamations", "hedges", "confident", "apologies", "refusals")


def tone(text: str) -> dict[str, int]:
    return {c: int(v) for c, v in zip(COLUMNS, tone_features(text), strict=True)}


def test_metadata():
    assert EXTRACTOR.columns == COLUMNS
    assert EXTRACTOR.keys == tuple(f"tone.{c}" for c in COLUMNS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Great!", 1),
        ("Wow!! Really!", 3),
        ("No exclamations here.", 0),
        ("```\nif x != y: print('hi!')\n```", 0),
        ("Use `!important` sparingly", 0),
        ("x != y", 0),
        ("![logo](logo.png)", 0),
        ("Hola! ¡Hola! 你好！", 2),  # the full-width ！ is not "!"
    ],
)
def test_exclamations(text, expected):
    assert tone(text)["exclamations"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It might work.", 1),
        ("Perhaps. Possibly. Maybe. Probably.", 4),
        ("It seems fine, and it appears stable.", 2),
        ("I'm not sure. I am not entirely sure. Not sure.", 3),
        ("I’m not sure.", 1),
        ("I think so; I believe it; I suspect not; I guess.", 4),
        ("If I'm not mistaken, I could be wrong.", 2),
        ("I might be wrong.", 1),
        ("A mighty river; you may go; it could run; the window appears.", 0),
        ("MIGHT", 1),
        ("", 0),
    ],
)
def test_hedges(text, expected):
    assert tone(text)["hedges"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It will definitely work.", 1),
        ("Certainly! Without a doubt, undoubtedly.", 3),
        ("There is no doubt. Of course. For sure.", 3),
        ("I'm sure. I am certain. I'm confident.", 3),
        ("I'm absolutely sure.", 1),
        ("I'm not sure.", 0),
        ("Make sure to check certain people.", 0),
    ],
)
def test_confident(text, expected):
    assert tone(text)["confident"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm sorry for the confusion.", 1),
        ("Sorry! I apologize. My apologies.", 3),
        ("Apologies for the delay.", 1),
        ("He apologized to the team.", 0),
        ('He said "I\'m sorry" to her.', 0),
        ("> I'm sorry\n\nQuoted above.", 0),
    ],
)
def test_apologies(text, expected):
    assert tone(text)["apologies"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I can't help with that.", 1),
        ("I cannot assist with this request.", 1),
        ("I won't be able to provide that.", 1),
        ("I'm unable to comply.", 1),
        ("I am not able to share those details.", 1),
        ("I must decline.", 1),
        ("I'm not comfortable writing that.", 1),
        ("I’m sorry, but I can’t help with that.", 1),
        ("I can't help but notice the pattern.", 0),
        ("You can't do that in Python.", 0),
        ("I can't believe how fast it is.", 0),
    ],
)
def test_refusals(text, expected):
    assert tone(text)["refusals"] == expected


def test_code_is_ignored():
    text = "```python\n# I'm sorry, this might definitely fail!\nraise E('I cannot assist')\n```"
    assert tone(text) == dict.fromkeys(COLUMNS, 0)


def test_non_english_no_crash_and_no_english_matches():
    cases = [
        ("Vielleicht! Ich bin mir nicht sicher.", 1),
        ("也许吧！我不确定。", 0),  # the full-width ！ is a different character
        ("ربما! لست متأكدا.", 1),
    ]
    for text, exclamations in cases:
        values = tone(text)
        assert values["exclamations"] == exclamations
        assert values["hedges"] == values["confident"] == values["refusals"] == 0
