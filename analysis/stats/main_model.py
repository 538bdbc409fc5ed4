"""The main model: logistic regression of the winner on rubric, style and position."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import linprog
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
    DroppedColumn,
    ModelMatrix,
    StyleDesign,
    blas_guard,
    column_label,
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
    "dropped_style_features",
    "fit_clustered_logit",
    "fit_main_model",
    "holm",
    "separation_direction",
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
# The separation linear programme runs on at most about this many rows at a time.
SEPARATION_LP_ROWS = 50_000


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
        The design it was fitted on (without any column dropped for separation).
    cov_type : str
        ``"cluster"``, or ``"HC1"`` when there were fewer than two annotators.
    warnings : list[str]
        Notes about dropped columns, convergence, few clusters.
    separated : list[DroppedColumn]
        Columns dropped because they (quasi-)separated the outcomes (also in
        ``matrix.dropped``).
    """

    results: Any
    matrix: ModelMatrix
    cov_type: str
    warnings: list[str] = field(default_factory=list)
    separated: list[DroppedColumn] = field(default_factory=list)

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


class _Separated(Exception):
    """One fit showed (quasi-)separation, or did not converge (which may be the cause).

    ``reach`` maps the columns whose term blew up to the largest change of a row's
    log-odds they caused (empty when the fit gave no usable estimates). ``fit`` is the
    finished fit when the only symptom was non-convergence: it stands if no separating
    direction is found.
    """

    def __init__(
        self, message: str, reach: dict[str, float], fit: ClusteredFit | None = None
    ) -> None:
        super().__init__(message)
        self.reach = reach
        self.fit = fit


def fit_clustered_logit(
    matrix: ModelMatrix,
    *,
    maxiter: int = 100,
    start: Mapping[str, float] | None = None,
    droppable: tuple[str, ...] = (),
    linked: Mapping[str, Sequence[str]] | None = None,
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
    droppable : tuple of str
        Prefixes of the columns that may be dropped when they (quasi-)separate the
        outcomes (e.g. ``("style:",)``); empty (the default) raises on separation.
    linked : mapping, optional
        Columns to drop together with a dropped column (e.g. a style column's
        interaction).

    Returns
    -------
    ClusteredFit

    Raises
    ------
    ModelFitError
        If there are no rows, only one outcome, or the data are separated by columns that
        may not be dropped (or every droppable column had to go).

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

    *Separation.* With :math:`z_i = (2y_i - 1)\\,x_i`, the data are (quasi-)separated when
    some direction :math:`d \\ne 0` has :math:`z_i^\\top d \\ge 0` for every row and
    :math:`> 0` for some: the likelihood then keeps rising along :math:`d` and the
    coefficients involved are infinite. Droppable columns are handled in two steps.
    Before fitting, a droppable column that separates on its own (every row where it is
    non-zero was won by the side it favours, or every such row by the other side, as
    happens with a feature present in a handful of judgments) is dropped. If the fit then
    still shows separation (statsmodels' perfect-prediction warning, a singular Hessian,
    non-finite standard errors, or a term moving some row's log-odds by more than
    ``SEPARATION_LOGIT``), the linear programme of Konis (2007),
    :math:`\\max_d \\sum_i z_i^\\top d` subject to :math:`z_i^\\top d \\ge 0`,
    :math:`|d_j| \\le 1` (columns scaled to max-abs 1), finds a separating direction; of
    the droppable columns in it, the one with the largest weight is dropped and the model
    refitted, until the fit is clean. Every drop becomes a warning naming the column, and
    is listed in :attr:`ClusteredFit.separated`.
    """
    y = matrix.endog
    if y.size == 0:
        raise ModelFitError("no non-tie judgments to model")
    if y.min() == y.max():
        raise ModelFitError("every non-tie judgment has the same winner; nothing to model")
    linked = {} if linked is None else linked
    separated: list[DroppedColumn] = []

    def drop(columns: list[str], why: str) -> None:
        nonlocal matrix
        gone = []
        for column in columns:
            note = f"{column_label(column)} dropped: {why}"
            gone.append(DroppedColumn(column, "separation", note))
            for other in linked.get(column, ()):
                if other in matrix.columns and other not in columns:
                    note = f"{column_label(other)} dropped with {column_label(column)}"
                    gone.append(DroppedColumn(other, "separation", note))
        separated.extend(gone)
        matrix = matrix.without(gone)

    if droppable:
        for column, favoured, n_nonzero in _single_column_separation(matrix, droppable):
            if column in matrix.columns:
                drop(
                    [column],
                    f"it separates the outcomes: it differs in {n_nonzero} of "
                    f"{y.size} modelled judgments and the response with "
                    f"{'more' if favoured else 'less'} of it won every one, so its odds "
                    "ratio is infinite",
                )
    while True:
        if droppable and separated and not any(c.startswith(droppable) for c in matrix.columns):
            raise ModelFitError(
                "(quasi-)perfect separation: every "
                + " / ".join(p.rstrip(":*") for p in droppable)
                + " column predicts the winner (almost) exactly and was dropped ("
                + ", ".join(d.column for d in separated)
                + "); nothing is left to estimate"
            )
        try:
            fit = _fit_once(matrix, maxiter=maxiter, start=start)
        except _Separated as exc:
            culprits, partners = _separation_culprits(matrix, exc.reach, droppable)
            if not culprits:
                if exc.fit is not None and not partners:
                    exc.fit.separated = separated
                    return exc.fit
                if partners:
                    raise ModelFitError(
                        f"(quasi-)perfect separation: {', '.join(partners)} predict(s) the "
                        "winner (almost) exactly, so the odds ratios are infinite; drop the "
                        "column(s) or add data"
                    ) from None
                raise ModelFitError(str(exc)) from None
            why = "it predicts the winner (almost) exactly"
            if partners:
                why += f" together with {', '.join(repr(p) for p in partners)}"
            drop(culprits, why + " (quasi-separation), so its odds ratio is infinite")
            continue
        fit.separated = separated
        return fit


def _single_column_separation(
    matrix: ModelMatrix, droppable: tuple[str, ...]
) -> list[tuple[str, bool, int]]:
    """Return ``(column, favoured, n_nonzero)`` for each droppable column that separates
    the outcomes on its own; ``favoured`` is True when the side it favours always won.

    Direction-free: swapping a and b in a row negates both ``x`` and ``2y - 1``.
    """
    sign = 2.0 * matrix.endog - 1.0
    out = []
    for j, column in enumerate(matrix.columns):
        if not column.startswith(droppable):
            continue
        z = sign * matrix.exog[:, j]
        pos, neg = bool(np.any(z > 0)), bool(np.any(z < 0))
        if pos != neg:
            out.append((column, pos, int(np.count_nonzero(z))))
    return out


def separation_direction(
    exog: np.ndarray, endog: np.ndarray, *, max_rows: int = SEPARATION_LP_ROWS
) -> np.ndarray | None:
    """Return a direction along which the logistic likelihood rises forever, or None.

    Parameters
    ----------
    exog : numpy.ndarray
        ``(n, k)`` design.
    endog : numpy.ndarray
        0/1 outcomes.
    max_rows : int
        Above this many informative rows the programme is solved on a subset and the
        answer checked on all rows (see Notes).

    Returns
    -------
    numpy.ndarray or None
        The direction, scaled so its largest entry is 1 in absolute value, in units of
        the columns scaled to maximum absolute value 1 (so entries compare the columns'
        weights), zero for the columns not involved; ``None`` when the maximum likelihood
        estimate exists.

    Notes
    -----
    Konis' (2007) linear programme :math:`\\max_d \\sum_i z_i^\\top d` subject to
    :math:`z_i^\\top d \\ge 0` and :math:`|d_j| \\le 1`, with :math:`z_i = (2y_i-1) x_i`
    (HiGHS). Its optimum is positive exactly when the data are (quasi-)separated. On
    large data it is solved on the rows where a sparse column (non-zero in under 5% of
    rows) is non-zero plus a seeded random subset, and rows the answer violates are added
    until it holds on every row (a cutting-plane loop); a direction found this way is
    valid for all rows, though a separation visible only outside the subset can be
    missed.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 2.0], [1.0, 1.0]])
    >>> separation_direction(x, np.array([1.0, 0.0, 1.0, 1.0])).tolist()
    [0.0, 1.0]
    >>> separation_direction(x, np.array([1.0, 0.0, 0.0, 1.0])) is None
    True
    """
    z = exog * (2.0 * endog - 1.0)[:, None]
    z = z[np.any(z != 0, axis=1)]
    if z.size == 0:
        return None
    scale = np.abs(z).max(axis=0)
    scale[scale == 0] = 1.0
    z = z / scale
    if z.shape[0] <= max_rows:
        return _separation_lp(z)
    sparse = np.mean(z != 0, axis=0) < 0.05
    rows = np.any(z[:, sparse] != 0, axis=1)
    free = np.flatnonzero(~rows)
    fill = max(0, max_rows - int(rows.sum()))
    if fill:
        rows[np.random.default_rng(0).choice(free, min(fill, free.size), replace=False)] = True
    for _ in range(50):
        d = _separation_lp(z[rows])
        if d is None:
            return None
        margin = z @ d
        violated = margin < -_LP_TOL
        if not violated.any():
            return d if margin.max() > _LP_MIN_MARGIN else None
        worst = np.argsort(margin)[: min(int(violated.sum()), max_rows)]
        rows[worst] = True
    return None


# Solver tolerance on a row's margin, and the margin that marks a row as separated.
_LP_TOL = 1e-5
_LP_MIN_MARGIN = 1e-3


def _separation_lp(z: np.ndarray) -> np.ndarray | None:
    """Solve the separation programme on rows ``z`` (already signed and scaled)."""
    res = linprog(
        -z.sum(axis=0),
        A_ub=-z,
        b_ub=np.zeros(z.shape[0]),
        bounds=[(-1.0, 1.0)] * z.shape[1],
        method="highs",
    )
    if res.status != 0 or res.x is None or not np.max(np.abs(res.x)) > 1e-9:
        return None
    # Normalise, so a solution that is solver noise around 0 fails the check below.
    d = res.x / np.max(np.abs(res.x))
    d[np.abs(d) < 1e-6] = 0.0
    margin = z @ d
    # A genuine direction: no row worse off (up to tolerance), some row clearly better off.
    if margin.min() < -_LP_TOL or not margin.max() > _LP_MIN_MARGIN:
        return None
    return d


def _separation_culprits(
    matrix: ModelMatrix, exploding: Mapping[str, float], droppable: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """Return ``(columns to drop, the other columns of the separating direction)``.

    No column to drop (an empty first list) means the separation cannot be resolved by
    dropping a droppable column; the second list then names the columns responsible,
    when they are known.
    """
    with blas_guard(matrix.endog.size):
        d = separation_direction(matrix.exog, matrix.endog)
    if d is not None:
        # The programme may add small weights on columns that merely ride along with
        # the separating ones; a tenth of the largest weight counts as involved.
        involved = sorted(
            ((abs(w), c) for w, c in zip(d, matrix.columns, strict=True) if abs(w) >= 0.1),
            reverse=True,
        )
        candidates = [(w, c) for w, c in involved if droppable and c.startswith(droppable)]
        if candidates:
            culprit = candidates[0][1]
            return [culprit], [c for _, c in involved if c != culprit]
        return [], [c for _, c in involved]
    # No exact direction (numerically near-separated): fall back on the exploding terms.
    candidates = [c for c in exploding if droppable and c.startswith(droppable)]
    if candidates:
        return [max(candidates, key=lambda c: exploding[c])], []
    return [], list(exploding)


def _fit_once(
    matrix: ModelMatrix, *, maxiter: int, start: Mapping[str, float] | None
) -> ClusteredFit:
    """Fit once; raise :class:`_Separated` on any sign of separation."""
    notes = list(matrix.notes)
    y = matrix.endog
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
        except (PerfectSeparationError, PerfectSeparationWarning):
            raise _Separated(
                "perfect separation: some combination of rubric/style columns predicts the "
                "winner exactly, so odds ratios are infinite; drop that column or add data",
                {},
            ) from None
        except np.linalg.LinAlgError as exc:
            raise _Separated(f"singular design matrix: {exc}", {}) from None
    # Quasi-complete separation (some rows predicted exactly) does not stop Newton's
    # method; it shows as coefficients whose contribution to the log-odds explodes.
    # Largest change of any row's log-odds per column: |beta_j| max_i |x_ij|.
    reach = np.abs(np.asarray(results.params)) * np.abs(matrix.exog).max(axis=0)
    exploding = {
        c: float(r) for c, r in zip(matrix.columns, reach, strict=True) if not r <= SEPARATION_LOGIT
    }
    if exploding:
        raise _Separated(
            f"(quasi-)perfect separation: {', '.join(exploding)} predict(s) the winner "
            "(almost) exactly, so the odds ratios are infinite; drop the column(s) or add "
            "data",
            exploding,
        )
    if not np.all(np.isfinite(np.asarray(results.bse))):
        raise _Separated("standard errors are not finite (near-singular design)", {})
    converged = True
    for w in caught:
        if issubclass(w.category, ConvergenceWarning | HessianInversionWarning):
            notes.append(f"logistic fit: {w.message}")
            converged = converged and not issubclass(w.category, ConvergenceWarning)
    fit = ClusteredFit(results, matrix, cov_type, notes)
    if not converged:
        # Newton never settles under quasi-separation: check before trusting the fit.
        raise _Separated("the logistic fit did not converge", {}, fit)
    return fit


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
    dropped_features : list of dict
        Style features left out of the model, ``{"feature", "reason", "detail"}`` each:
        reason ``"no_difference"`` or ``"collinear"`` (the style design, see
        :func:`analysis.stats.design.style_design`), ``"constant"`` or ``"redundant"``
        (over the modelled judgments) or ``"separation"`` (see
        :func:`fit_clustered_logit`); ``detail`` is the warning text.
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
    dropped_features: list[dict[str, str]] = field(default_factory=list)

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
        If the model cannot be estimated: no data, one outcome, separation by the rubric
        or position terms, or every style feature separating the outcomes.

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

    A style feature that (quasi-)separates the outcomes (e.g. present in three judgments,
    all won by the response that has it) has an infinite odds ratio, and with it in the
    model no coefficient is trustworthy. It is dropped with a warning naming it, listed in
    ``dropped_features`` with reason ``"separation"``, and the model is refitted without
    it (:func:`fit_clustered_logit`, ``droppable=("style:",)``). Rubric and position
    columns are never dropped this way: without a criterion the style effects would no
    longer be rubric-adjusted, so separation there is an error naming the columns.

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
    fit = fit_clustered_logit(matrix, droppable=(STYLE_TERM,))
    matrix = fit.matrix  # without the columns dropped for separation
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
        dropped_features=dropped_style_features(matrix),
    )


def dropped_style_features(matrix: ModelMatrix) -> list[dict[str, str]]:
    """Return the style features left out of ``matrix`` and why, in the order dropped.

    One ``{"feature", "reason", "detail"}`` per feature: first those dropped by the
    style design (no difference, collinearity guard), then those dropped from the model
    (constant or redundant over its rows, separation). Other columns are not listed.
    """
    out = [
        {"feature": d.column, "reason": d.reason, "detail": d.detail}
        for d in matrix.style.dropped_columns
    ]
    out += [
        {"feature": d.column[len(STYLE_TERM) :], "reason": d.reason, "detail": d.detail}
        for d in matrix.dropped
        if d.column.startswith(STYLE_TERM)
    ]
    return out
