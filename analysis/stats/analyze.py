"""One entry point that runs every statistic on a judgment frame into one result."""

from __future__ import annotations

import contextlib
import importlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis.stats.descriptives import describe
from analysis.stats.design import StyleDesign, has_rubric, style_design
from analysis.stats.frame import ANNOTATOR, COMPARISON, OUTCOME
from analysis.stats.importance import relative_importance
from analysis.stats.main_model import MainModelResult, fit_main_model
from analysis.stats.position import position_bias
from analysis.stats.tiebreak import tiebreak_analysis

__all__ = ["SECTIONS", "AnalysisResult", "analyze", "to_jsonable"]

SECTIONS = (
    "main_model",
    "tiebreak",
    "importance",
    "position",
    "descriptives",
    "agreement",
    "annotators",
    "leaderboard",
)

NORMALISATION = (
    "style difference per feature: (a-b)/(a+b) (0 when both 0) for non-negative features, "
    "a-b for signed features; missing -> 0; divided by its root-mean-square over all "
    "judgments (not centred). Coefficients are log-odds per RMS unit; feature_scales gives "
    "the divisor. Rubric differences: a-b per criterion, unanswered -> 0."
)

# (module, function, value when the module is not installed yet) for the sections another
# module owns; imported lazily so this module works while they are being written.
_EXTERNAL: dict[str, tuple[str, str, Any]] = {
    "agreement": ("analysis.stats.agreement", "agreement_summary", {}),
    "annotators": ("analysis.stats.annotators", "annotator_sensitivity", []),
    "leaderboard": ("analysis.stats.leaderboard", "leaderboard", []),
}
# External sections that take the ``features`` of analyze() as a keyword.
_TAKES_FEATURES = frozenset({"annotators"})


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON types: NaN/inf/NA become None, numpy scalars become
    Python numbers, DataFrames become lists of records, timestamps ISO strings."""
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value


@dataclass
class AnalysisResult:
    """Everything :func:`analyze` computed; :meth:`to_dict` is the JSON contract.

    Attributes mirror the keys of :meth:`to_dict` (see :func:`analyze`); ``main`` keeps
    the fitted main model for notebooks and ``timings`` the seconds per section. Neither
    is serialised.
    """

    project: str | None
    n_judgments: int
    n_comparisons: int
    n_annotators: int
    n_ties: int
    has_rubric: bool
    style_only: bool
    style_effects: list[dict[str, Any]] | None = None
    rubric_effects: list[dict[str, Any]] | None = None
    model: dict[str, Any] | None = None
    tiebreak: list[dict[str, Any]] | None = None
    importance: dict[str, Any] | None = None
    position: dict[str, Any] | None = None
    agreement: dict[str, Any] | None = None
    annotators: list[dict[str, Any]] | None = None
    leaderboard: list[dict[str, Any]] | None = None
    descriptives: dict[str, Any] | None = None
    feature_scales: dict[str, float] = field(default_factory=dict)
    feature_kinds: dict[str, str] = field(default_factory=dict)
    dropped_features: list[dict[str, Any]] = field(default_factory=list)
    correction: str = "holm"
    params: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    main: MainModelResult | None = field(default=None, repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-serialisable plain types (no NaN, no numpy types).

        Keys: ``project, n_judgments, n_comparisons, n_annotators, n_ties, has_rubric,
        style_only, style_effects, rubric_effects, model, tiebreak, importance, position,
        agreement, annotators, leaderboard, descriptives, normalisation, feature_scales,
        feature_kinds, dropped_features, correction, params, warnings``. A section that
        failed is None (with the reason in ``warnings``).
        """
        out = {
            "project": self.project,
            "n_judgments": self.n_judgments,
            "n_comparisons": self.n_comparisons,
            "n_annotators": self.n_annotators,
            "n_ties": self.n_ties,
            "has_rubric": self.has_rubric,
            "style_only": self.style_only,
            "style_effects": self.style_effects,
            "rubric_effects": self.rubric_effects,
            "model": self.model,
            "tiebreak": self.tiebreak,
            "importance": self.importance,
            "position": self.position,
            "agreement": self.agreement,
            "annotators": self.annotators,
            "leaderboard": self.leaderboard,
            "descriptives": self.descriptives,
            "normalisation": NORMALISATION,
            "feature_scales": self.feature_scales,
            "feature_kinds": self.feature_kinds,
            "dropped_features": self.dropped_features,
            "correction": self.correction,
            "params": self.params,
            "warnings": self.warnings,
        }
        return to_jsonable(out)


def _records(table: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return to_jsonable(table[[c for c in columns if c in table.columns]])


def _dropped(entry: Mapping[str, Any], scope: str) -> dict[str, Any]:
    """Return one ``dropped_features`` entry: feature, reason, scope, detail."""
    return {
        "feature": entry["feature"],
        "reason": entry["reason"],
        "scope": scope,
        "detail": entry["detail"],
    }


_EFFECT_KEYS = ["coef", "se", "odds_ratio", "ci_low", "ci_high", "coef_ci_low", "coef_ci_high"]


def analyze(
    frame: pd.DataFrame,
    *,
    project: str | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    features: Iterable[str] | None = None,
    cv_splits: int = 5,
    cv_max_rows: int = 200_000,
    seed: int = 0,
    sections: Iterable[str] | None = None,
    blas_threads: int | None = 1,
) -> AnalysisResult:
    """Run every statistic on a judgment frame; each section independently.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame (see :mod:`analysis.stats.frame`).
    project : str, optional
        Project slug or name, copied into the result.
    alpha : float
        All intervals are ``1 - alpha`` intervals.
    correction : str
        Multiple-comparison correction across style features (``multipletests`` method).
    features : iterable of str, optional
        Style features to analyse; default all in the frame. Order matters to the
        collinearity guard (:func:`~analysis.stats.design.style_design`): of two
        near-duplicates the one listed first is kept.
    cv_splits, cv_max_rows, seed : int
        Cross-validation folds, subsample cap and seed of the importance section.
    sections : iterable of str, optional
        Subset of :data:`SECTIONS` to compute (default all); others stay None.
    blas_threads : int or None
        BLAS threads while analysing (default 1; None leaves the setting alone). The
        heavy products are tall and thin, gain little from threads, and multi-threaded
        OpenBLAS slows down 10-20x when the machine is busy (see
        :func:`~analysis.stats.design.blas_guard`).

    Returns
    -------
    AnalysisResult

    Notes
    -----
    Sections: ``style_effects`` / ``rubric_effects`` / ``model`` from
    :func:`~analysis.stats.main_model.fit_main_model`; ``tiebreak`` from
    :func:`~analysis.stats.tiebreak.tiebreak_analysis`; ``importance`` from
    :func:`~analysis.stats.importance.relative_importance`; ``position`` from
    :func:`~analysis.stats.position.position_bias`; ``descriptives`` from
    :func:`~analysis.stats.descriptives.describe`; ``agreement``, ``annotators`` and
    ``leaderboard`` from ``analysis.stats.agreement.agreement_summary``,
    ``analysis.stats.annotators.annotator_sensitivity`` and
    ``analysis.stats.leaderboard.leaderboard``. An exception in one section becomes a
    ``warnings`` entry and a None section. Style-only data (no rubric answers) give
    ``style_only: true``, empty ``rubric_effects`` and ``tiebreak``, and NaN (null)
    rubric entries in ``importance``.

    ``features`` also chooses the style index of the ``annotators`` section; the
    ``leaderboard``'s style control uses every feature of the frame (near-duplicates
    removed by the collinearity guard).

    ``dropped_features`` lists every style feature left out, one
    ``{"feature", "reason", "scope", "detail"}`` each: ``scope`` ``"all"`` for the style
    design shared by every section (reason ``"no_difference"`` or ``"collinear"``),
    ``"main_model"`` for the main model (and so the importance section; reason
    ``"separation"``, ``"constant"`` or ``"redundant"``) and ``"tiebreak"`` for the
    tie-break interaction model; ``detail`` is the warning text.

    Examples
    --------
    >>> import json
    >>> from analysis.stats.synthetic import simulate_frame
    >>> frame, _ = simulate_frame(300, 30, seed=0)
    >>> out = analyze(frame, project="demo", sections=["main_model", "position"]).to_dict()
    >>> out["project"], len(out["style_effects"]) > 0
    ('demo', True)
    """
    limit = (
        contextlib.nullcontext()
        if blas_threads is None
        else threadpool_limits(limits=blas_threads, user_api="blas")
    )
    with limit:
        return _analyze(
            frame,
            project=project,
            alpha=alpha,
            correction=correction,
            features=features,
            cv_splits=cv_splits,
            cv_max_rows=cv_max_rows,
            seed=seed,
            sections=sections,
        )


def _analyze(
    frame: pd.DataFrame,
    *,
    project: str | None,
    alpha: float,
    correction: str,
    features: Iterable[str] | None,
    cv_splits: int,
    cv_max_rows: int,
    seed: int,
    sections: Iterable[str] | None,
) -> AnalysisResult:
    """Do the work of :func:`analyze` (BLAS threads already set)."""
    wanted = set(SECTIONS if sections is None else sections)
    unknown = wanted - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections: {sorted(unknown)}")
    feature_list = None if features is None else list(features)
    rubric = has_rubric(frame)
    outcome = frame[OUTCOME].to_numpy(dtype=object)
    result = AnalysisResult(
        project=project,
        n_judgments=len(frame),
        n_comparisons=int(frame[COMPARISON].nunique()),
        n_annotators=int(frame[ANNOTATOR].nunique()),
        n_ties=int(np.sum(outcome == "tie")),
        has_rubric=rubric,
        style_only=not rubric,
        correction=correction,
        params={
            "alpha": alpha,
            "correction": correction,
            "features": feature_list,
            "cv_splits": cv_splits,
            "cv_max_rows": cv_max_rows,
            "seed": seed,
            "sections": sorted(wanted),
        },
    )

    def run(name: str, compute: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return compute()
        except Exception as exc:  # one failing section must not sink the rest
            result.warnings.append(f"{name}: not computed ({type(exc).__name__}: {exc})")
            return None
        finally:
            result.timings[name] = time.perf_counter() - started

    design: StyleDesign | None = run("style_design", lambda: style_design(frame, feature_list))
    if design is not None:
        result.feature_scales = dict(design.scales)
        result.feature_kinds = dict(design.kinds)
        result.dropped_features.extend(
            {"feature": d.column, "reason": d.reason, "scope": "all", "detail": d.detail}
            for d in design.dropped_columns
        )

    if "main_model" in wanted:
        main = run(
            "main_model",
            lambda: fit_main_model(
                frame, alpha=alpha, correction=correction, features=feature_list
            ),
        )
        result.main = main
        if main is None and design is not None:
            result.warnings.extend(f"style design: {note}" for note in design.notes)
        if main is not None:
            result.warnings.extend(f"main model: {w}" for w in main.warnings)
            result.dropped_features.extend(
                _dropped(d, "main_model")
                for d in main.dropped_features
                if d["reason"] not in ("no_difference", "collinear")
            )
            style_cols = ["feature", *_EFFECT_KEYS, "p_value", "p_adjusted", "ame", "ame_se"]
            result.style_effects = _records(main.style_effects, [*style_cols, "scale"])
            result.rubric_effects = _records(
                main.rubric_effects, ["criterion", *_EFFECT_KEYS, "p_value"]
            )
            result.model = {
                "label": "style-only" if main.style_only else "rubric+style",
                "n": main.n,
                "n_ties": main.n_ties,
                "n_annotators": main.n_annotators,
                "cov_type": main.cov_type,
                "cluster": "annotator",
                "position": main.position,
                "intercept": main.intercept,
                "ci_scale": "ci_low/ci_high bound the odds ratio; coef_ci_* the coefficient",
            }

    if "tiebreak" in wanted:
        main_fit = result.main.fit if result.main is not None else None

        def tiebreak() -> list[dict[str, Any]]:
            tb = tiebreak_analysis(
                frame,
                alpha=alpha,
                matrix=main_fit.matrix if main_fit else None,
                style_design_=design,
                start=main_fit.params().to_dict() if main_fit else None,
            )
            # The interaction model starts from the main model's design: its notes about
            # that design (dropped columns, few annotators) are already in the warnings.
            seen = set(result.main.warnings) if result.main is not None else set()
            result.warnings.extend(f"tiebreak: {w}" for w in tb.notes if w not in seen)
            result.dropped_features.extend(_dropped(d, "tiebreak") for d in tb.dropped_features)
            return to_jsonable(tb.table)

        result.tiebreak = run("tiebreak", tiebreak)

    if "importance" in wanted:

        def importance() -> dict[str, Any]:
            if result.main is None:
                raise RuntimeError("needs the main model, which was not estimated")
            return relative_importance(
                frame, main=result.main, n_splits=cv_splits, max_rows=cv_max_rows, seed=seed
            )

        result.importance = run("importance", importance)

    if "position" in wanted:
        result.position = run("position", lambda: position_bias(frame, alpha=alpha))
    if "descriptives" in wanted:
        result.descriptives = run("descriptives", lambda: describe(frame, alpha=alpha))

    for name, (module_name, function_name, missing) in _EXTERNAL.items():
        if name not in wanted:
            continue
        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as exc:
            result.warnings.append(f"{name}: not available ({exc})")
            setattr(result, name, missing)
            continue
        kwargs = {"features": feature_list} if name in _TAKES_FEATURES else {}
        setattr(
            result,
            name,
            run(name, lambda f=function, kw=kwargs: to_jsonable(f(frame, **kw))),
        )
    return result
