"""Confidence intervals for proportions (Wilson score) and proportion summaries."""

from __future__ import annotations

import math

from statsmodels.stats.proportion import proportion_confint

__all__ = ["proportion_summary", "wilson_interval"]


def wilson_interval(count: int, nobs: int, alpha: float = 0.05) -> tuple[float, float]:
    """Return the Wilson score interval for ``count`` successes out of ``nobs``.

    Parameters
    ----------
    count : int
        Number of successes.
    nobs : int
        Number of trials; ``0`` gives ``(nan, nan)``.
    alpha : float
        The interval has coverage ``1 - alpha``.

    Returns
    -------
    (ci_low, ci_high) : tuple of float

    Notes
    -----
    With :math:`\\hat p = k/n` and :math:`z = \\Phi^{-1}(1 - \\alpha/2)`,

    .. math::

        \\frac{\\hat p + \\frac{z^2}{2n} \\pm
        z\\sqrt{\\frac{\\hat p(1-\\hat p)}{n} + \\frac{z^2}{4n^2}}}{1 + \\frac{z^2}{n}},

    computed by ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    Unlike the Wald interval it stays inside [0, 1] and keeps its coverage near 0 and 1.
    Judgments are treated as independent; with many judgments per annotator the
    interval is somewhat too narrow.

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(7, 10)]
    [0.3968, 0.8922]
    """
    if nobs <= 0:
        return (math.nan, math.nan)
    low, high = proportion_confint(int(count), int(nobs), alpha=alpha, method="wilson")
    return (float(low), float(high))


def proportion_summary(count: int, nobs: int, alpha: float = 0.05) -> dict[str, float | int]:
    """Return ``{"n", "share", "ci_low", "ci_high"}`` for ``count`` out of ``nobs``.

    ``share`` is NaN when ``nobs`` is 0. The interval is :func:`wilson_interval`.
    """
    low, high = wilson_interval(count, nobs, alpha)
    share = count / nobs if nobs > 0 else math.nan
    return {"n": int(nobs), "share": float(share), "ci_low": low, "ci_high": high}
