"""Fast frame-level simulator of judgments with known, planted logistic effects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.stats.design import style_design
from analysis.stats.frame import (
    A_PREFIX,
    ANNOTATOR,
    B_PREFIX,
    COMPARISON,
    CREATED_AT,
    LEFT,
    MODEL_A,
    MODEL_B,
    OUTCOME,
    RUBRIC_PREFIX,
)

__all__ = [
    "DEFAULT_BETA_RUBRIC",
    "DEFAULT_BETA_STYLE",
    "DEFAULT_MODELS",
    "SimulationTruth",
    "simulate_frame",
    "simulate_null_frame",
    "simulate_tiebreaker_frame",
]

DEFAULT_BETA_STYLE: dict[str, float] = {
    "flattery": 0.4,
    "emojis": 0.2,
    "length.words": 0.3,
    "agreement": 0.25,
    "markdown.headers": 0.0,
}
DEFAULT_BETA_RUBRIC: dict[str, float] = {"correctness": 1.0, "helpfulness": 0.6}
DEFAULT_MODELS: dict[str, float] = {
    "model-x": 0.3,
    "model-y": 0.1,
    "model-z": -0.1,
    "model-w": -0.3,
}


@dataclass(frozen=True)
class SimulationTruth:
    """The data-generating process behind a simulated frame, on the model's scale.

    Attributes
    ----------
    beta_style : dict[str, float]
        Log-odds per RMS unit of normalised style difference (the main model's scale)
        where the rubric is not tied; the mean over annotators.
    beta_style_tied : dict[str, float]
        The same where every criterion is answered as a tie.
    beta_rubric : dict[str, float]
        Log-odds per unit of rubric difference (``compare`` answers: +1 / 0 / -1).
    position_bias : float
        Log-odds added when a is shown left (and subtracted when b is).
    intercept : float
        Log-odds preference for canonical ``a`` (0 when the canonical order is random).
    annotator_sensitivity : dict[str, float]
        Each annotator's multiplier on all style effects (mean 1).
    scales : dict[str, float]
        RMS divisor per feature (see :func:`analysis.stats.design.style_scales`).
    """

    beta_style: dict[str, float]
    beta_style_tied: dict[str, float]
    beta_rubric: dict[str, float]
    position_bias: float
    intercept: float
    annotator_sensitivity: dict[str, float] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)


def _raw_feature(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` raw values of a feature with a plausible distribution for its name."""
    if "agreement" in name:
        # Signed feature: disagrees / neutral / agrees with the user.
        return rng.choice(np.array([-1.0, 0.0, 1.0]), size=n, p=[0.2, 0.5, 0.3])
    if name.startswith("length."):
        per_word = 5.5 if name.endswith("chars") else 1.0
        return np.round(rng.lognormal(np.log(180.0), 0.6, size=n) * per_word)
    if name.startswith(("share.", "ratio.")) or name.endswith((".share", ".ratio")):
        return rng.beta(1.0, 6.0, size=n)
    # Counts (emojis, flattering phrases, headers, ...): overdispersed around ~1.
    return rng.poisson(rng.gamma(1.0, 1.0, size=n)).astype(np.float64)


def _distinct_annotators(
    n_comparisons: int, n_annotators: int, overlap: int, rng: np.random.Generator
) -> np.ndarray:
    """Return an ``(n_comparisons, overlap)`` array of distinct annotator codes per row."""
    picks = np.empty((n_comparisons, overlap), dtype=np.int64)
    for k in range(overlap):
        # Draw from the n - k codes not yet taken, then step past the taken ones in
        # ascending order: a uniform draw without replacement, vectorised over rows.
        draw = rng.integers(0, n_annotators - k, size=n_comparisons)
        taken = np.sort(picks[:, :k], axis=1)
        for j in range(k):
            draw += draw >= taken[:, j]
        picks[:, k] = draw
    return picks


def simulate_frame(
    n_comparisons: int = 1000,
    n_annotators: int = 40,
    overlap: int = 3,
    beta_style: Mapping[str, float] | None = None,
    beta_rubric: Mapping[str, float] | None = None,
    position_bias: float = 0.1,
    annotator_sd: float = 0.0,
    tie_rate: float = 0.1,
    *,
    rubric_tie_rate: float = 0.3,
    beta_style_tied: Mapping[str, float] | None = None,
    intercept: float = 0.0,
    confounding: float = 0.5,
    models: Mapping[str, float] | None = None,
    seed: int | None = None,
) -> tuple[pd.DataFrame, SimulationTruth]:
    """Simulate a judgment frame from a known logistic data-generating process.

    Parameters
    ----------
    n_comparisons : int
        Number of comparisons (pairs of responses).
    n_annotators : int
        Size of the annotator pool.
    overlap : int
        Distinct annotators per comparison; the frame has ``n_comparisons * overlap`` rows.
    beta_style : mapping, optional
        True style coefficient per feature on the main model's scale (log-odds per RMS
        unit of normalised difference). Default :data:`DEFAULT_BETA_STYLE`.
    beta_rubric : mapping, optional
        True coefficient per rubric criterion (``compare`` kind, values +1/0/-1). Default
        :data:`DEFAULT_BETA_RUBRIC`; pass ``{}`` for style-only data (no rubric columns).
    position_bias : float
        Log-odds bonus of the response shown on the left.
    annotator_sd : float
        Standard deviation of the annotators' style-sensitivity multipliers
        ``m_j ~ Normal(1, annotator_sd)``.
    tie_rate : float
        Probability that a judgment is an overall tie (independent of everything else, so
        the non-tie judgments still follow the logistic model exactly).
    rubric_tie_rate : float
        Probability that an annotator answers every criterion as a tie.
    beta_style_tied : mapping, optional
        Style coefficients in rubric-tied judgments (default: ``beta_style``); larger
        values plant a tie-breaker effect.
    intercept : float
        Log-odds preference for canonical ``a``.
    confounding : float
        How strongly the comparison's latent quality gap follows its style differences;
        makes omitting the rubric bias a style-only model, as in real data.
    models : mapping, optional
        Model name to latent strength (added to the quality gap). Default
        :data:`DEFAULT_MODELS`; pass ``{}`` for no model names.
    seed : int, optional
        Seed of the random generator.

    Returns
    -------
    frame : pandas.DataFrame
        A judgment frame (see :mod:`analysis.stats.frame`).
    truth : SimulationTruth
        The planted coefficients.

    Notes
    -----
    Raw features are drawn per response, the normalised design :math:`x` is computed
    with :func:`analysis.stats.design.style_design` on the finished frame, and then
    outcomes are drawn, so the planted :math:`\\beta` are exactly on the scale the main
    model estimates. For judgment :math:`i` by annotator :math:`j`:

    .. math::

        \\operatorname{logit} P(a \\text{ wins} \\mid \\text{not tie}) = \\beta_0
        + \\gamma\\,\\mathrm{pos}_i + \\sum_k \\rho_k r_{ik}
        + m_j \\sum_f \\beta_f^{(t_i)} x_{if}

    with :math:`\\mathrm{pos}_i = \\pm 1`, :math:`r_{ik}` the rubric answers,
    :math:`t_i` whether the rubric is tied and :math:`m_j` the annotator's multiplier.
    With ``annotator_sd > 0`` the population-averaged coefficient a pooled logistic
    model estimates is slightly attenuated (about :math:`1/\\sqrt{1 + 0.35\\,v}` with
    :math:`v` the extra linear-predictor variance), so use small values where exact
    coverage matters.

    Examples
    --------
    >>> frame, truth = simulate_frame(200, 20, seed=1)
    >>> len(frame), truth.beta_rubric["correctness"]
    (600, 1.0)
    """
    rng = np.random.default_rng(seed)
    beta_s = dict(DEFAULT_BETA_STYLE if beta_style is None else beta_style)
    beta_t = dict(beta_s if beta_style_tied is None else beta_style_tied)
    beta_r = dict(DEFAULT_BETA_RUBRIC if beta_rubric is None else beta_rubric)
    strengths = dict(DEFAULT_MODELS if models is None else models)
    if overlap > n_annotators:
        raise ValueError("overlap cannot exceed n_annotators")
    features = list(dict.fromkeys([*beta_s, *beta_t]))
    n = n_comparisons * overlap
    comparison = np.repeat(np.arange(n_comparisons), overlap)
    annotator = _distinct_annotators(n_comparisons, n_annotators, overlap, rng).ravel()

    columns: dict[str, object] = {}
    for name in features:
        # Features belong to the responses, so they are constant within a comparison.
        columns[A_PREFIX + name] = _raw_feature(name, n_comparisons, rng)[comparison]
        columns[B_PREFIX + name] = _raw_feature(name, n_comparisons, rng)[comparison]
    raw = pd.DataFrame(columns)
    design = style_design(raw, features)
    x = design.differences.reindex(columns=features, fill_value=0.0).to_numpy()

    # Rubric answers follow a latent per-comparison quality gap, partly driven by style.
    gap = rng.normal(size=n_comparisons)
    if features:
        gap += confounding * x[::overlap].mean(axis=1) * np.sqrt(len(features))
    model_names = list(strengths)
    if len(model_names) >= 2:
        ma = rng.integers(0, len(model_names), size=n_comparisons)
        mb = (ma + rng.integers(1, len(model_names), size=n_comparisons)) % len(model_names)
        strength = np.array([strengths[m] for m in model_names])
        gap += strength[ma] - strength[mb]
    rubric_tied = rng.random(n) < rubric_tie_rate
    rubric = np.zeros((n, len(beta_r)))
    for k in range(len(beta_r)):
        z = gap[comparison] + rng.normal(size=n)
        rubric[:, k] = np.where(np.abs(z) > 0.5, np.sign(z), 0.0)
    rubric[rubric_tied] = 0.0
    all_tied = ~np.any(rubric != 0, axis=1) if beta_r else np.zeros(n, dtype=bool)

    sensitivity = rng.normal(1.0, annotator_sd, size=n_annotators)
    left_is_a = rng.random(n) < 0.5
    pos = np.where(left_is_a, 1.0, -1.0)
    bs = np.array([beta_s.get(f, 0.0) for f in features])
    bt = np.array([beta_t.get(f, 0.0) for f in features])
    style_eta = np.where(all_tied, x @ bt, x @ bs) if features else np.zeros(n)
    eta = intercept + position_bias * pos + rubric @ np.array(list(beta_r.values()))
    eta = eta + sensitivity[annotator] * style_eta
    a_won = rng.random(n) < 1.0 / (1.0 + np.exp(-eta))
    tie = rng.random(n) < tie_rate
    outcome = np.where(tie, "tie", np.where(a_won, "a", "b"))

    ann_names = np.array([f"ann-{j}" for j in range(n_annotators)], dtype=object)
    cmp_names = np.array([f"c-{c}" for c in range(n_comparisons)], dtype=object)
    out: dict[str, object] = {
        OUTCOME: pd.array(outcome, dtype="str"),
        LEFT: pd.array(np.where(left_is_a, "a", "b"), dtype="str"),
        ANNOTATOR: pd.array(ann_names[annotator], dtype="str"),
        COMPARISON: pd.array(cmp_names[comparison], dtype="str"),
        CREATED_AT: pd.Timestamp("2026-01-05", tz="UTC") + pd.to_timedelta(np.arange(n), "s"),
    }
    if len(model_names) >= 2:
        names = np.array(model_names, dtype=object)
        out[MODEL_A] = pd.array(names[ma][comparison], dtype="str")
        out[MODEL_B] = pd.array(names[mb][comparison], dtype="str")
    else:
        out[MODEL_A] = pd.array([None] * n, dtype="str")
        out[MODEL_B] = pd.array([None] * n, dtype="str")
    for k, key in enumerate(beta_r):
        out[RUBRIC_PREFIX + key] = rubric[:, k]
    frame = pd.concat([pd.DataFrame(out), raw], axis=1)
    truth = SimulationTruth(
        beta_style=beta_s,
        beta_style_tied=beta_t,
        beta_rubric=beta_r,
        position_bias=position_bias,
        intercept=intercept,
        annotator_sensitivity={
            str(ann_names[j]): float(sensitivity[j]) for j in range(n_annotators)
        },
        scales=dict(design.scales),
    )
    return frame, truth


def simulate_null_frame(**kwargs) -> tuple[pd.DataFrame, SimulationTruth]:
    """Simulate a frame in which no style feature affects the outcome (all betas 0).

    Takes the keyword arguments of :func:`simulate_frame` except the style betas.
    """
    features = kwargs.pop("features", list(DEFAULT_BETA_STYLE))
    zeros = dict.fromkeys(features, 0.0)
    return simulate_frame(beta_style=zeros, beta_style_tied=zeros, **kwargs)


def simulate_tiebreaker_frame(
    tied_boost: float = 0.8, **kwargs
) -> tuple[pd.DataFrame, SimulationTruth]:
    """Simulate a frame in which style matters more where the rubric is tied.

    Each style coefficient in rubric-tied judgments is the decided-judgment coefficient
    plus ``tied_boost`` times its sign (features with a zero coefficient stay at zero).
    Takes the keyword arguments of :func:`simulate_frame`.
    """
    beta = dict(kwargs.pop("beta_style", None) or DEFAULT_BETA_STYLE)
    tied = {f: b + tied_boost * float(np.sign(b)) for f, b in beta.items()}
    return simulate_frame(beta_style=beta, beta_style_tied=tied, **kwargs)
