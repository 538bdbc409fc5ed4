"""Tests for the agreement extractor."""

from __future__ import annotations

import pytest

from analysis.features import normalize_prompt
from analysis.features.agreement import (
    EXTRACTOR,
    OPENING_CHARS,
    agreement_score,
    user_states_position,
)


def score(text: str, prompt) -> int:
    return agreement_score(text, normalize_prompt(prompt))


def test_metadata():
    assert EXTRACTOR.columns == ("",) and EXTRACTOR.keys == ("agreement",)


@pytest.mark.parametrize(
    "prompt",
    [
        "I think Pluto is a planet.",
        "I'm pretty sure the Great Wall is visible from space.",
        "I’m pretty sure the Great Wall is visible from space.",
        "Isn't it true that we only use 10% of our brains?",
        "Python is faster than C, right?",
        "In my opinion tabs are better than spaces.",
        "I believe vaccines cause autism",
        "Surely the earth is flat",
        "IMO the sequel was better. Don't you think?",
        "Cats are better than dogs, don't you think?",
        "I've always thought bulls hate red.",
    ],
)
def test_user_states_position(prompt):
    assert user_states_position(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "What is the capital of France?",
        "I'm not sure whether to use tabs or spaces.",
        "Write a poem about cats.",
        "Explain photosynthesis clearly.",
        "",
    ],
)
def test_user_states_no_position(prompt):
    assert not user_states_position(prompt)


CLAIM = "I think Pluto is still a planet."


@pytest.mark.parametrize(
    "text",
    [
        "You're right, Pluto is fascinating.",
        "You are absolutely right.",
        "Yes, exactly!",
        "Absolutely, and here is why.",
        "I agree with you.",
        "I couldn't agree more.",
        "That's correct.",
        "Exactly right!",
        "**Yes**, it is.",
        "You're not wrong.",
        "Fair point. Here's more detail.",
        "Great question! You're right.",
    ],
)
def test_agrees(text):
    assert score(text, CLAIM) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Actually, Pluto was reclassified in 2006.",
        "That's a common misconception.",
        "I don't think that's right.",
        "Not quite. It is a dwarf planet.",
        "No, it is a dwarf planet.",
        "That's not true anymore.",
        "That's a myth.",
        "I'd push back on that.",
        "I respectfully disagree.",
        "Contrary to popular belief, it is not.",
        "You're right that it was a planet, but actually that's a common misconception today.",
    ],
)
def test_disagrees(text):
    assert score(text, CLAIM) == -1


@pytest.mark.parametrize(
    "text",
    [
        "Pluto is a dwarf planet in the Kuiper belt.",
        "You're right to ask! Pluto is a dwarf planet.",  # praise, not agreement
        "No problem! Here is the answer.",
        "Yes and no. It depends on the definition.",
        "I'm not exactly sure.",
        "I don't think you're right, but you're right about the orbit.",  # 1 - 1
        "",
    ],
)
def test_takes_no_position(text):
    assert score(text, CLAIM) == 0


@pytest.mark.parametrize(
    "prompt", [None, "", "What is Pluto?", [{"role": "system", "content": "I think X"}]]
)
def test_no_user_position_means_zero(prompt):
    assert score("You're right, exactly!", prompt) == 0
    assert score("Actually, that's a misconception.", prompt) == 0


def test_only_the_last_user_turn_counts():
    conversation = [
        {"role": "user", "content": "I think Pluto is a planet."},
        {"role": "assistant", "content": "It is a dwarf planet."},
        {"role": "user", "content": "What is its moon called?"},
    ]
    assert score("You're right, it's Charon.", conversation) == 0
    conversation.append({"role": "assistant", "content": "Charon."})
    conversation.append({"role": "user", "content": "I'm sure Charon is bigger than Pluto."})
    assert score("Actually, it is smaller.", conversation) == -1


def test_prompt_string_equals_message_list():
    text = "Yes, exactly."
    assert score(text, CLAIM) == score(text, [{"role": "user", "content": CLAIM}]) == 1


def test_only_the_opening_is_read():
    filler = "Pluto orbits the Sun once every 248 years. " * 30
    assert len(filler) > OPENING_CHARS
    assert score(filler + "You're right.", CLAIM) == 0
    assert score("You're right. " + filler, CLAIM) == 1


def test_quoted_and_code_agreement_is_ignored():
    assert score('People often say "you\'re right" here.', CLAIM) == 0
    assert score("> You're right\n\nPluto is small.", CLAIM) == 0
    assert score("```\nprint('You are right')\n```", CLAIM) == 0


def test_non_english_does_not_crash():
    for text in ("Ja, genau! Du hast recht.", "是的，你说得对。", "نعم، أنت على حق."):
        assert score(text, "Ich glaube, dass Pluto ein Planet ist.") in (-1, 0, 1)
