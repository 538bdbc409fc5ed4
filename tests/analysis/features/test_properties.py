"""Property tests over arbitrary Unicode: no crash, finite floats, determinism, emoji parity."""

from __future__ import annotations

import math

import emoji
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.features import DEFAULT_EXTRACTORS, _text, load_registry
from analysis.features.emojis import count_emojis

REGISTRY = load_registry(DEFAULT_EXTRACTORS)
KEYS = REGISTRY.feature_keys()

# Arbitrary Unicode plus text that reaches the interesting code paths: phrases the
# extractors look for, Markdown, code fences, quotes, emoji and their joiners.
FRAGMENTS = [
    "Great question!", "You're right", "actually, ", "I'm not sure", "sorry", "I can't help",
    "might ", "**bold**", "# ", "\n- ", "\n1. ", "```", "`", '"', "“", "”", "> ", "’", "—",
    "👍🏽", "👨‍👩‍👧‍👦", "\u200d", "\ufe0f", "\u20e3", "🇫", "1", "#", "!", "\n", " ", "I think ",
    "right?", "what a ", "brilliant", "idea", "your ", "you are ", "not ", "\ud800",
]  # fmt: skip
TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=30).map("".join),
)
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "USER"]), "content": TEXTS}
)
PROMPTS = st.one_of(st.none(), TEXTS, st.lists(MESSAGE, max_size=4))
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def clear_caches() -> None:
    for cached in (_text.word_count, _text.strip_code, _text.own_voice, _text.vocabulary):
        cached.cache_clear()


@SETTINGS
@given(TEXTS, PROMPTS)
def test_never_crashes_and_returns_finite_floats(text, prompt):
    values = REGISTRY.extract(text, prompt)
    assert list(values) == KEYS
    for key, value in values.items():
        assert type(value) is float, key
        assert math.isfinite(value), key
    assert values["agreement"] in (-1.0, 0.0, 1.0)
    assert all(value >= 0 for key, value in values.items() if key != "agreement")


@SETTINGS
@given(TEXTS, PROMPTS)
def test_every_extractor_validates(text, prompt):
    # The checked path (used for storage) accepts what the fast path returns.
    grouped = REGISTRY.extract_by_extractor(text, prompt)
    flat = REGISTRY.extract(text, prompt)
    for extractor in REGISTRY:
        for key, column in zip(extractor.keys, extractor.columns, strict=True):
            assert grouped[extractor.name][column] == flat[key]


@SETTINGS
@given(TEXTS, PROMPTS)
def test_deterministic(text, prompt):
    first = REGISTRY.extract(text, prompt)
    assert REGISTRY.extract(text, prompt) == first
    clear_caches()
    # A fresh copy of the string, so no cached state keyed on the object can matter.
    assert REGISTRY.extract("".join(list(text)), prompt) == first


# Words touching punctuation, emoji and quotes in every way.
PHRASEY = st.lists(
    st.sampled_from(
        ["maybe", "sorry", "might", "definitely", "perhaps", "i'm", "not", "sure", "_", "x",
         " ", " ", "\n", ",", ".", "!", "'", "’", '"', "“", "”", "—", "😔", "👍🏽", "-", "`", "*"]
    ),
    max_size=40,
).map("".join)  # fmt: skip


def _all_groups():
    from analysis.features.agreement import AGREE, DISAGREE
    from analysis.features.tone import APOLOGIES, CONFIDENT, HEDGES, REFUSALS

    return (HEDGES, CONFIDENT, APOLOGIES, REFUSALS, AGREE, DISAGREE)


@SETTINGS
@given(PHRASEY)
def test_vocabulary_never_hides_a_phrase(text):
    """The trigger filter is safe: with every trigger forced present, counts do not change."""
    voice, vocab = _text.own_voice(text), _text.vocabulary(text)
    for groups in _all_groups():
        assert groups.count(voice, vocab) == groups.count(voice, vocab | groups.triggers())


EMOJI_LIST = sorted(emoji.EMOJI_DATA)
EMOJI_AND_ASCII = st.lists(
    st.one_of(
        st.sampled_from(EMOJI_LIST),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=3),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(EMOJI_AND_ASCII)
def test_emoji_count_equals_emoji_package(text):
    assert count_emojis(text) == emoji.emoji_count(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(EMOJI_LIST), min_size=1, max_size=8))
def test_emoji_separated_by_spaces_are_each_counted(emojis):
    assert count_emojis(" ".join(emojis)) == len(emojis)


@pytest.mark.parametrize("text", ["\x00", "\ud800", "\U0010ffff" * 3, "\u202e!", "a\u0301" * 50])
def test_odd_code_points(text):
    values = REGISTRY.extract(text, [{"role": "user", "content": text}])
    assert all(math.isfinite(v) for v in values.values())


@SETTINGS
@given(st.one_of(st.text(), st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0ab.")))
def test_word_count_is_whitespace_split(text):
    assert _text.word_count.__wrapped__(text) == len(text.split())
