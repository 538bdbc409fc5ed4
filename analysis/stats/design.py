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

Collinearity guard
------------------
3. *Near-duplicates.* Taking the normalised columns in the order the features were
   given, a column whose correlation with an earlier *kept* column exceeds
   :data:`MAX_STYLE_CORRELATION` (0.95) in absolute value is dropped, with a note naming
   both columns. Two such columns measure one concept (``length.chars`` / ``words`` /
   ``tokens``): fitted together they split one effect between two unstable coefficients
   (odds ratios of 0.01 and 37 for "length" were seen on 600 comparisons). The
   correlation is the *uncentred* one, :math:`r_{fg} = \\frac{1}{n}\\sum_i x_{if}x_{ig}`
   (each column has unit RMS): swapping ``a`` and ``b`` in any subset of rows leaves
   every product :math:`x_{if}x_{ig}` unchanged, so which columns survive never depends
   on which response is called ``a``, and the design stays antisymmetric. It is computed
   over all rows (ties included), like the scales, so every model of one frame uses the
   same columns. Only pairs are checked: a column that is nearly a combination of several
   others is left in (exact combinations are still removed by :func:`model_matrix`), so
   a user-chosen feature list should still name one feature per concept; list the
   preferred one first.

Rubric differences are the ``rubric.<key>`` columns (already ``a - b``) with unanswered
criteria (NaN) filled with ``0``: "not answered" is treated like "no difference", which
keeps the row in the model instead of discarding the judgment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

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
    "MAX_STYLE_CORRELATION",
    "POSITION",
    "RUBRIC_TERM",
    "STYLE_TERM",
    "DroppedColumn",
    "ModelMatrix",
    "StyleDesign",
    "a_wins",
    "blas_guard",
    "column_label",
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

#: The collinearity guard drops a style column whose uncentred correlation with an
#: earlier kept column exceeds this in absolute value (module notes, step 3).
MAX_STYLE_CORRELATION = 0.95


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
class DroppedColumn:
    """A column left out of a design, and why.

    Attributes
    ----------
    column : str
        The column: a bare feature name in a :class:`StyleDesign`, a model-matrix name
        (``"style:<feature>"``, ``"rubric:<key>"``, ...) in a :class:`ModelMatrix`.
    reason : str
        ``"no_difference"`` (a and b never differ), ``"collinear"`` (collinearity guard),
        ``"constant"`` (constant over the modelled rows), ``"redundant"`` (an exact linear
        combination of earlier columns) or ``"separation"`` (predicts the winner exactly;
        see :func:`analysis.stats.main_model.fit_clustered_logit`).
    detail : str
        The human-readable note, as it appears in the warnings.
    """

    column: str
    reason: str
    detail: str


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
        Features dropped: their difference is zero in every row, or the collinearity guard
        removed them (step 3 of the module notes).
    notes : list[str]
        Human-readable notes about dropped features, for result warnings.
    dropped_columns : list[DroppedColumn]
        The same drops with their reason (``"no_difference"`` or ``"collinear"``).
    """

    differences: pd.DataFrame
    scales: dict[str, float]
    kinds: dict[str, str]
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dropped_columns: list[DroppedColumn] = field(default_factory=list)


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


def style_design(
    frame: pd.DataFrame,
    features: Iterable[str] | None = None,
    *,
    max_correlation: float | None = MAX_STYLE_CORRELATION,
) -> StyleDesign:
    """Compute normalised style differences, their scales and any dropped features.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame (see :mod:`analysis.stats.frame`).
    features : iterable of str, optional
        Feature names to use; default all features with both ``a.`` and ``b.`` columns.
        The order matters for the collinearity guard: of two near-duplicates the earlier
        one is kept.
    max_correlation : float or None
        Threshold of the collinearity guard (module notes, step 3); ``None`` turns it off.

    Returns
    -------
    StyleDesign

    Notes
    -----
    With raw values :math:`a_i, b_i` of one feature in row :math:`i`,

    .. math::

        d_i = \\frac{a_i - b_i}{a_i + b_i} \\text{ (non-negative features) or } a_i - b_i,
        \\qquad s = \\sqrt{\\tfrac{1}{n}\\sum_i d_i^2}, \\qquad x_i = d_i / s.

    The guard then drops, in order, every column :math:`g` with
    :math:`\\max_{f \\text{ kept before } g} |\\tfrac{1}{n}\\sum_i x_{if} x_{ig}|`
    above ``max_correlation``.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"a.emojis": [2.0, 0.0], "b.emojis": [0.0, 1.0]})
    >>> style_design(f).differences["emojis"].round(3).tolist()
    [1.0, -1.0]
    >>> g = f.assign(**{"a.smileys": [4.0, 0.0], "b.smileys": [0.0, 3.0]})
    >>> style_design(g).dropped
    ['smileys']
    """
    names = list(feature_names(frame) if features is None else features)
    columns: dict[str, np.ndarray] = {}
    scales: dict[str, float] = {}
    kinds: dict[str, str] = {}
    dropped: list[DroppedColumn] = []
    for name in names:
        a = frame[A_PREFIX + name].to_numpy(dtype=np.float64, na_value=np.nan)
        b = frame[B_PREFIX + name].to_numpy(dtype=np.float64, na_value=np.nan)
        d, kind = _raw_difference(a, b)
        rms = float(np.sqrt(np.mean(d * d))) if d.size else 0.0
        if not rms > 0:
            note = f"style feature {name!r} dropped: a and b never differ in this data"
            dropped.append(DroppedColumn(name, "no_difference", note))
            continue
        columns[name] = d / rms
        scales[name] = rms
        kinds[name] = kind
    if max_correlation is not None and len(columns) > 1:
        for name, partner, r in _near_duplicates(columns, max_correlation):
            note = (
                f"style feature {name!r} dropped: correlation {r:+.3f} with {partner!r} "
                f"(|r| > {max_correlation:g}); both measure one concept, so {partner!r} "
                "alone stands for it"
            )
            dropped.append(DroppedColumn(name, "collinear", note))
            del columns[name], scales[name], kinds[name]
    # Keep the notes in the order the features were given.
    position = {name: i for i, name in enumerate(names)}
    dropped.sort(key=lambda d: position[d.column])
    differences = pd.DataFrame(columns, index=frame.index, dtype=np.float64)
    return StyleDesign(
        differences,
        scales,
        kinds,
        dropped=[d.column for d in dropped],
        notes=[d.detail for d in dropped],
        dropped_columns=dropped,
    )


def _near_duplicates(
    columns: dict[str, np.ndarray], max_correlation: float
) -> list[tuple[str, str, float]]:
    """Return ``(dropped, kept partner, correlation)`` for the collinearity guard.

    Columns have unit RMS, so the uncentred correlation matrix is ``X.T @ X / n``.
    Columns are visited in order; each is compared with the columns kept before it only,
    so of a chain of near-duplicates the first survives.
    """
    names = list(columns)
    x = np.column_stack([columns[n] for n in names])
    with blas_guard(x.shape[0]):
        corr = (x.T @ x) / x.shape[0]
    kept: list[int] = []
    out = []
    for j, name in enumerate(names):
        if kept:
            r = corr[kept, j]
            best = int(np.argmax(np.abs(r)))
            if abs(r[best]) > max_correlation:
                out.append((name, names[kept[best]], float(r[best])))
                continue
        kept.append(j)
    return out


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
        difference is zero everywhere, and near-duplicates removed by the collinearity
        guard, are dropped (see :func:`style_design` for the list and the notes).

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
    dropped : list[DroppedColumn]
        The columns removed from this design (constant, redundant, separating), with
        their reason; drops of the style design itself are in ``style.dropped_columns``.
    """

    exog: np.ndarray
    columns: list[str]
    endog: np.ndarray
    groups: np.ndarray
    rows: np.ndarray
    style: StyleDesign
    n_ties: int
    notes: list[str] = field(default_factory=list)
    dropped: list[DroppedColumn] = field(default_factory=list)

    def block(self, prefix: str) -> list[str]:
        """Return the column names that start with ``prefix`` (e.g. ``STYLE_TERM``)."""
        return [c for c in self.columns if c.startswith(prefix)]

    def index(self, names: Iterable[str]) -> list[int]:
        """Return the positions of ``names`` in :attr:`columns`."""
        where = {c: i for i, c in enumerate(self.columns)}
        return [where[n] for n in names]

    def without(self, dropped: Iterable[DroppedColumn]) -> ModelMatrix:
        """Return a copy without the ``dropped`` columns, their notes and reasons recorded."""
        dropped = list(dropped)
        gone = {d.column for d in dropped}
        keep = [j for j, c in enumerate(self.columns) if c not in gone]
        return replace(
            self,
            exog=np.ascontiguousarray(self.exog[:, keep]),
            columns=[self.columns[j] for j in keep],
            notes=[*self.notes, *(d.detail for d in dropped)],
            dropped=[*self.dropped, *dropped],
        )


def column_label(column: str) -> str:
    """Return a model-matrix column as words: ``"style:emojis"`` -> ``"style feature 'emojis'"``.

    An interaction ``"<term>*<column>"`` reads ``"interaction of <column> with '<term>'"``.
    """
    if "*" in column:
        term, other = column.split("*", 1)
        return f"interaction of {column_label(other)} with {term!r}"
    for prefix, label in ((STYLE_TERM, "style feature"), (RUBRIC_TERM, "criterion")):
        if column.startswith(prefix):
            return f"{label} {column[len(prefix) :]!r}"
    return f"column {column!r}"


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
    exog: np.ndarray,
    names: list[str],
    notes: list[str],
    protected: int,
    dropped: list[DroppedColumn] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Drop constant and linearly dependent columns (after ``protected`` leading ones).

    Appends a note per dropped column to ``notes`` and, when given, a
    :class:`DroppedColumn` to ``dropped``.
    """
    dropped = [] if dropped is None else dropped
    keep = []
    for j, name in enumerate(names):
        if j >= protected and (exog.shape[0] == 0 or np.ptp(exog[:, j]) == 0):
            note = f"column {name!r} dropped: constant over the modelled judgments"
            notes.append(note)
            dropped.append(DroppedColumn(name, "constant", note))
        else:
            keep.append(j)
    if len(keep) < len(names):
        exog, names = exog[:, keep], [names[j] for j in keep]
    if exog.shape[0]:
        independent = _independent_columns(exog, protected=protected)
        if len(independent) < len(names):
            for j in sorted(set(range(len(names))) - set(independent)):
                note = f"column {names[j]!r} dropped: linear combination of others"
                notes.append(note)
                dropped.append(DroppedColumn(names[j], "redundant", note))
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
    dropped = list(matrix.dropped)
    protected = int(bool(matrix.columns) and matrix.columns[0] == INTERCEPT)
    with blas_guard(exog.shape[0]):
        exog, names = _prune(exog, names, notes, protected=protected, dropped=dropped)
    return ModelMatrix(
        exog=np.ascontiguousarray(exog),
        columns=names,
        endog=matrix.endog[keep_rows],
        groups=matrix.groups[keep_rows],
        rows=matrix.rows[keep_rows],
        style=matrix.style,
        n_ties=matrix.n_ties,
        notes=notes,
        dropped=dropped,
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
    dropped: list[DroppedColumn] = []
    with blas_guard(rows.size):
        exog, names = _prune(exog, names, notes, protected=int(intercept), dropped=dropped)
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
        dropped=dropped,
    )
