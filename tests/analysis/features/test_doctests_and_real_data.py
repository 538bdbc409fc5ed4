"""Docstring examples, and a sweep over public preference data (shared/datasets)."""

from __future__ import annotations

import doctest
import gzip
import importlib
import json
import math
import re

import emoji
import pytest

from analysis.features import DEFAULT_EXTRACTORS, load_registry
from analysis.features.emojis import count_emojis
from tests.datasets import HH_RLHF, PANDALM

MODULES = [
    "analysis.features._text",
    "analysis.features.length",
    "analysis.features.emojis",
    "analysis.features.flattery",
    "analysis.features.agreement",
    "analysis.features.markdown",
    "analysis.features.tone",
]
REGISTRY = load_registry(DEFAULT_EXTRACTORS)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def hh_pairs() -> list[tuple[str, str]]:
    """(last assistant turn, last human turn) of every chosen and rejected transcript."""
    pairs = []
    with gzip.open(HH_RLHF, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            for transcript in (record["chosen"], record["rejected"]):
                head, _, answer = transcript.rpartition("\n\nAssistant:")
                question = head.rpartition("\n\nHuman:")[2]
                pairs.append((answer.strip(), question.strip()))
    return pairs


def test_hh_rlhf_sweep():
    pairs = hh_pairs()
    assert len(pairs) > 4000
    totals = dict.fromkeys(REGISTRY.feature_keys(), 0.0)
    for answer, question in pairs:
        values = REGISTRY.extract(answer, question)
        assert all(math.isfinite(v) for v in values.values())
        for key, value in values.items():
            totals[key] += value != 0
        assert count_emojis(answer) == emoji.emoji_count(answer)
    # Harmlessness data: the assistant apologises and refuses, often.
    assert totals["tone.apologies"] > 50
    assert totals["tone.refusals"] > 20
    assert totals["tone.hedges"] > 500
    assert 0 < totals["agreement"] < len(pairs)


def arena_counts(text: str) -> tuple[float, float, float]:
    headers = len(re.findall(r"^#{1,6}\s", text, re.MULTILINE))
    lists = len(re.findall(r"^\s*\d+\.\s", text, re.MULTILINE)) + len(
        re.findall(r"^\s*[-*+]\s", text, re.MULTILINE)
    )
    bold = len(re.findall(r"\*\*[^*\n]+\*\*", text)) + len(re.findall(r"__[^_\n]+__", text))
    return float(headers), float(bold), float(lists)


def test_pandalm_sweep():
    records = json.loads(PANDALM.read_text(encoding="utf-8"))
    markdown = REGISTRY["markdown"]
    checked = 0
    for record in records:
        prompt = f"{record['instruction']}\n{record['input']}".strip()
        for response in (record["response1"], record["response2"]):
            if not isinstance(response, str):  # a few records hold a JSON boolean
                continue
            values = REGISTRY.extract(response, prompt)
            assert all(math.isfinite(v) for v in values.values())
            assert count_emojis(response) == emoji.emoji_count(response)
            if "```" not in response:
                assert markdown.func(response, ()) == arena_counts(response)
                checked += 1
    assert checked > 1900
