"""Inter-annotator agreement: Krippendorff's alpha, pairwise and with-the-majority agreement."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.stats.frame import (
    ANNOTATOR,
    COMPARISON,
    OUTCOME,
    OUTCOMES,
    RUBRIC_PREFIX,
    rubric_columns,
)

__all__ = ["agreement_summary", "krippendorff_alpha_nominal"]

# Category codes for a criterion answer: the sign of rubric.<key> (-1, 0, +1) shifted to 0..2.
_N_SIGN_CATEGORIES = 3


def agreement_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Summarise how much annotators agree on the overall choice and on each criterion.

    Parameters
    ----------
    frame : pandas.DataFrame
        A judgment frame (see :mod:`analysis.stats.frame`). Units are comparisons, coders are
        annotators; every judgment is one value of its comparison.

    Returns
    -------
    dict
        ``krippendorff_alpha`` and ``percent_agreement`` for the overall choice (``a``/``b``/
        ``tie``); ``n_units``, the number of comparisons with at least two judgments;
        ``per_criterion``, ``{key: {"krippendorff_alpha", "percent_agreement", "n_units"}}`` with
        categories = sign of ``rubric.<key>`` (NaN = not answered); ``annotators``, a list of
        ``{"annotator", "n", "agreement_with_majority"}`` sorted by annotator. A statistic is
        ``None`` where it is undefined: no comparison has two values, or (alpha only) every
        pairable value falls in a single category, so that expected disagreement is zero.

    Notes
    -----
    With :math:`n_{uc}` the number of values of category :math:`c` in unit :math:`u` and
    :math:`m_u = \\sum_c n_{uc}`, only units with :math:`m_u \\ge 2` are pairable. The
    coincidence matrix is

    .. math:: o_{ck} = \\sum_u \\frac{n_{uc} n_{uk} - [c = k] n_{uc}}{m_u - 1},

    with marginals :math:`n_c = \\sum_k o_{ck}` and :math:`n = \\sum_c n_c`. Nominal alpha is

    .. math:: \\alpha = 1 - (n - 1) \\frac{n - \\sum_c o_{cc}}{n^2 - \\sum_c n_c^2}.

    Percent agreement pools all unordered pairs of judgments on the same comparison:
    :math:`\\sum_u \\sum_c n_{uc}(n_{uc}-1) / \\sum_u m_u(m_u-1)`, so comparisons with more
    judgments weigh more (they contribute more pairs).

    Agreement with the majority scores each judgment whose comparison has at least two *other*
    judgments. With :math:`r_c` the others' count of category :math:`c` and :math:`M` the set of
    modal categories, the score is :math:`[\\text{own} \\in M] / |M|`: a clear majority scores
    1 or 0, a two-way tie for the mode scores 1/2 when the judgment sides with either modal
    choice (the expected agreement under a random tie-break). ``n`` is the number of scored
    judgments; an annotator with none gets ``None``.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"comparison": ["c1", "c1", "c2", "c2"], "annotator": list("xyxy"),
    ...                   "outcome": ["a", "a", "b", "tie"]})
    >>> agreement_summary(f)["percent_agreement"]
    0.5
    """
    units, _ = pd.factorize(frame[COMPARISON], sort=False)
    n_units_total = int(units.max()) + 1 if len(units) else 0

    choice = _category_codes(frame[OUTCOME])
    overall_counts = _unit_counts(units, choice, n_units_total, len(OUTCOMES))
    overall = _reliability(overall_counts)

    per_criterion: dict[str, dict[str, Any]] = {}
    for column in rubric_columns(frame):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        codes = np.where(np.isnan(values), -1, np.sign(values) + 1).astype(np.int64)
        counts = _unit_counts(units, codes, n_units_total, _N_SIGN_CATEGORIES)
        per_criterion[column[len(RUBRIC_PREFIX) :]] = _reliability(counts)

    return {
        "krippendorff_alpha": overall["krippendorff_alpha"],
        "percent_agreement": overall["percent_agreement"],
        "n_units": overall["n_units"],
        "per_criterion": per_criterion,
        "annotators": _majority_agreement(frame[ANNOTATOR], units, choice, overall_counts),
    }


def krippendorff_alpha_nominal(counts: np.ndarray) -> float | None:
    """Return nominal Krippendorff's alpha from a units x categories table of value counts.

    ``None`` when no unit has two values or all pairable values share one category. The formula
    is in the Notes of :func:`agreement_summary`.
    """
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    pairable = m >= 2
    if not pairable.any():
        return None
    counts, m = counts[pairable], m[pairable]
    weights = 1.0 / (m - 1.0)
    # o = N^T diag(w) N - diag(N^T w): the second term removes each value's pairing with itself.
    coincidence = counts.T @ (counts * weights[:, None]) - np.diag(counts.T @ weights)
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    expected = n * n - float(np.sum(n_c * n_c))
    # Relative tolerance: with one category, n^2 - sum n_c^2 is zero up to rounding.
    if expected <= 1e-12 * n * n:
        return None
    observed = n - float(np.trace(coincidence))
    return float(1.0 - (n - 1.0) * observed / expected)


def _category_codes(outcome: pd.Series) -> np.ndarray:
    """Map outcomes to 0..2 in ``OUTCOMES`` order, -1 for missing or unknown values."""
    codes = pd.Categorical(outcome, categories=list(OUTCOMES)).codes
    return np.asarray(codes, dtype=np.int64)


def _unit_counts(units: np.ndarray, codes: np.ndarray, n_units: int, n_cat: int) -> np.ndarray:
    """Count values per (unit, category); codes < 0 (missing) are dropped."""
    keep = (codes >= 0) & (units >= 0)
    flat = units[keep] * n_cat + codes[keep]
    return np.bincount(flat, minlength=n_units * n_cat).reshape(n_units, n_cat)


def _reliability(counts: np.ndarray) -> dict[str, Any]:
    """Alpha, pooled pairwise percent agreement and the number of pairable units."""
    m = counts.sum(axis=1)
    pairable = m >= 2
    n_units = int(pairable.sum())
    if n_units == 0:
        return {"krippendorff_alpha": None, "percent_agreement": None, "n_units": 0}
    c = counts[pairable].astype(float)
    agreeing_pairs = float(np.sum(c * (c - 1.0)))
    all_pairs = float(np.sum(m[pairable] * (m[pairable] - 1.0)))
    return {
        "krippendorff_alpha": krippendorff_alpha_nominal(c),
        "percent_agreement": agreeing_pairs / all_pairs,
        "n_units": n_units,
    }


def _majority_agreement(
    annotators: pd.Series, units: np.ndarray, choice: np.ndarray, counts: np.ndarray
) -> list[dict[str, Any]]:
    """Each annotator's mean agreement with the modal choice of the other judgments."""
    valid = (choice >= 0) & (units >= 0)
    scored = np.zeros(len(choice), dtype=bool)
    score = np.zeros(len(choice), dtype=float)
    idx = np.flatnonzero(valid)
    if len(idx):
        others = counts[units[idx]].astype(float)
        others[np.arange(len(idx)), choice[idx]] -= 1.0
        enough = others.sum(axis=1) >= 2
        is_mode = others == others.max(axis=1, keepdims=True)
        own_is_mode = is_mode[np.arange(len(idx)), choice[idx]]
        scored[idx] = enough
        score[idx] = np.where(enough, own_is_mode / is_mode.sum(axis=1), 0.0)

    table = pd.DataFrame(
        {"annotator": annotators.to_numpy(), "scored": scored, "score": score}
    ).dropna(subset=["annotator"])
    grouped = table.groupby("annotator", sort=True)
    n = grouped["scored"].sum()
    total = grouped["score"].sum()
    return [
        {
            "annotator": name,
            "n": int(n[name]),
            "agreement_with_majority": float(total[name] / n[name]) if n[name] else None,
        }
        for name in n.index
    ]
