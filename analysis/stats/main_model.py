"""The main model: logistic regression of the winner on rubric, style and position."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from analysis.stats.design import (
    INTERCEPT,
    POSITION,
    RUBRIC_TERM,
    STYLE_TERM,
    ModelMatrix,
    StyleDesign,
    blas_guard,
    has_rubric,
    model_matrix,
)

__all__ = [
    "MIN_CLUSTERS",
    "ClusteredFit",
    "MainModelResult",
    "ModelFitError",
    "adjust_p_values",
    "average_marginal_effects",
    "fit_clustered_logit",
    "fit_main_model",
    "holm",
]

# With few clusters, cluster-robust standard errors are too small (Cameron & Miller 2015
# discuss 20-50); below this many annotators results still come out, with a warning.
MIN_CLUSTERS = 20

# Above this many rows, Newton's method starts from a fit on a seeded subsample of
# WARM_START_ROWS rows: the same maximum, reached in about half the full-data iterations.
WARM_START_ABOVE = 200_000
WARM_START_ROWS = 100_000

# A term that moves the log-odds by more than this (odds ~1e13) signals separation.
SEPARATION_LOGIT = 30.0


class ModelFitError(RuntimeError):
    """Raised when a logistic model cannot be estimated (e.g. perfect separation)."""


@dataclass
class ClusteredFit:
    """A statsmodels Logit fit with cluster-robust covariance and its input matrix.

    Attributes
    ----------
    results : statsmodels.discrete.discrete_model.BinaryResultsWrapper
        The fitted results (``cov_type="cluster"`` by annotator when possible).
    matrix : ModelMatrix
        The design it was fitted on.
    cov_type : str
        ``"cluster"``, or ``"HC1"`` when there were fewer than two annotators.
    warnings : list[str]
        Notes about dropped columns, convergence, few clusters.
    """

    results: Any
    matrix: ModelMatrix
    cov_type: str
    warnings: list[str] = field(default_factory=list)

    def params(self) -> pd.Series:
        """Return the coefficients indexed by column name."""
        return pd.Series(np.asarray(self.results.params), index=self.matrix.columns)

    def critical_value(self, alpha: float) -> float:
        """Return the two-sided ``1 - alpha`` quantile used for intervals and p-values.

        Student t with ``G - 1`` degrees of freedom for clustered errors (``G``
        annotators), as in Stata and Cameron & Miller (2015); normal otherwise.
        """
        if self.results.use_t:
            return float(stats.t.ppf(1 - alpha / 2, self.results.df_resid_inference))
        return float(stats.norm.ppf(1 - alpha / 2))

    def p_value(self, estimate: float, se: float) -> float:
        """Return the two-sided p-value of ``estimate / se`` on the same reference law."""
        if self.results.use_t:
            return float(2 * stats.t.sf(abs(estimate) / se, self.results.df_resid_inference))
        return float(2 * stats.norm.sf(abs(estimate) / se))

    def cov(self) -> pd.DataFrame:
        """Return the (cluster-robust) covariance matrix indexed by column name."""
        c = np.asarray(self.results.cov_params())
        return pd.DataFrame(c, index=self.matrix.columns, columns=self.matrix.columns)


def fit_clustered_logit(
    matrix: ModelMatrix,
    *,
    maxiter: int = 100,
    start: Mapping[str, float] | None = None,
) -> ClusteredFit:
    """Fit a logistic regression with standard errors clustered by annotator.

    Parameters
    ----------
    matrix : ModelMatrix
        Design from :func:`analysis.stats.design.model_matrix` (or an extended copy).
    maxiter : int
        Newton iterations allowed.
    start : mapping, optional
        Starting values by column name (e.g. from a nested model); others start at 0.
        Saves Newton iterations on large data, does not change the estimate.

    Returns
    -------
    ClusteredFit

    Raises
    ------
    ModelFitError
        If there are no rows, only one outcome, or the data are perfectly separated.

    Notes
    -----
    Maximum likelihood for :math:`P(y_i = 1) = 1 / (1 + e^{-x_i^\\top\\beta})` by Newton's
    method, then the cluster-robust sandwich

    .. math::

        V = \\frac{G}{G-1}\\frac{n-1}{n-k}\\, H^{-1}
            \\Big(\\sum_g s_g s_g^\\top\\Big) H^{-1},
        \\qquad s_g = \\sum_{i \\in g} (y_i - p_i)\\, x_i,

    with :math:`G` annotators (statsmodels' default small-sample correction). Tests and
    intervals then use Student's t with :math:`G - 1` degrees of freedom rather than the
    normal: with tens of annotators the normal reference rejects too often (seen in the
    null simulations of the tests).
    """
    notes = list(matrix.notes)
    y = matrix.endog
    if y.size == 0:
        raise ModelFitError("no non-tie judgments to model")
    if y.min() == y.max():
        raise ModelFitError("every non-tie judgment has the same winner; nothing to model")
    n_clusters = int(np.unique(matrix.groups).size)
    if n_clusters >= 2:
        cov_type, cov_kwds = "cluster", {"groups": matrix.groups}
        if n_clusters < MIN_CLUSTERS:
            notes.append(
                f"only {n_clusters} annotators: clustered standard errors may be too small"
            )
    else:
        cov_type, cov_kwds = "HC1", {}
        notes.append("a single annotator: heteroskedasticity-robust (HC1) errors, not clustered")
    # check_rank=False: model_matrix already removed redundant columns, and statsmodels'
    # own check is a QR decomposition of the whole design (seconds on millions of rows).
    model = sm.Logit(y, matrix.exog, check_rank=False)
    start_params = None
    if start is not None:
        start_params = np.array([start.get(c, 0.0) for c in matrix.columns], dtype=np.float64)
    elif y.size > WARM_START_ABOVE:
        start_params = _subsample_start(matrix)
    with blas_guard(y.size), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            results = model.fit(
                start_params=start_params,
                method="newton",
                maxiter=maxiter,
                disp=False,
                cov_type=cov_type,
                cov_kwds=cov_kwds,
                use_t=cov_type == "cluster",
            )
        except (PerfectSeparationError, PerfectSeparationWarning) as exc:
            raise ModelFitError(
                "perfect separation: some combination of rubric/style columns predicts the "
                "winner exactly, so odds ratios are infinite; drop that column or add data"
            ) from exc
        except np.linalg.LinAlgError as exc:
            raise ModelFitError(f"singular design matrix: {exc}") from exc
    # Quasi-complete separation (some rows predicted exactly) does not stop Newton's
    # method; it shows as coefficients whose contribution to the log-odds explodes.
    params = np.asarray(results.params)
    reach = np.abs(params) * np.abs(matrix.exog).max(axis=0)
    exploding = [c for c, r in zip(matrix.columns, reach, strict=True) if r > SEPARATION_LOGIT]
    if exploding:
        raise ModelFitError(
            f"(quasi-)perfect separation: {', '.join(exploding)} predict(s) the winner "
            "(almost) exactly, so the odds ratios are infinite; drop the column(s) or add data"
        )
    for w in caught:
        if issubclass(w.category, ConvergenceWarning | HessianInversionWarning):
            notes.append(f"logistic fit: {w.message}")
    if not np.all(np.isfinite(np.asarray(results.bse))):
        raise ModelFitError("standard errors are not finite (near-singular design)")
    return ClusteredFit(results, matrix, cov_type, notes)


def _subsample_start(matrix: ModelMatrix) -> np.ndarray | None:
    """Return Logit estimates on a seeded subsample, as Newton starting values."""
    rows = np.random.default_rng(0).choice(matrix.endog.size, WARM_START_ROWS, replace=False)
    y, x = matrix.endog[rows], matrix.exog[rows]
    with blas_guard(y.size), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # any problem shows again in the full fit
        try:
            params = sm.Logit(y, x, check_rank=False).fit(method="newton", disp=False).params
        except (np.linalg.LinAlgError, PerfectSeparationError, ValueError):
            return None
    params = np.asarray(params)
    return params if np.all(np.isfinite(params)) else None


@dataclass
class MainModelResult:
    """Estimates of the main model (see :func:`fit_main_model`).

    Attributes
    ----------
    style_effects : pandas.DataFrame
        One row per style feature: ``feature, coef, se, odds_ratio, ci_low, ci_high,
        coef_ci_low, coef_ci_high, p_value, p_adjusted, ame, ame_se, scale``. ``ci_low`` /
        ``ci_high`` bound the odds ratio; ``coef_ci_*`` bound the log-odds coefficient.
    rubric_effects : pandas.DataFrame
        One row per criterion: ``criterion, coef, se, odds_ratio, ci_low, ci_high,
        coef_ci_low, coef_ci_high, p_value`` (empty when style-only).
    position : dict
        The left-position term, same keys as a row of ``rubric_effects``.
    intercept : dict
        The intercept, same keys (near 0 when the canonical a/b order is random).
    n : int
        Non-tie judgments modelled.
    n_ties : int
        Tie judgments excluded.
    n_annotators : int
        Number of clusters.
    style_only : bool
        ``True`` when the frame has no rubric answers and rubric terms were left out.
    correction : str
        Multiple-comparison correction used for ``p_adjusted`` (``"holm"``).
    alpha : float
        1 - confidence level.
    cov_type : str
        ``"cluster"`` (by annotator) or the fallback used.
    warnings : list[str]
        Dropped columns, convergence and cluster notes.
    fit : ClusteredFit
        The underlying statsmodels fit and design (for predictions and reuse).
    """

    style_effects: pd.DataFrame
    rubric_effects: pd.DataFrame
    position: dict[str, float] | None
    intercept: dict[str, float] | None
    n: int
    n_ties: int
    n_annotators: int
    style_only: bool
    correction: str
    alpha: float
    cov_type: str
    warnings: list[str]
    fit: ClusteredFit = field(repr=False)

    @property
    def style_design(self) -> StyleDesign:
        """The style normalisation used (scales, kinds, dropped features)."""
        return self.fit.matrix.style


def _effect_table(fit: ClusteredFit, names: list[str], alpha: float) -> pd.DataFrame:
    """Return coef, se, odds ratio, its CI, the coefficient's CI and p-value per column."""
    idx = fit.matrix.index(names)
    z = fit.critical_value(alpha)
    coef = np.asarray(fit.results.params)[idx]
    se = np.asarray(fit.results.bse)[idx]
    return pd.DataFrame(
        {
            "coef": coef,
            "se": se,
            "odds_ratio": np.exp(coef),
            "ci_low": np.exp(coef - z * se),
            "ci_high": np.exp(coef + z * se),
            "coef_ci_low": coef - z * se,
            "coef_ci_high": coef + z * se,
            "p_value": np.asarray(fit.results.pvalues)[idx],
        }
    )


def average_marginal_effects(fit: ClusteredFit) -> tuple[np.ndarray, np.ndarray]:
    """Return the average marginal effect of every column and its delta-method SE.

    Notes
    -----
    For the logistic model, :math:`\\partial p_i / \\partial x_{ik} = \\beta_k p_i(1-p_i)`,
    so :math:`\\mathrm{AME}_k = \\beta_k \\bar w` with :math:`\\bar w = \\frac{1}{n}\\sum_i
    p_i(1-p_i)`. Its Jacobian with respect to :math:`\\beta` is
    :math:`J = \\bar w I + \\beta g^\\top`, :math:`g_j = \\frac{1}{n}\\sum_i
    p_i(1-p_i)(1-2p_i)x_{ij}`, and :math:`\\operatorname{Var}(\\mathrm{AME}) = J V J^\\top`
    with :math:`V` the clustered covariance. Same numbers as statsmodels'
    ``get_margeff(at="overall")`` (tested), whose numerical Jacobian re-evaluates the
    whole design once per column and takes minutes on millions of rows.
    """
    exog = fit.matrix.exog
    beta = np.asarray(fit.results.params)
    p = 1.0 / (1.0 + np.exp(-(exog @ beta)))
    w = p * (1.0 - p)
    w_bar = float(w.mean())
    g = exog.T @ (w * (1.0 - 2.0 * p)) / exog.shape[0]
    jac = w_bar * np.eye(beta.size) + np.outer(beta, g)
    cov = jac @ np.asarray(fit.results.cov_params()) @ jac.T
    return beta * w_bar, np.sqrt(np.diag(cov))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Return Holm step-down adjusted p-values.

    Notes
    -----
    With :math:`p_{(1)} \\le \\dots \\le p_{(m)}`,
    :math:`\\tilde p_{(i)} = \\min\\{1, \\max_{j \\le i} (m - j + 1)\\, p_{(j)}\\}`. Equal to
    ``multipletests(p, method="holm")[1]`` (tested); computed here because that function
    runs ``gc.collect()`` on every Holm call, which dominates repeated small fits.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(m, 0, -1)))
    out = np.empty(m)
    out[order] = adjusted
    return out


def adjust_p_values(p_values: np.ndarray, method: str = "holm") -> np.ndarray:
    """Return p-values adjusted across a family with ``multipletests``' ``method``."""
    if len(p_values) == 0:
        return np.empty(0)
    if method == "holm":
        return holm(p_values)
    return multipletests(np.asarray(p_values), method=method)[1]


def fit_main_model(
    frame: pd.DataFrame,
    *,
    alpha: float = 0.05,
    correction: str = "holm",
    features: list[str] | None = None,
    marginal_effects: bool = True,
) -> MainModelResult:
    """Estimate how much each style feature moves the odds of winning, rubric held fixed.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame (see :mod:`analysis.stats.frame`).
    alpha : float
        Intervals are ``1 - alpha`` confidence intervals.
    correction : str
        ``statsmodels.stats.multitest.multipletests`` method applied across the style
        features' p-values (default ``"holm"``, which controls the family-wise error rate).
    features : list of str, optional
        Style features to include; default all.
    marginal_effects : bool
        Compute average marginal effects (probability points); skip for speed in
        simulations.

    Returns
    -------
    MainModelResult

    Raises
    ------
    ModelFitError
        If the model cannot be estimated (no data, one outcome, perfect separation).

    Notes
    -----
    Ties are excluded (counted in ``n_ties``). For non-tie judgment :math:`i`,

    .. math::

        \\operatorname{logit} P(a \\text{ wins}) = \\beta_0 + \\gamma\\,\\mathrm{pos}_i
        + \\sum_k \\rho_k r_{ik} + \\sum_f \\beta_f x_{if}

    with :math:`\\mathrm{pos}_i = +1` if a was shown left and :math:`-1` otherwise,
    :math:`r_{ik}` the rubric differences and :math:`x_{if}` the normalised style
    differences (:mod:`analysis.stats.design`). :math:`e^{\\beta_f}` is the odds ratio per
    RMS unit of difference; intervals and p-values use standard errors clustered by
    annotator (:func:`fit_clustered_logit`). The average marginal effect of feature
    :math:`f` is :math:`\\beta_f \\cdot \\frac{1}{n}\\sum_i p_i(1-p_i)`, in probability
    points per RMS unit, with a delta-method standard error.

    The intercept is kept although it is ~0 when the canonical a/b order is random:
    imported data often fix the order (e.g. ``a`` = the "chosen" response, or the
    baseline model always ``a``), and without an intercept that preference would leak
    into the position and style coefficients. It costs one degree of freedom.

    Examples
    --------
    >>> from analysis.stats.synthetic import simulate_frame
    >>> frame, truth = simulate_frame(1500, 40, seed=3)
    >>> result = fit_main_model(frame)
    >>> sorted(result.style_effects.columns)[:3]
    ['ame', 'ame_se', 'ci_high']
    """
    style_only = not has_rubric(frame)
    matrix = model_matrix(frame, rubric=not style_only, features=features)
    fit = fit_clustered_logit(matrix)
    notes = list(fit.warnings)
    if style_only:
        notes.append("no rubric answers: style-only model (style effects not rubric-adjusted)")

    style_cols = matrix.block(STYLE_TERM)
    style = _effect_table(fit, style_cols, alpha)
    style.insert(0, "feature", [c[len(STYLE_TERM) :] for c in style_cols])
    style["p_adjusted"] = adjust_p_values(style["p_value"].to_numpy(), correction)
    style["ame"] = np.nan
    style["ame_se"] = np.nan
    if marginal_effects and style_cols:
        with blas_guard(matrix.endog.size):
            ame, ame_se = average_marginal_effects(fit)
        idx = matrix.index(style_cols)
        style["ame"] = ame[idx]
        style["ame_se"] = ame_se[idx]
    style["scale"] = [matrix.style.scales[f] for f in style["feature"]]

    rubric_cols = matrix.block(RUBRIC_TERM)
    rubric = _effect_table(fit, rubric_cols, alpha)
    rubric.insert(0, "criterion", [c[len(RUBRIC_TERM) :] for c in rubric_cols])

    def single(name: str) -> dict[str, float] | None:
        if name not in matrix.columns:
            return None
        return {k: float(v) for k, v in _effect_table(fit, [name], alpha).iloc[0].items()}

    return MainModelResult(
        style_effects=style,
        rubric_effects=rubric,
        position=single(POSITION),
        intercept=single(INTERCEPT),
        n=int(matrix.endog.size),
        n_ties=matrix.n_ties,
        n_annotators=int(np.unique(matrix.groups).size),
        style_only=style_only,
        correction=correction,
        alpha=alpha,
        cov_type=fit.cov_type,
        warnings=notes,
        fit=fit,
    )
