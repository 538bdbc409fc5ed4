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

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.stats.frame import (
    A_PREFIX,
    B_PREFIX,
    LEFT,
    OUTCOME,
    RUBRIC_PREFIX,
    feature_names,
    rubric_columns,
)

__all__ = [
    "StyleDesign",
    "a_wins",
    "has_rubric",
    "non_tie_mask",
    "position_term",
    "rubric_differences",
    "style_design",
    "style_differences",
    "style_scales",
]


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
