"""Tests for the emojis extractor."""

from __future__ import annotations

import emoji
import pytest

from analysis.features.emojis import EXTRACTOR, count_emojis


def test_metadata():
    assert EXTRACTOR.name == "emojis"
    assert EXTRACTOR.columns == ("",) and EXTRACTOR.keys == ("emojis",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("👨‍👩‍👧‍👦", 1),  # ZWJ family
        ("👍🏽", 1),  # skin-tone modifier
        ("🇫🇷", 1),  # flag: two regional indicators
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", 1),  # Scotland: tag sequence
        ("1️⃣", 1),  # keycap
        ("#⃣", 1),  # keycap without the variation selector
        ("❤️", 1),  # variation selector
        ("❤", 1),
        ("🧑🏽‍🚀", 1),  # ZWJ with a skin tone
        ("🏳️‍🌈", 1),
        ("Done 👍🏽 🇫🇷 👨‍👩‍👧‍👦!", 3),
        ("😀😀😀", 3),
        ("🇫🇷🇩🇪", 2),
        ("© 2024 ACME™", 2),  # emoji-capable symbols the emoji package lists
        ("", 0),
        ("plain ascii text :-) :smile: <3", 0),
        ("1 2 3 # *", 0),
        ("🇫", 0),  # a lone regional indicator
        ("1️", 0),  # keycap base without the combining keycap mark
        ("Über Straße — „Zitat“ … 中文。", 0),
        ("→ € ∞ ≠", 0),  # symbols near the emoji ranges
        ("👨‍🦰‍👧", 2),  # not an RGI sequence: shown (and counted) as its parts
    ],
)
def test_counts(text, expected):
    assert count_emojis(text) == expected
    assert EXTRACTOR.func(text, ()) == (float(expected),)


@pytest.mark.parametrize(
    "text",
    [
        "Great job 🎉🎉 — you’re almost there 💪🏿! See 1️⃣ and 2️⃣.",
        "✅ Done\n⚠️ Careful\n✨ Shiny ⭐ 🚀",
        "Family: 👨‍👩‍👧‍👦, coder: 👩‍💻, flags 🇯🇵🇺🇸 🏴󠁧󠁢󠁳󠁣󠁴󠁿 ❤️‍🔥",
    ],
)
def test_agrees_with_emoji_package_on_realistic_text(text):
    assert count_emojis(text) == emoji.emoji_count(text)


def test_documented_difference_dangling_zwj():
    # A zero-width joiner after a complete emoji, followed by text: the emoji package
    # drops the heart; what a reader sees is one emoji.
    assert emoji.emoji_count("❤️\u200dx") == 0
    assert count_emojis("❤️\u200dx") == 1
