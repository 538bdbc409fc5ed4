"""Statistics on judgment frames: style effects, tie-breaking, importance and more."""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> defining module. Resolved lazily (PEP 562) so that importing
# ``analysis.stats.frame`` from Django code does not pull in statsmodels and scikit-learn.
_EXPORTS = {
    "AnalysisResult": "analysis.stats.analyze",
    "analyze": "analysis.stats.analyze",
    "a_wins": "analysis.stats.design",
    "has_rubric": "analysis.stats.design",
    "model_matrix": "analysis.stats.design",
    "position_term": "analysis.stats.design",
    "rubric_differences": "analysis.stats.design",
    "style_design": "analysis.stats.design",
    "style_differences": "analysis.stats.design",
    "style_scales": "analysis.stats.design",
    "MainModelResult": "analysis.stats.main_model",
    "ModelFitError": "analysis.stats.main_model",
    "fit_main_model": "analysis.stats.main_model",
    "TiebreakResult": "analysis.stats.tiebreak",
    "rubric_state": "analysis.stats.tiebreak",
    "tiebreak_analysis": "analysis.stats.tiebreak",
    "relative_importance": "analysis.stats.importance",
    "position_bias": "analysis.stats.position",
    "describe": "analysis.stats.descriptives",
    "proportion_summary": "analysis.stats.intervals",
    "wilson_interval": "analysis.stats.intervals",
    "SimulationTruth": "analysis.stats.synthetic",
    "simulate_frame": "analysis.stats.synthetic",
    "simulate_null_frame": "analysis.stats.synthetic",
    "simulate_tiebreaker_frame": "analysis.stats.synthetic",
    "agreement_summary": "analysis.stats.agreement",
    "annotator_sensitivity": "analysis.stats.annotators",
    "leaderboard": "analysis.stats.leaderboard",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
