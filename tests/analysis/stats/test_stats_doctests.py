"""Run the Examples sections of the statistics modules as tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "analysis.stats.design",
    "analysis.stats.main_model",
    "analysis.stats.tiebreak",
    "analysis.stats.importance",
    "analysis.stats.position",
    "analysis.stats.descriptives",
    "analysis.stats.intervals",
    "analysis.stats.analyze",
    "analysis.stats.synthetic",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
