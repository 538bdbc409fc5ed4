"""Tests for the length extractor."""

from __future__ import annotations

import pytest

from analysis.features.length import EXTRACTOR, approximate_tokens, length_features


def test_metadata():
    assert EXTRACTOR.name == "length"
    assert EXTRACTOR.keys == ("length.chars", "length.words", "length.tokens")


@pytest.mark.parametrize(
    ("text", "chars", "words"),
    [
        ("", 0, 0),
        ("   \n\t ", 6, 0),
        ("Hello, world!", 13, 2),
        ("don't  stop\nbelieving", 21, 3),
        ("**Note**: x", 11, 2),
        ("👍🏽", 2, 1),  # code points: the thumb and the skin-tone modifier
        ("Ich möchte gern ein Stück Käse.", 31, 6),
        ("这是一个中文句子。", 9, 1),  # no spaces: one whitespace-separated word
        ("مرحبا كيف حالك اليوم", 20, 4),
        ("a\u00a0b", 3, 2),  # a no-break space separates words too
    ],
)
def test_chars_and_words(text, chars, words):
    got_chars, got_words, _ = length_features(text)
    assert (got_chars, got_words) == (chars, words)


def test_tokens_english_prose_is_about_four_and_a_half_bytes_per_token():
    text = "The quick brown fox jumps over the lazy dog near the riverbank today. " * 10
    assert approximate_tokens(text) == round(len(text) / 4.5)


def test_tokens_short_words_count_at_least_per_word():
    # Nine single-digit "words": every one is at least a token.
    assert approximate_tokens("1 2 3 4 5 6 7 8 9") == 11.0  # 9 words * 1.2


def test_tokens_cjk_counts_bytes_not_words():
    text = "这是一个没有表情符号的中文句子。" * 3  # 48 characters, one "word"
    assert approximate_tokens(text) == 32.0  # 144 UTF-8 bytes / 4.5


def test_tokens_monotone_in_length():
    base = "word " * 10
    assert approximate_tokens(base) < approximate_tokens(base * 2) < approximate_tokens(base * 4)


def test_lone_surrogate_does_not_crash():
    chars, words, tokens = length_features("a\ud800b")
    assert (chars, words) == (3.0, 1.0) and tokens >= 1.0


def test_empty():
    assert length_features("") == (0.0, 0.0, 0.0)
