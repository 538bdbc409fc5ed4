"""Turns a judgment frame into the numeric design every model in tiebreak fits.

Style normalisation (the one place it is defined)
-------------------------------------------------
For each style feature ``f`` with raw values ``a.f`` and ``b.f``:

1. *Signed difference.* If every observed value of ``a.f`` and ``b.f`` in the frame is
   ``>= 0`` (counts, lengths, shares), the relative difference
   ``d = (a - b) / (a + b)``, with ``d = 0`` when ``a + b == 0``, as in Chatbot Arena's
   style control; it lies in ``[-1, 1]`` and does not let one very long response dominate.
   Otherwise (signed features such as ``agreement`` in {-1, 0, 1}) the plain difference
   ``d = a - b``. A missing value on either side gives ``d = 0`` ("no evidence of a
   difference").
2. *Scale.* Each column is divided by its root-mean-square over all rows of the frame
   (ties included), ``s_f = sqrt(mean(d**2))``, so a logistic coefficient is the change in
   log-odds of winning per one RMS unit of difference and coefficients of different
   features are comparable. ``s_f`` is returned by :func:`style_scales`; multiply a
   coefficient by ``1 / s_f`` to get it per unit of ``d``.

The columns are never centred: both steps are odd functions of the pair, so swapping
``a`` and ``b`` negates the row, and "no difference" stays exactly ``0``. A column that
is zero in every row carries no information and is dropped (see
:attr:`StyleDesign.dropped`).

Rubric differences are the ``rubric.<key>`` columns (already ``a - b``) with unanswered
criteria (NaN) filled with ``0``: "not answered" is treated like "no difference", which
keeps the row in the model instead of discarding the judgment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis.stats.frame import (
    A_PREFIX,
    ANNOTATOR,
    B_PREFIX,
    LEFT,
    OUTCOME,
    RUBRIC_PREFIX,
    feature_names,
    rubric_columns,
)

__all__ = [
    "INTERCEPT",
    "POSITION",
    "RUBRIC_TERM",
    "STYLE_TERM",
    "ModelMatrix",
    "StyleDesign",
    "a_wins",
    "blas_guard",
    "extend_matrix",
    "has_rubric",
    "model_matrix",
    "non_tie_mask",
    "position_term",
    "rubric_differences",
    "style_design",
    "style_differences",
    "style_scales",
]

# From this many rows on, products with the design run with single-threaded BLAS.
LARGE_DESIGN = 50_000

# Column names in a model matrix; the prefixes keep a rubric key and a style feature
# with the same name apart.
INTERCEPT = "intercept"
POSITION = "position"
RUBRIC_TERM = "rubric:"
STYLE_TERM = "style:"


def blas_guard(n_rows: int) -> contextlib.AbstractContextManager:
    """Return a context that makes BLAS single-threaded for designs of ``n_rows`` or more.

    The products here are n x k by k x k with k ~ 30: threads gain little, and on a busy
    machine (Celery workers, two cores) multi-threaded OpenBLAS was measured 10-20x
    slower than one thread. Small designs skip it: setting the limit costs ~10 ms.
    """
    if n_rows < LARGE_DESIGN:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class StyleDesign:
    """Normalised style differences plus what is needed to interpret them.

    Attributes
    ----------
    differences : pandas.DataFrame
        One float64 column per kept feature (bare feature name), normalised ``a - b``.
    scales : dict[str, float]
        RMS divisor ``s_f`` per kept feature.
    kinds : dict[str, str]
        ``"relative"`` or ``"difference"`` per kept feature (step 1 of the module notes).
    dropped : list[str]
        Features dropped because their difference is zero in every row.
    notes : list[str]
        Human-readable notes about dropped features, for result warnings.
    """

    differences: pd.DataFrame
    scales: dict[str, float]
    kinds: dict[str, str]
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _raw_difference(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, str]:
    """Return step 1 of the normalisation for one feature and its kind."""
    observed = np.concatenate([a[~np.isnan(a)], b[~np.isnan(b)]])
    if observed.size == 0 or observed.min() >= 0:
        total = a + b
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(total > 0, (a - b) / total, 0.0)
        kind = "relative"
    else:
        d = a - b
        kind = "difference"
    # NaN on either side: no evidence of a difference (documented in the module notes).
    d = np.where(np.isnan(d), 0.0, d)
    return d, kind


def style_design(frame: pd.DataFrame, features: Iterable[str] | None = None) -> StyleDesign:
    """Compute normalised style differences, their scales and any dropped features.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame (see :mod:`analysis.stats.frame`).
    features : iterable of str, optional
        Feature names to use; default all features with both ``a.`` and ``b.`` columns.

    Returns
    -------
    StyleDesign

    Notes
    -----
    With raw values :math:`a_i, b_i` of one feature in row :math:`i`,

    .. math::

        d_i = \\frac{a_i - b_i}{a_i + b_i} \\text{ (non-negative features) or } a_i - b_i,
        \\qquad s = \\sqrt{\\tfrac{1}{n}\\sum_i d_i^2}, \\qquad x_i = d_i / s.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"a.emojis": [2.0, 0.0], "b.emojis": [0.0, 1.0]})
    >>> style_design(f).differences["emojis"].round(3).tolist()
    [1.0, -1.0]
    """
    names = list(feature_names(frame) if features is None else features)
    columns: dict[str, np.ndarray] = {}
    scales: dict[str, float] = {}
    kinds: dict[str, str] = {}
    dropped: list[str] = []
    for name in names:
        a = frame[A_PREFIX + name].to_numpy(dtype=np.float64, na_value=np.nan)
        b = frame[B_PREFIX + name].to_numpy(dtype=np.float64, na_value=np.nan)
        d, kind = _raw_difference(a, b)
        rms = float(np.sqrt(np.mean(d * d))) if d.size else 0.0
        if not rms > 0:
            dropped.append(name)
            continue
        columns[name] = d / rms
        scales[name] = rms
        kinds[name] = kind
    notes = [
        f"style feature {name!r} dropped: a and b never differ in this data" for name in dropped
    ]
    differences = pd.DataFrame(columns, index=frame.index, dtype=np.float64)
    return StyleDesign(differences, scales, kinds, dropped, notes)


def style_differences(frame: pd.DataFrame, features: Iterable[str] | None = None) -> pd.DataFrame:
    """Return the normalised signed ``a - b`` style differences, one column per feature.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame.
    features : iterable of str, optional
        Feature names (bare, e.g. ``"emojis"``); default all features in the frame.

    Returns
    -------
    pandas.DataFrame
        Same index as ``frame``; columns are the kept feature names. Features whose
        difference is zero everywhere are dropped (see :func:`style_design` for the list).

    Notes
    -----
    :math:`x_i = d_i / s` with :math:`d_i` the relative (non-negative features) or plain
    (signed features) difference and :math:`s` its root-mean-square; see the module
    docstring. Antisymmetric: swapping a and b negates every row.
    """
    return style_design(frame, features).differences


def style_scales(frame: pd.DataFrame, features: Iterable[str] | None = None) -> dict[str, float]:
    """Return the RMS divisor :math:`s_f` per kept feature (see :func:`style_differences`).

    A coefficient ``beta`` per RMS unit is ``beta / s_f`` per unit of the relative (or
    plain) difference.
    """
    return style_design(frame, features).scales


def rubric_differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the rubric ``a - b`` differences with columns renamed to the criterion key.

    Unanswered criteria (NaN) become ``0`` ("no difference"), so every judgment stays in
    the model. Returns an empty-column frame when there are no ``rubric.*`` columns.
    """
    cols = rubric_columns(frame)
    out = frame[cols].astype(np.float64).fillna(0.0)
    out.columns = [c[len(RUBRIC_PREFIX) :] for c in cols]
    return out


def has_rubric(frame: pd.DataFrame) -> bool:
    """Return ``True`` if any ``rubric.*`` column holds at least one non-NaN value."""
    cols = rubric_columns(frame)
    return bool(cols) and bool(frame[cols].notna().to_numpy().any())


def a_wins(frame: pd.DataFrame) -> pd.Series:
    """Return 1.0 where response a won, 0.0 where b won and NaN for ties."""
    outcome = frame[OUTCOME].to_numpy(dtype=object)
    values = np.where(outcome == "a", 1.0, np.where(outcome == "b", 0.0, np.nan))
    return pd.Series(values, index=frame.index, name="a_wins", dtype=np.float64)


def non_tie_mask(frame: pd.DataFrame) -> np.ndarray:
    """Return a boolean array, ``True`` for judgments whose outcome is a or b."""
    return frame[OUTCOME].isin(["a", "b"]).to_numpy()


def position_term(frame: pd.DataFrame) -> pd.Series:
    """Return +1.0 where response a was shown on the left and -1.0 where b was.

    Rows with an unknown display side get 0.0 (no position information).
    """
    left = frame[LEFT].to_numpy(dtype=object)
    values = np.where(left == "a", 1.0, np.where(left == "b", -1.0, 0.0))
    return pd.Series(values, index=frame.index, name="position", dtype=np.float64)


@dataclass(frozen=True)
class ModelMatrix:
    """The numeric inputs of a logistic model of "a wins" on non-tie judgments.

    Attributes
    ----------
    exog : numpy.ndarray
        ``(n, k)`` float64 design, one row per modelled (non-tie) judgment.
    columns : list[str]
        Column names: ``"intercept"``, ``"position"``, ``"rubric:<key>"``,
        ``"style:<feature>"`` (in that order, constant or redundant columns removed).
    endog : numpy.ndarray
        1.0 when a won, 0.0 when b won.
    groups : numpy.ndarray
        Integer annotator code per row (missing annotators share one code), for clustering.
    rows : numpy.ndarray
        Positional indices of the modelled rows in the frame.
    style : StyleDesign
        The style design of the whole frame (scales, kinds, dropped features).
    n_ties : int
        Number of tie judgments excluded.
    notes : list[str]
        Why columns were dropped, for result warnings.
    """

    exog: np.ndarray
    columns: list[str]
    endog: np.ndarray
    groups: np.ndarray
    rows: np.ndarray
    style: StyleDesign
    n_ties: int
    notes: list[str] = field(default_factory=list)

    def block(self, prefix: str) -> list[str]:
        """Return the column names that start with ``prefix`` (e.g. ``STYLE_TERM``)."""
        return [c for c in self.columns if c.startswith(prefix)]

    def index(self, names: Iterable[str]) -> list[int]:
        """Return the positions of ``names`` in :attr:`columns`."""
        where = {c: i for i, c in enumerate(self.columns)}
        return [where[n] for n in names]


def _independent_columns(exog: np.ndarray, protected: int) -> list[int]:
    """Return the positions of a maximal set of linearly independent columns.

    Columns are taken greedily in order, so earlier columns (intercept, position,
    rubric) are kept in preference to later ones. Works on the k x k correlation-scaled
    Gram matrix, which is cheap even for millions of rows.
    """
    gram = exog.T @ exog
    norm = np.sqrt(np.diag(gram))
    norm[norm == 0] = 1.0
    corr = gram / np.outer(norm, norm)
    kept: list[int] = []
    for j in range(exog.shape[1]):
        if kept:
            sub = corr[np.ix_(kept, kept)]
            v = corr[kept, j]
            residual = corr[j, j] - v @ np.linalg.solve(sub, v)
        else:
            residual = corr[j, j]
        if residual > 1e-9 or j < protected:
            kept.append(j)
    return kept


def _prune(
    exog: np.ndarray, names: list[str], notes: list[str], protected: int
) -> tuple[np.ndarray, list[str]]:
    """Drop constant and linearly dependent columns (after ``protected`` leading ones)."""
    keep = []
    for j, name in enumerate(names):
        if j >= protected and (exog.shape[0] == 0 or np.ptp(exog[:, j]) == 0):
            notes.append(f"column {name!r} dropped: constant over the modelled judgments")
        else:
            keep.append(j)
    if len(keep) < len(names):
        exog, names = exog[:, keep], [names[j] for j in keep]
    if exog.shape[0]:
        independent = _independent_columns(exog, protected=protected)
        if len(independent) < len(names):
            for j in sorted(set(range(len(names))) - set(independent)):
                notes.append(f"column {names[j]!r} dropped: linear combination of others")
            exog, names = exog[:, independent], [names[j] for j in independent]
    return exog, names


def extend_matrix(
    matrix: ModelMatrix, keep_rows: np.ndarray, extra: dict[str, np.ndarray]
) -> ModelMatrix:
    """Return ``matrix`` restricted to ``keep_rows`` (boolean, per modelled row) with
    ``extra`` columns (already restricted) appended, constant/redundant columns removed.
    """
    names = list(matrix.columns) + list(extra)
    exog = np.empty((int(keep_rows.sum()), len(names)), dtype=np.float64)
    exog[:, : len(matrix.columns)] = matrix.exog[keep_rows]
    for j, col in enumerate(extra.values(), start=len(matrix.columns)):
        exog[:, j] = col
    notes = list(matrix.notes)
    protected = int(bool(matrix.columns) and matrix.columns[0] == INTERCEPT)
    with blas_guard(exog.shape[0]):
        exog, names = _prune(exog, names, notes, protected=protected)
    return ModelMatrix(
        exog=np.ascontiguousarray(exog),
        columns=names,
        endog=matrix.endog[keep_rows],
        groups=matrix.groups[keep_rows],
        rows=matrix.rows[keep_rows],
        style=matrix.style,
        n_ties=matrix.n_ties,
        notes=notes,
    )


def model_matrix(
    frame: pd.DataFrame,
    *,
    rubric: bool = True,
    style: bool = True,
    position: bool = True,
    intercept: bool = True,
    features: Iterable[str] | None = None,
    style_design_: StyleDesign | None = None,
) -> ModelMatrix:
    """Build the design of a logistic model of "a wins" on the non-tie judgments.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame.
    rubric, style, position, intercept : bool
        Which blocks of columns to include.
    features : iterable of str, optional
        Style features to use; default all.
    style_design_ : StyleDesign, optional
        A precomputed :func:`style_design` of ``frame`` (saves recomputing it).

    Returns
    -------
    ModelMatrix

    Notes
    -----
    Style scales are computed on the whole frame (ties included) and then restricted to
    non-tie rows, so the same feature has the same scale in every model of one frame.
    Columns that are constant over the modelled rows (e.g. a criterion nobody answered),
    and columns that are exact linear combinations of earlier ones, are removed and
    listed in :attr:`ModelMatrix.notes`.
    """
    mask = non_tie_mask(frame)
    rows = np.flatnonzero(mask)
    design = style_design_ if style_design_ is not None else style_design(frame, features)
    names: list[str] = []
    blocks: list[np.ndarray] = []
    if intercept:
        names.append(INTERCEPT)
        blocks.append(np.ones(rows.size))
    if position:
        names.append(POSITION)
        blocks.append(position_term(frame).to_numpy()[rows])
    if rubric:
        rub = rubric_differences(frame)
        for key in rub.columns:
            names.append(RUBRIC_TERM + key)
            blocks.append(rub[key].to_numpy()[rows])
    if style:
        for feat in design.differences.columns:
            names.append(STYLE_TERM + feat)
            blocks.append(design.differences[feat].to_numpy()[rows])
    exog = np.empty((rows.size, len(names)), dtype=np.float64)
    for j, col in enumerate(blocks):
        exog[:, j] = col
    notes = list(design.notes) if style else []
    with blas_guard(rows.size):
        exog, names = _prune(exog, names, notes, protected=int(intercept))
    codes, _ = pd.factorize(frame[ANNOTATOR], use_na_sentinel=False)
    return ModelMatrix(
        exog=np.ascontiguousarray(exog),
        columns=names,
        endog=a_wins(frame).to_numpy()[rows],
        groups=codes[rows],
        rows=rows,
        style=design,
        n_ties=int(mask.size - rows.size),
        notes=notes,
    )
