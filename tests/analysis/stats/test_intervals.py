"""Tests for Wilson intervals and proportion summaries."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis.stats.intervals import proportion_summary, wilson_interval


@pytest.mark.parametrize(("count", "nobs"), [(0, 5), (3, 10), (10, 10), (512, 1000), (1, 2)])
def test_wilson_equals_statsmodels(count, nobs):
    for alpha in (0.05, 0.1):
        expected = proportion_confint(count, nobs, alpha=alpha, method="wilson")
        assert wilson_interval(count, nobs, alpha) == pytest.approx(expected)


def test_zero_trials_gives_nan():
    low, high = wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)
    summary = proportion_summary(0, 0)
    assert summary["n"] == 0 and math.isnan(summary["share"])


def test_summary_keys():
    assert proportion_summary(3, 4)["share"] == 0.75
    assert set(proportion_summary(3, 4)) == {"n", "share", "ci_low", "ci_high"}
