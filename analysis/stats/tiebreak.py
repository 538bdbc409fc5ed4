"""Tie-breaking: does style decide when the rubric is tied, or override the rubric?"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.stats.design import (
    STYLE_TERM,
    ModelMatrix,
    StyleDesign,
    extend_matrix,
    has_rubric,
    model_matrix,
)
from analysis.stats.frame import A_PREFIX, B_PREFIX, OUTCOME, feature_names, rubric_columns
from analysis.stats.intervals import wilson_interval
from analysis.stats.main_model import fit_clustered_logit

__all__ = [
    "RUBRIC_STATES",
    "TIED_TERM",
    "TiebreakResult",
    "rubric_state",
    "tiebreak_analysis",
    "tiebreak_counts",
    "tiebreak_model",
]

RUBRIC_STATES = ("tied", "a", "b", "split", "missing")
TIED_TERM = "rubric_tied"
_INTERACTION = "rubric_tied*"

TIEBREAK_COLUMNS = [
    "feature",
    "tied_n",
    "tied_share_higher_wins",
    "tied_ci_low",
    "tied_ci_high",
    "override_n",
    "override_rate",
    "override_ci_low",
    "override_ci_high",
    "coef_tied",
    "coef_decided",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "diff_p_value",
]


def rubric_state(frame: pd.DataFrame) -> pd.Series:
    """Classify each judgment by what its rubric answers say.

    Returns
    -------
    pandas.Series
        One of ``"tied"`` (at least one criterion answered and every answered criterion
        is 0), ``"a"`` / ``"b"`` (the rubric winner: more criteria favour it than the
        other response), ``"split"`` (criteria differ but favour each side equally
        often) or ``"missing"`` (no criterion answered).

    Notes
    -----
    The rubric winner is :math:`\\operatorname{sign}\\sum_k \\operatorname{sign}(r_k)`
    over the answered criteria: a majority vote of criteria, so ``rating`` criteria
    with wide scales do not outweigh ``compare`` criteria.
    """
    cols = rubric_columns(frame)
    if not cols:
        return pd.Series("missing", index=frame.index, dtype="str")
    r = frame[cols].to_numpy(dtype=np.float64, na_value=np.nan)
    answered = (~np.isnan(r)).sum(axis=1)
    signs = np.sign(np.nan_to_num(r, nan=0.0))
    votes = signs.sum(axis=1)
    nonzero = np.any(signs != 0, axis=1)
    state = np.select(
        [answered == 0, ~nonzero, votes > 0, votes < 0],
        ["missing", "tied", "a", "b"],
        default="split",
    )
    return pd.Series(state, index=frame.index, dtype="str")


def tiebreak_counts(
    frame: pd.DataFrame,
    features: Iterable[str] | None = None,
    *,
    alpha: float = 0.05,
    state: pd.Series | None = None,
) -> pd.DataFrame:
    """Model-free tie-breaking and override shares per style feature (raw values).

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame.
    features : iterable of str, optional
        Feature names; default all.
    alpha : float
        Wilson intervals have coverage ``1 - alpha``.
    state : pandas.Series, optional
        Precomputed :func:`rubric_state`.

    Returns
    -------
    pandas.DataFrame
        ``feature, tied_n, tied_share_higher_wins, tied_ci_low, tied_ci_high, override_n,
        override_rate, override_ci_low, override_ci_high``.

    Notes
    -----
    Only non-tie judgments count. *Tied*: judgments whose rubric is tied and whose raw
    feature differs (:math:`a_f \\ne b_f`); the share won by the response with more of
    the feature. With no tie-breaking effect it is 0.5. *Override*: judgments with a
    rubric winner (:func:`rubric_state`) that has less of the feature than the rubric
    loser; the share the rubric loser (the style-heavier response) won anyway.
    """
    state = rubric_state(frame) if state is None else state
    st = state.to_numpy(dtype=object)
    outcome = frame[OUTCOME].to_numpy(dtype=object)
    a_won, b_won = outcome == "a", outcome == "b"
    decided = a_won | b_won
    tied = decided & (st == "tied")
    rub_a, rub_b = decided & (st == "a"), decided & (st == "b")
    rows = []
    for feature in feature_names(frame) if features is None else features:
        a = frame[A_PREFIX + feature].to_numpy(dtype=np.float64, na_value=np.nan)
        b = frame[B_PREFIX + feature].to_numpy(dtype=np.float64, na_value=np.nan)
        a_more, b_more = a > b, b > a  # NaN compares False: missing values never count
        t_rows = tied & (a_more | b_more)
        t_wins = int(np.sum(t_rows & ((a_more & a_won) | (b_more & b_won))))
        t_n = int(t_rows.sum())
        # The rubric winner has less of the feature: a wins the rubric but b has more, etc.
        o_a, o_b = rub_a & b_more, rub_b & a_more
        o_n = int(o_a.sum() + o_b.sum())
        o_wins = int(np.sum(o_a & b_won) + np.sum(o_b & a_won))
        t_low, t_high = wilson_interval(t_wins, t_n, alpha)
        o_low, o_high = wilson_interval(o_wins, o_n, alpha)
        rows.append(
            {
                "feature": feature,
                "tied_n": t_n,
                "tied_share_higher_wins": t_wins / t_n if t_n else math.nan,
                "tied_ci_low": t_low,
                "tied_ci_high": t_high,
                "override_n": o_n,
                "override_rate": o_wins / o_n if o_n else math.nan,
                "override_ci_low": o_low,
                "override_ci_high": o_high,
            }
        )
    return pd.DataFrame(rows, columns=TIEBREAK_COLUMNS[:9])


def tiebreak_model(
    frame: pd.DataFrame,
    *,
    alpha: float = 0.05,
    state: pd.Series | None = None,
    matrix: ModelMatrix | None = None,
    style_design_: StyleDesign | None = None,
    start: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, list[str], list[dict[str, str]]]:
    """Style effects where the rubric is tied versus where it is decided, in one model.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame with rubric answers.
    alpha : float
        Intervals have coverage ``1 - alpha``.
    state : pandas.Series, optional
        Precomputed :func:`rubric_state`.
    matrix : ModelMatrix, optional
        The main model's design of ``frame`` (saves rebuilding it).
    style_design_ : StyleDesign, optional
        Precomputed style design (used when ``matrix`` is not given).
    start : mapping, optional
        Starting values by column name, e.g. the main model's coefficients (faster).

    Returns
    -------
    table : pandas.DataFrame
        ``feature, coef_tied, coef_decided, diff, diff_ci_low, diff_ci_high,
        diff_p_value`` (coefficients on the main model's log-odds scale).
    notes : list[str]
        Warnings from the fit.
    dropped : list of dict
        ``{"feature", "term", "reason", "detail"}`` per column this model left out that
        the main model's design had: ``term`` is ``"style"`` (the feature's own column,
        dropped with its interaction) or ``"interaction"`` (only the tied-rubric
        interaction); ``reason`` ``"separation"``, ``"constant"`` or ``"redundant"``.

    Notes
    -----
    Fitted on non-tie judgments whose rubric is tied or has a winner ("split" and
    "missing" rubrics are left out, so "decided" means the same as in
    :func:`tiebreak_counts`). With :math:`t_i = 1` for a tied rubric,

    .. math::

        \\operatorname{logit} P(a \\text{ wins}) = \\beta_0 + \\gamma\\,\\mathrm{pos}_i
        + \\sum_k \\rho_k r_{ik} + \\tau t_i + \\sum_f (\\beta_f + \\delta_f t_i) x_{if},

    so ``coef_decided`` :math:`= \\beta_f`, ``coef_tied`` :math:`= \\beta_f + \\delta_f`
    and ``diff`` :math:`= \\delta_f` with its interval from the standard errors
    clustered by annotator. A tie-breaker effect shows as ``diff > 0``.

    The interaction columns are non-zero only where the rubric is tied, so a rare
    feature separates the outcomes there more easily. As in the main model, a style or
    interaction column that (quasi-)separates the outcomes is dropped with a warning and
    the model refitted (:func:`~analysis.stats.main_model.fit_clustered_logit`); dropping
    a feature's own column drops its interaction too. Such features get NaN model
    columns (only the interaction dropped: ``coef_decided`` is kept).
    """
    state = rubric_state(frame) if state is None else state
    if matrix is None:
        matrix = model_matrix(frame, style_design_=style_design_)
    st = state.to_numpy(dtype=object)[matrix.rows]
    keep = np.isin(st, ["tied", "a", "b"])
    tied = (st[keep] == "tied").astype(np.float64)
    style_cols = matrix.block(STYLE_TERM)
    style_idx = matrix.index(style_cols)
    extra = {TIED_TERM: tied}
    for col, j in zip(style_cols, style_idx, strict=True):
        extra[_INTERACTION + col] = matrix.exog[keep, j] * tied
    extended = extend_matrix(matrix, keep, extra)
    fit = fit_clustered_logit(
        extended,
        start=start,
        droppable=(STYLE_TERM, _INTERACTION),
        linked={col: [_INTERACTION + col] for col in style_cols},
    )
    params, cov = fit.params(), fit.cov()
    z = fit.critical_value(alpha)
    rows = []
    for col in style_cols:
        feature = col[len(STYLE_TERM) :]
        inter = _INTERACTION + col
        if col not in params.index:
            continue
        beta = float(params[col])
        if inter in params.index:
            delta = float(params[inter])
            se = math.sqrt(float(cov.loc[inter, inter]))
            p_value = fit.p_value(delta, se)
            row = (beta + delta, beta, delta, delta - z * se, delta + z * se, p_value)
        else:
            row = (math.nan, beta, math.nan, math.nan, math.nan, math.nan)
        rows.append(dict(zip(["feature", *TIEBREAK_COLUMNS[9:]], [feature, *row], strict=True)))
    notes = list(fit.warnings)
    if keep.sum() < keep.size:
        notes.append(
            f"tie-break model: {int(keep.size - keep.sum())} judgments with a split or "
            "unanswered rubric left out"
        )
    dropped = []
    for d in fit.matrix.dropped[len(matrix.dropped) :]:
        term, column = ("interaction", d.column[len(_INTERACTION) :])
        if not d.column.startswith(_INTERACTION):
            term, column = "style", d.column
        if column.startswith(STYLE_TERM):
            feature = column[len(STYLE_TERM) :]
            dropped.append(
                {"feature": feature, "term": term, "reason": d.reason, "detail": d.detail}
            )
    table = pd.DataFrame(rows, columns=["feature", *TIEBREAK_COLUMNS[9:]])
    return table, notes, dropped


@dataclass
class TiebreakResult:
    """The tie-breaking section: one row per style feature plus notes.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`TIEBREAK_COLUMNS` (model-free shares and model-based effects).
    n_rubric_tied : int
        Non-tie judgments whose rubric is tied.
    n_rubric_decided : int
        Non-tie judgments with a rubric winner.
    notes : list[str]
        Warnings (e.g. model not estimable, style-only data).
    dropped_features : list of dict
        Columns the interaction model left out (see :func:`tiebreak_model`).
    """

    table: pd.DataFrame
    n_rubric_tied: int
    n_rubric_decided: int
    notes: list[str] = field(default_factory=list)
    dropped_features: list[dict[str, str]] = field(default_factory=list)


def tiebreak_analysis(
    frame: pd.DataFrame,
    *,
    alpha: float = 0.05,
    matrix: ModelMatrix | None = None,
    style_design_: StyleDesign | None = None,
    start: Mapping[str, float] | None = None,
) -> TiebreakResult:
    """Model-free and model-based tie-breaking statistics for every style feature.

    Combines :func:`tiebreak_counts` and :func:`tiebreak_model` (see their Notes;
    ``matrix``, ``style_design_`` and ``start`` are passed on to save work). On
    style-only data (no rubric answers) the section does not apply: the table is empty
    and a note says why. If the interaction model cannot be fitted, the model columns
    are NaN and the reason is in ``notes``.
    """
    empty = pd.DataFrame(columns=TIEBREAK_COLUMNS)
    if not has_rubric(frame):
        return TiebreakResult(empty, 0, 0, ["tie-breaking needs rubric answers (style-only data)"])
    state = rubric_state(frame)
    decided = frame[OUTCOME].isin(["a", "b"]).to_numpy()
    st = state.to_numpy(dtype=object)
    n_tied = int(np.sum(decided & (st == "tied")))
    n_decided = int(np.sum(decided & np.isin(st, ["a", "b"])))
    features = None if style_design_ is None else list(style_design_.differences.columns)
    counts = tiebreak_counts(frame, features, alpha=alpha, state=state)
    notes: list[str] = []
    dropped: list[dict[str, str]] = []
    try:
        model, model_notes, dropped = tiebreak_model(
            frame,
            alpha=alpha,
            state=state,
            matrix=matrix,
            style_design_=style_design_,
            start=start,
        )
        notes.extend(model_notes)
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        model = pd.DataFrame(columns=["feature", *TIEBREAK_COLUMNS[9:]])
        notes.append(f"tie-break model not estimated: {exc}")
    table = counts.merge(model, on="feature", how="left")[TIEBREAK_COLUMNS]
    return TiebreakResult(table, n_tied, n_decided, notes, dropped)
