"""Tests for the flattery extractor."""

from __future__ import annotations

import pytest

from analysis.features.flattery import EXTRACTOR, count_flattery, flattery_features


def test_metadata():
    assert EXTRACTOR.keys == ("flattery.count", "flattery.rate")


@pytest.mark.parametrize(
    "text",
    [
        "Great question!",
        "great question",
        "What a thoughtful idea.",
        "You're absolutely right to ask about this.",
        "Brilliant! Let's start.",
        "I love this question.",
        "**Great question!** Here's why.",
        "## Great question\n\nHere's why.",
        "Thanks for such a fascinating question!",
        "You asked a really good question.",
        "That's a really insightful observation.",
        "It's such an interesting question.",
        "Good catch!",
        "Great job!",
        "You have a keen eye.",
        "You're so smart.",
        "You are clearly a quick learner.",
        "You're on the right track.",
        "How thoughtful of you!",
        "Your question is excellent.",
        "Your curiosity is admirable.",
        "Oh, excellent!",
        "Well done!",
        "That's a fair point.",
        "Great idea! Use a cache.",
        "Wow, what a great and insightful question!",
        "Hello! Great question — here's the answer.",
        "You’re absolutely right to ask.",  # curly apostrophe
    ],
)
def test_counts_one(text):
    assert count_flattery(text) == 1


@pytest.mark.parametrize(
    "text",
    [
        # praise of third parties or of the subject matter
        "The Eiffel Tower is a brilliant piece of engineering.",
        "Einstein asked a brilliant question about light.",
        "The results were great!",
        "This is a great approach for beginners.",
        "It's a good idea to back up first.",
        "A good question to ask yourself is whether you need it.",
        "An interesting question is whether AI is conscious.",
        "Great idea: use a cache.",
        # negations
        "That's not a great question.",
        "It's not such a great idea.",
        "This isn't a great question to ask a doctor.",
        "I don't think you're smart enough to need this.",
        # quoted text and code
        'She said "great question" and moved on.',
        "She said “great question” and moved on.",
        "> Great question!\n\nAnswer follows.",
        "```\n# great question\nprint('Brilliant!')\n```",
        "Use `great question` as the key.",
        # agreement is not flattery
        "You're right.",
        "That's correct.",
        # other languages: no English praise, no crash
        "Ce n'est pas une bonne question.",
        "这是个好问题！",
        "هذا سؤال رائع!",
        "",
    ],
)
def test_counts_zero(text):
    assert count_flattery(text) == 0


def test_counts_several():
    text = "Great question! You're so smart. I love this idea."
    assert count_flattery(text) == 3


def test_rate_per_100_words():
    text = "Great question! The Eiffel Tower is a brilliant engineering feat."  # 10 words
    assert flattery_features(text) == (1.0, 10.0)
    assert flattery_features("") == (0.0, 0.0)
    assert flattery_features("Paris.") == (0.0, 0.0)


def test_praise_inside_long_text():
    filler = "The engine converts heat into work in several stages. " * 10
    text = f"{filler}\n\nThat's a great question, and I love that you asked it.\n\n{filler}"
    assert count_flattery(text) == 1


def test_plural_nouns():
    assert count_flattery("Your questions are excellent.") == 1
    assert count_flattery("These are great questions!") == 1
    assert count_flattery("Great questions!") == 1
