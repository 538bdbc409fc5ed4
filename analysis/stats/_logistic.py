"""A small ridge-penalised binomial logistic solver shared by the annotator and BT fits.

statsmodels owns inference in tiebreak; this solver is for the places that need a fast,
always-finite point estimate (a style index, Bradley–Terry strengths with bootstraps).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

_CHUNK = 131_072


def weighted_gram(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return ``x.T @ diag(weights) @ x``, in row chunks to bound the temporary's memory."""
    out = np.zeros((x.shape[1], x.shape[1]))
    for start in range(0, len(x), _CHUNK):
        part = x[start : start + _CHUNK]
        out += part.T @ (part * weights[start : start + _CHUNK, None])
    return out


def ridge_logit(
    x: np.ndarray,
    successes: np.ndarray,
    trials: np.ndarray | None = None,
    *,
    ridge: float,
    start: np.ndarray | None = None,
    max_iter: int = 200,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the ridge-penalised binomial log-likelihood by damped Newton steps.

    Parameters
    ----------
    x : (n, k) design matrix.
    successes : (n,) successes per row; may be fractional (a tie is half a win).
    trials : (n,) trials per row; ones when omitted.
    ridge : the penalty :math:`\\lambda` in :math:`\\ell(\\theta) - \\lambda\\|\\theta\\|^2/2`.

    Returns
    -------
    The estimate and the negative Hessian of the penalised log-likelihood at it.
    """
    trials = np.ones_like(successes, dtype=float) if trials is None else trials
    k = x.shape[1]
    theta = np.zeros(k) if start is None else start.copy()
    penalty = ridge * np.eye(k)

    def objective(t: np.ndarray, eta: np.ndarray) -> float:
        return float(successes @ eta - trials @ np.logaddexp(0.0, eta) - 0.5 * ridge * t @ t)

    eta = x @ theta
    current = objective(theta, eta)
    for _ in range(max_iter):
        p = expit(eta)
        gradient = x.T @ (successes - trials * p) - ridge * theta
        step = np.linalg.solve(weighted_gram(x, trials * p * (1.0 - p)) + penalty, gradient)
        # Step halving keeps every iteration an ascent step (near separation Newton overshoots).
        for _ in range(30):
            eta_new = x @ (theta + step)
            candidate = objective(theta + step, eta_new)
            if candidate >= current - 1e-12 * abs(current):
                break
            step = step / 2.0
        theta, eta, current = theta + step, eta_new, candidate
        if np.max(np.abs(step)) < tol:
            break
    p = expit(eta)
    return theta, weighted_gram(x, trials * p * (1.0 - p)) + penalty
