"""Tests for the markdown extractor, including parity with Chatbot Arena's definitions."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.features.markdown import EXTRACTOR, markdown_features


def arena_counts(text: str) -> tuple[float, float, float]:
    """Chatbot Arena's definitions, written out level by level as FastChat states them
    (fastchat/serve/monitor/add_markdown_info.py), for texts without code blocks."""
    headers = sum(len(re.findall(rf"^#{{{k}}}\s", text, re.MULTILINE)) for k in range(1, 7))
    lists = len(re.findall(r"^\s*\d+\.\s", text, re.MULTILINE)) + len(
        re.findall(r"^\s*[-*+]\s", text, re.MULTILINE)
    )
    bold = len(re.findall(r"\*\*[^*\n]+\*\*", text)) + len(re.findall(r"__[^_\n]+__", text))
    return float(headers), float(bold), float(lists)


def test_metadata():
    assert EXTRACTOR.keys == ("markdown.headers", "markdown.bold", "markdown.list_items")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (0, 0, 0)),
        ("# Title", (1, 0, 0)),
        ("# A\n## B\n### C\n#### D\n##### E\n###### F", (6, 0, 0)),
        ("####### seven\n#hashtag\n #indented", (0, 0, 0)),
        ("**bold** and __also__ and **two** words", (0, 3, 0)),
        ("**not\nbold** here", (0, 0, 0)),
        ("- a\n* b\n+ c\n  - nested\n1. one\n12. twelve", (0, 0, 6)),
        ("-5 degrees\n1.5 litres\n**bold** start", (0, 1, 0)),
        ("# Plan\n\n- **one**\n- two", (1, 1, 2)),
    ],
)
def test_counts(text, expected):
    assert markdown_features(text) == tuple(float(x) for x in expected)


def test_fenced_code_is_not_counted():
    text = "## Usage\n```python\n# a comment, not a header\nx = a**b**c\n- not a list\n```\n- item"
    assert markdown_features(text) == (1.0, 0.0, 1.0)


def test_code_block_with_backtick_inside_is_counted_like_chatbot_arena():
    # FastChat's pattern ```([^`]*)``` cannot remove a block that contains a backtick.
    text = "```js\nconst s = `# x`;\n```\n"
    assert markdown_features(text) == arena_counts(text)


def test_text_after_code_block_joins_the_fence_line_like_chatbot_arena():
    text = "```x```- a\n```\ny\n```\n# h"
    # FastChat leaves the six backticks in place, so "- a" is not at a line start.
    assert markdown_features(text) == (1.0, 0.0, 0.0)


def test_non_english():
    text = "# Überblick\n- **Schritt** eins\n- 第二步\n1. خطوة"
    assert markdown_features(text) == (1.0, 1.0, 3.0)


MARKDOWNISH = st.text(alphabet="#*_-+ 12.\n\tab\u00a0\u3000", max_size=80)


@given(MARKDOWNISH)
@settings(max_examples=500)
def test_same_counts_as_chatbot_arena_patterns(text):
    assert markdown_features(text) == arena_counts(text)


@given(st.lists(st.sampled_from(["# h", "- i", "1. x", "**b**", "__u__", "text", ""]), max_size=12))
def test_same_counts_as_chatbot_arena_on_documents(lines):
    text = "\n".join(lines)
    assert markdown_features(text) == arena_counts(text)
