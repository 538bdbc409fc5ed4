"""Relative importance of rubric and style: cross-validated fit and flipped decisions."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import GroupKFold

from analysis.stats.design import POSITION, RUBRIC_TERM, STYLE_TERM
from analysis.stats.frame import COMPARISON
from analysis.stats.main_model import MainModelResult, fit_main_model

__all__ = ["cross_validated_fit", "relative_importance", "share_flipped_by_style"]

# Effectively unpenalised; finite so that a fold with (quasi-)separation cannot diverge.
# Prediction only: no p-values ever come from these fits.
PREDICTION_C = 1e4


def share_flipped_by_style(main: MainModelResult) -> float:
    """Return the share of non-tie judgments whose predicted winner flips without style.

    Notes
    -----
    With the main model's linear predictor :math:`\\eta_i = x_i^\\top\\hat\\beta` and its
    style part :math:`\\eta_i^{s} = \\sum_f \\hat\\beta_f x_{if}`,

    .. math::

        \\text{share} = \\frac{1}{n}\\sum_i
        \\mathbf{1}\\left[\\mathbf{1}(\\eta_i > 0) \\ne \\mathbf{1}(\\eta_i - \\eta_i^{s} > 0)
        \\right].
    """
    matrix = main.fit.matrix
    params = np.asarray(main.fit.results.params)
    style = np.array([c.startswith(STYLE_TERM) for c in matrix.columns])
    if matrix.exog.shape[0] == 0:
        return math.nan
    eta = matrix.exog @ params
    eta_style = matrix.exog[:, style] @ params[style] if style.any() else 0.0
    return float(np.mean((eta > 0) != ((eta - eta_style) > 0)))


def cross_validated_fit(
    exog: np.ndarray, endog: np.ndarray, groups: np.ndarray, *, n_splits: int = 5
) -> tuple[float, float]:
    """Return the out-of-fold log-loss and AUC of a logistic regression.

    Parameters
    ----------
    exog : numpy.ndarray
        Predictors, without an intercept column (the model fits one).
    endog : numpy.ndarray
        0/1 outcomes.
    groups : numpy.ndarray
        Fold groups (comparisons), so no comparison is in both training and test data.
    n_splits : int
        Number of folds (reduced to the number of groups when smaller).

    Returns
    -------
    (log_loss, auc) : tuple of float

    Notes
    -----
    ``GroupKFold`` folds; out-of-fold probabilities :math:`\\hat p_i` are pooled, then
    :math:`\\mathrm{LL} = -\\frac{1}{n}\\sum_i y_i\\log\\hat p_i + (1-y_i)\\log(1-\\hat p_i)`
    and the AUC is the probability that a random a-win is scored above a random b-win.
    """
    n_groups = np.unique(groups).size
    folds = GroupKFold(n_splits=min(n_splits, n_groups))
    prob = np.empty(endog.size)
    if exog.shape[1] == 0:
        # No predictors: the fitted model is the training share of a-wins.
        for train, test in folds.split(exog, endog, groups):
            prob[test] = endog[train].mean()
    else:
        for train, test in folds.split(exog, endog, groups):
            clf = LogisticRegression(C=PREDICTION_C, max_iter=500)
            with warnings.catch_warnings():
                # Near-separated folds converge slowly; predictions are still usable.
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(exog[train], endog[train])
            prob[test] = clf.predict_proba(exog[test])[:, 1]
    prob = np.clip(prob, 1e-12, 1 - 1e-12)
    auc = roc_auc_score(endog, prob) if 0 < endog.sum() < endog.size else math.nan
    return float(log_loss(endog, prob, labels=[0.0, 1.0])), float(auc)


def relative_importance(
    frame: pd.DataFrame,
    *,
    main: MainModelResult | None = None,
    n_splits: int = 5,
    max_rows: int = 200_000,
    seed: int = 0,
) -> dict[str, object]:
    """Compare how well rubric, style and both predict the winner, out of sample.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame.
    main : MainModelResult, optional
        The fitted main model of ``frame`` (fitted here when not given); its design is
        reused and it gives ``share_flipped_by_style``.
    n_splits : int
        Cross-validation folds, grouped by comparison.
    max_rows : int
        Cross-validate on a seeded random subsample of at most this many non-tie
        judgments (the log-loss of a ~30-parameter model is precise long before that).
    seed : int
        Seed of the subsample.

    Returns
    -------
    dict
        ``logloss_rubric, logloss_style, logloss_both, logloss_position, auc_rubric,
        auc_style, auc_both, share_flipped_by_style, n_cv, subsampled, n_splits``.
        Rubric entries are NaN for style-only data.

    Notes
    -----
    Three logistic models (scikit-learn, ``C = 1e4``: prediction only) share the
    intercept and position term and add the rubric differences, the style differences,
    or both; ``logloss_position`` is the baseline with neither. Lower log-loss / higher
    AUC means more predictive. ``share_flipped_by_style`` comes from the statsmodels
    main model on all judgments (:func:`share_flipped_by_style`).
    """
    if main is None:
        main = fit_main_model(frame, marginal_effects=False)
    matrix = main.fit.matrix
    n = matrix.endog.size
    rows = np.arange(n)
    subsampled = n > max_rows
    if subsampled:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))
    exog, endog = matrix.exog[rows], matrix.endog[rows]
    groups, _ = pd.factorize(frame[COMPARISON].to_numpy()[matrix.rows[rows]])
    cols = matrix.columns
    base = [j for j, c in enumerate(cols) if c == POSITION]
    rubric = [j for j, c in enumerate(cols) if c.startswith(RUBRIC_TERM)]
    style = [j for j, c in enumerate(cols) if c.startswith(STYLE_TERM)]

    def score(idx: list[int]) -> tuple[float, float]:
        return cross_validated_fit(exog[:, idx], endog, groups, n_splits=n_splits)

    ll_pos, _ = score(base)
    ll_rubric, auc_rubric = score(base + rubric) if rubric else (math.nan, math.nan)
    ll_style, auc_style = score(base + style) if style else (math.nan, math.nan)
    ll_both, auc_both = score(base + rubric + style)
    return {
        "logloss_rubric": ll_rubric,
        "logloss_style": ll_style,
        "logloss_both": ll_both,
        "logloss_position": ll_pos,
        "auc_rubric": auc_rubric,
        "auc_style": auc_style,
        "auc_both": auc_both,
        "share_flipped_by_style": share_flipped_by_style(main),
        "n_cv": int(rows.size),
        "subsampled": bool(subsampled),
        "n_splits": int(n_splits),
    }
