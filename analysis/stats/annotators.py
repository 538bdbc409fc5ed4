"""Per-annotator style sensitivity with empirical-Bayes partial pooling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from analysis.stats._logistic import ridge_logit
from analysis.stats.design import (
    a_wins,
    has_rubric,
    position_term,
    rubric_differences,
    style_differences,
)
from analysis.stats.frame import ANNOTATOR

__all__ = ["AnnotatorSensitivity", "annotator_sensitivity"]


class AnnotatorSensitivity:
    """Estimate how strongly each annotator's choices follow style, relative to the pool.

    Parameters
    ----------
    min_judgments : int
        Annotators with fewer non-tie judgments are still estimated and shrunk, but they do
        not inform the pool mean or the between-annotator variance and are never flagged.
    level : float
        Coverage of the intervals.
    prior_sd : float
        Standard deviation of the weak normal penalty centred on 1 that keeps an annotator's
        raw estimate finite when their choices are perfectly separated by the style index.
    pooled_ridge : float
        Ridge penalty (log-likelihood units) of the pooled fit that defines the style index;
        it only matters when the rubric separates the outcomes perfectly.
    features : list of str, optional
        Style features that make up the style index; default all features of the frame.
        Near-duplicates are dropped by the collinearity guard of
        :func:`analysis.stats.design.style_design`.

    Attributes
    ----------
    style_coefficients_ : pandas.Series
        Pooled coefficient per style feature: the weights of the style index.
    pool_mean_ : float or None
        Random-effects mean :math:`\\hat\\mu` of the sensitivities (close to 1 by construction).
    between_variance_ : float or None
        Method-of-moments estimate :math:`\\hat\\tau^2` of the between-annotator variance.
    results_ : pandas.DataFrame
        One row per annotator, ranked by ``style_sensitivity`` (descending, unknown last), with
        columns ``annotator``, ``n``, ``style_sensitivity``, ``ci_low``, ``ci_high``,
        ``flagged``, ``raw_estimate``, ``raw_se``.

    Notes
    -----
    *Style index.* A pooled logistic regression on the non-tie judgments,

    .. math:: \\operatorname{logit} P(a \\text{ wins}) = \\sum_k \\rho_k r_{ik}
              + \\pi\\,\\mathrm{pos}_i + \\sum_f \\beta_f x_{if},

    (rubric differences :math:`r`, position :math:`\\pm 1`, normalised style differences
    :math:`x`; no rubric terms for style-only data) gives the offset
    :math:`o_i = \\sum_k \\hat\\rho_k r_{ik} + \\hat\\pi\\,\\mathrm{pos}_i` and the style index
    :math:`s_i = \\sum_f \\hat\\beta_f x_{if}`.

    *Raw estimate.* For annotator :math:`j`, :math:`\\operatorname{logit} P = o_i + \\gamma_j s_i`
    over their non-tie judgments, with the rubric and position effects held at their pooled
    values. :math:`\\hat\\gamma_j` maximises that log-likelihood minus
    :math:`(\\gamma_j - 1)^2 / (2\\sigma_0^2)` (``prior_sd``), found by Newton iterations run
    for all annotators at once; :math:`\\mathrm{se}_j = I_j^{-1/2}` with
    :math:`I_j = \\sum_i s_i^2 p_i (1 - p_i) + \\sigma_0^{-2}`. :math:`\\gamma = 1` is the pool's
    average sensitivity; 2 means twice the pooled style effect. Annotators whose judgments
    carry no style information (:math:`\\sum_i s_i^2 p_i(1-p_i) \\approx 0`, e.g. only ties)
    get ``None`` throughout.

    *Shrinkage* (DerSimonian-Laird / Morris empirical Bayes) over the :math:`k` annotators with
    at least ``min_judgments`` non-tie judgments: with :math:`v_j = \\mathrm{se}_j^{-2}`,
    :math:`\\bar\\gamma = \\sum v_j \\hat\\gamma_j / \\sum v_j`,
    :math:`Q = \\sum v_j (\\hat\\gamma_j - \\bar\\gamma)^2`,

    .. math:: \\hat\\tau^2 = \\max\\Big(0, \\frac{Q - (k - 1)}
              {\\sum v_j - \\sum v_j^2 / \\sum v_j}\\Big), \\qquad
              \\hat\\mu = \\frac{\\sum u_j \\hat\\gamma_j}{\\sum u_j},\\;
              u_j = \\frac{1}{\\mathrm{se}_j^2 + \\hat\\tau^2}.

    Every annotator (few judgments or not) gets :math:`w_j = \\hat\\tau^2 / (\\hat\\tau^2 +
    \\mathrm{se}_j^2)`, shrunk estimate :math:`\\tilde\\gamma_j = w_j \\hat\\gamma_j +
    (1 - w_j) \\hat\\mu` and posterior variance :math:`w_j \\mathrm{se}_j^2 + (1 - w_j)^2
    / \\sum u_j` (the second term carries the uncertainty of :math:`\\hat\\mu`); the interval
    is :math:`\\tilde\\gamma_j \\pm z \\sqrt{\\cdot}`. Fewer than two eligible annotators: no
    pooling (:math:`w_j = 1`), nobody flagged.

    *Flag rule.* ``flagged`` when the annotator has at least ``min_judgments`` non-tie
    judgments and the lower end of their interval lies above :math:`\\hat\\mu`.
    """

    def __init__(
        self,
        *,
        min_judgments: int = 10,
        level: float = 0.95,
        prior_sd: float = 5.0,
        pooled_ridge: float = 1.0,
        features: list[str] | None = None,
    ) -> None:
        self.min_judgments = min_judgments
        self.level = level
        self.prior_sd = prior_sd
        self.pooled_ridge = pooled_ridge
        self.features = features

    def fit(self, frame: pd.DataFrame) -> AnnotatorSensitivity:
        """Fit the style index, the per-annotator multipliers and the shrinkage; return self."""
        y_all = a_wins(frame).to_numpy()
        annotators = frame[ANNOTATOR]
        names = pd.Index(sorted(annotators.dropna().astype(str).unique()))
        keep = ~np.isnan(y_all) & annotators.notna().to_numpy()
        style = style_differences(frame, self.features)
        self.style_coefficients_ = pd.Series(dtype=float)
        self.pool_mean_ = None
        self.between_variance_ = None

        n = np.bincount(
            names.get_indexer(annotators[keep].astype(str)), minlength=len(names)
        ).astype(int)
        raw = np.full(len(names), np.nan)
        se = np.full(len(names), np.nan)
        if style.shape[1] and keep.any():
            y = y_all[keep]
            controls = [position_term(frame).to_numpy()[keep, None]]
            if has_rubric(frame):
                controls.insert(0, rubric_differences(frame).to_numpy()[keep])
            control = np.hstack(controls)
            x_style = style.to_numpy()[keep]
            coef, _ = ridge_logit(
                np.hstack([control, x_style]), y, ridge=self.pooled_ridge, tol=1e-9
            )
            n_control = control.shape[1]
            self.style_coefficients_ = pd.Series(coef[n_control:], index=style.columns)
            codes = names.get_indexer(annotators[keep].astype(str))
            raw, se = _annotator_multipliers(
                codes,
                len(names),
                y,
                offset=control @ coef[:n_control],
                index=x_style @ coef[n_control:],
                prior_sd=self.prior_sd,
            )

        shrunk, post_sd, flagged = self._shrink(raw, se, n)
        z = norm.ppf(0.5 + self.level / 2.0)
        results = pd.DataFrame(
            {
                "annotator": names.to_numpy(dtype=object),
                "n": n,
                "style_sensitivity": shrunk,
                "ci_low": shrunk - z * post_sd,
                "ci_high": shrunk + z * post_sd,
                "flagged": flagged,
                "raw_estimate": raw,
                "raw_se": se,
            }
        )
        self.results_ = results.sort_values(
            ["style_sensitivity", "annotator"], ascending=[False, True], na_position="last"
        ).reset_index(drop=True)
        return self

    def _shrink(
        self, raw: np.ndarray, se: np.ndarray, n: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Empirical-Bayes shrinkage toward the pool mean (formulas in the class Notes)."""
        known = ~np.isnan(raw)
        eligible = known & (n >= self.min_judgments)
        flagged = np.zeros(len(raw), dtype=bool)
        if eligible.sum() < 2:
            return raw.copy(), se.copy(), flagged
        v = 1.0 / se[eligible] ** 2
        fixed_mean = np.sum(v * raw[eligible]) / np.sum(v)
        q = np.sum(v * (raw[eligible] - fixed_mean) ** 2)
        denominator = np.sum(v) - np.sum(v * v) / np.sum(v)
        tau2 = max(0.0, (q - (eligible.sum() - 1)) / denominator)
        u = 1.0 / (se[eligible] ** 2 + tau2)
        mu = float(np.sum(u * raw[eligible]) / np.sum(u))
        var_mu = 1.0 / np.sum(u)
        w = tau2 / (tau2 + se**2)
        shrunk = w * raw + (1.0 - w) * mu
        post_sd = np.sqrt(w * se**2 + (1.0 - w) ** 2 * var_mu)
        z = norm.ppf(0.5 + self.level / 2.0)
        flagged = eligible & (shrunk - z * post_sd > mu)
        self.pool_mean_ = mu
        self.between_variance_ = float(tau2)
        return shrunk, post_sd, flagged

    def to_records(self) -> list[dict[str, Any]]:
        """Return ``results_`` as a list of dicts with ``None`` for unknown values."""
        records = []
        for row in self.results_.itertuples(index=False):
            record = row._asdict()
            for key, value in record.items():
                if isinstance(value, float | np.floating):
                    record[key] = None if np.isnan(value) else float(value)
            record["n"] = int(record["n"])
            record["flagged"] = bool(record["flagged"])
            records.append(record)
        return records


def annotator_sensitivity(
    frame: pd.DataFrame, features: list[str] | None = None
) -> list[dict[str, Any]]:
    """Rank annotators by their shrunk style sensitivity and flag those clearly above the pool.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame; works with or without ``rubric.*`` columns.
    features : list of str, optional
        Style features of the style index (default all in the frame), e.g. the
        ``features`` of :func:`analysis.stats.analyze.analyze`.

    Returns
    -------
    list of dict
        ``{"annotator", "n", "style_sensitivity", "ci_low", "ci_high", "flagged",
        "raw_estimate", "raw_se"}`` per annotator, highest sensitivity first; ``n`` is the
        number of non-tie judgments. Values are ``None`` where undefined (no style features,
        or no style information in the annotator's judgments).

    Notes
    -----
    Sensitivity is a multiplier :math:`\\gamma_j` on the pooled style index: 1 = the pool's
    average, 0 = style plays no part. Method, shrinkage formula and flag rule are given in
    :class:`AnnotatorSensitivity`.

    Examples
    --------
    >>> from analysis.stats.synthetic import simulate_frame
    >>> frame, _ = simulate_frame(500, 10, seed=1)
    >>> len(annotator_sensitivity(frame))
    10
    """
    return AnnotatorSensitivity(features=features).fit(frame).to_records()


def _annotator_multipliers(
    codes: np.ndarray,
    n_annotators: int,
    y: np.ndarray,
    *,
    offset: np.ndarray,
    index: np.ndarray,
    prior_sd: float,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Penalised one-parameter logistic fits for all annotators at once (see class Notes)."""
    precision = 1.0 / prior_sd**2
    gamma = np.ones(n_annotators)
    for _ in range(max_iter):
        p = expit(offset + gamma[codes] * index)
        score = np.bincount(codes, index * (y - p), n_annotators) - precision * (gamma - 1.0)
        info = np.bincount(codes, index * index * p * (1.0 - p), n_annotators) + precision
        # The objective is concave in each gamma; capping the step avoids overshooting far
        # into the flat tail when an annotator is (nearly) separated.
        step = np.clip(score / info, -2.0, 2.0)
        gamma += step
        if np.max(np.abs(step)) < 1e-9:
            break
    p = expit(offset + gamma[codes] * index)
    data_info = np.bincount(codes, index * index * p * (1.0 - p), n_annotators)
    se = 1.0 / np.sqrt(data_info + precision)
    informative = data_info > 1e-8
    return np.where(informative, gamma, np.nan), np.where(informative, se, np.nan)
