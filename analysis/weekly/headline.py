"""The report's headline: what the week shows, in plain words, with its numbers.

The rule, so that the words never claim more than the data: a style feature "acted as a
tie-breaker" only when, among the week's non-tie judgments with a tied rubric whose two
responses differ in that feature, the share won by the response with more of it differs
from 50% both by its Wilson interval (which must exclude 50%) and by an exact binomial
test after Holm's correction across the features tested that week. Otherwise the
headline says there is no clear evidence. Every share is given with its interval and n,
and with last week's share of the same feature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import binomtest

from analysis.stats.main_model import adjust_p_values

__all__ = ["Headline", "TieBreaker", "feature_phrase", "headline", "tiebreakers"]

#: How a feature reads in a sentence: (more of it, less of it).
PHRASES: dict[str, tuple[str, str]] = {
    "flattery": ("the more flattering response", "the less flattering response"),
    "flattery.count": ("the more flattering response", "the less flattering response"),
    "flattery.rate": (
        "the more flattering response (per word)",
        "the less flattering response (per word)",
    ),
    "emojis": ("the response with more emojis", "the response with fewer emojis"),
    "length.words": ("the longer response", "the shorter response"),
    "length.chars": ("the longer response", "the shorter response"),
    "length.tokens": ("the longer response", "the shorter response"),
    "agreement": (
        "the response agreeing more with the user",
        "the response agreeing less with the user",
    ),
    "markdown.headers": ("the response with more headings", "the response with fewer headings"),
    "markdown.bold": ("the response with more bold text", "the response with less bold text"),
    "markdown.list_items": (
        "the response with more list items",
        "the response with fewer list items",
    ),
    "tone.exclamations": (
        "the response with more exclamation marks",
        "the response with fewer exclamation marks",
    ),
    "tone.hedges": ("the more hedging response", "the less hedging response"),
    "tone.confident": ("the more confident-sounding response", "the less confident response"),
    "tone.apologies": ("the more apologetic response", "the less apologetic response"),
    "tone.refusals": (
        "the response with more refusals",
        "the response with fewer refusals",
    ),
}


def feature_phrase(feature: str, more: bool = True) -> str:
    """Return how ``feature`` reads in a sentence, e.g. "the more flattering response"."""
    pair = PHRASES.get(feature)
    if pair is None:
        return f"the response with {'more' if more else 'less'} {feature}"
    return pair[0] if more else pair[1]


@dataclass(frozen=True)
class TieBreaker:
    """One feature's tie-break share this week and the test behind the headline's words."""

    feature: str
    n: int
    share: float
    ci_low: float | None
    ci_high: float | None
    p_value: float
    p_adjusted: float
    acts: bool

    @property
    def more(self) -> bool:
        """True when the response with more of the feature is the one that won more."""
        return self.share >= 0.5


@dataclass(frozen=True)
class Headline:
    """The headline: ``verdict``, the sentences, and the features it names."""

    verdict: str
    """``tiebreaker``, ``no_clear_evidence``, ``no_tied_judgments``, ``style_only``,
    ``no_judgments`` or ``failed``."""
    sentences: list[str]
    tiebreakers: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "text": self.text,
            "sentences": list(self.sentences),
            "tiebreakers": list(self.tiebreakers),
        }


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pct(value: float | None) -> str:
    return "–" if not _finite(value) else f"{100 * value:.0f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if not _finite(value) else f"{value:.{digits}f}"


def tiebreakers(table: Sequence[Mapping[str, Any]], *, alpha: float = 0.05) -> list[TieBreaker]:
    """Test each feature's tie-break share against 50%, Holm-corrected across features.

    Parameters
    ----------
    table : sequence of dict
        The ``tiebreak`` section of an analysis result (``tied_n``,
        ``tied_share_higher_wins``, ``tied_ci_low``, ``tied_ci_high`` per feature).
    alpha : float
        Family-wise error rate.

    Returns
    -------
    list of TieBreaker
        Features with at least one tied judgment, strongest evidence first (adjusted p,
        then distance from 50%).

    Notes
    -----
    The count of wins is ``round(share * n)``; the p-value is the two-sided exact
    binomial test of ``p = 0.5``. ``acts`` requires the adjusted p-value below ``alpha``
    and the (unadjusted) Wilson interval to exclude 0.5.
    """
    rows = [
        t
        for t in table
        if _finite(t.get("tied_n")) and t["tied_n"] > 0 and _finite(t.get("tied_share_higher_wins"))
    ]
    if not rows:
        return []
    p_values = []
    for t in rows:
        n = int(t["tied_n"])
        wins = round(t["tied_share_higher_wins"] * n)
        p_values.append(binomtest(wins, n, 0.5).pvalue)
    adjusted = adjust_p_values(np.asarray(p_values), "holm")
    out = []
    for t, p, p_adj in zip(rows, p_values, adjusted, strict=True):
        low, high = t.get("tied_ci_low"), t.get("tied_ci_high")
        excludes = _finite(low) and _finite(high) and (low > 0.5 or high < 0.5)
        out.append(
            TieBreaker(
                feature=str(t["feature"]),
                n=int(t["tied_n"]),
                share=float(t["tied_share_higher_wins"]),
                ci_low=low if _finite(low) else None,
                ci_high=high if _finite(high) else None,
                p_value=float(p),
                p_adjusted=float(p_adj),
                acts=bool(p_adj < alpha and excludes),
            )
        )
    out.sort(key=lambda t: (t.p_adjusted, -abs(t.share - 0.5)))
    return out


def _share_clause(t: TieBreaker) -> str:
    """E.g. "the more flattering response won 71% [64%, 77%] of 212 tied judgments"."""
    share = t.share if t.more else 1 - t.share
    low, high = (
        (t.ci_low, t.ci_high)
        if t.more
        else (
            None if t.ci_high is None else 1 - t.ci_high,
            None if t.ci_low is None else 1 - t.ci_low,
        )
    )
    interval = f" [{_pct(low)}, {_pct(high)}]" if _finite(low) and _finite(high) else ""
    return (
        f"{feature_phrase(t.feature, t.more)} won {_pct(share)}{interval} of {t.n:,} tied "
        f"judgment{'s' if t.n != 1 else ''}"
    )


def _last_week_clause(
    feature: str, more: bool, previous: Mapping[str, Any] | None, *, short: bool = False
) -> str:
    """What the same share was last week, in the direction the clause reads."""
    if previous is None:
        return "no earlier week to compare with"
    if not previous.get("n_judgments"):
        return "no judgments last week"
    row = (previous.get("tiebreak") or {}).get(feature) or {}
    share, n = row.get("tied_share_higher_wins"), row.get("tied_n") or 0
    if not n or not _finite(share):
        return "last week no tied judgment differed in it"
    share = share if more else 1 - share
    if short:
        return f"last week {_pct(share)}"
    return f"last week {_pct(share)} of {int(n):,}"


def _style_sentence(result: Mapping[str, Any], alpha: float, style_only: bool) -> str | None:
    effects = result.get("style_effects")
    if effects is None:
        return None
    clear = [
        e
        for e in effects
        if _finite(e.get("p_adjusted")) and e["p_adjusted"] < alpha and _finite(e.get("odds_ratio"))
    ]
    # Over all judgments (not only rubric ties): a tie-breaker can hide in this average.
    scope = (
        "Over all of the week's judgments"
        if style_only
        else "Over all of the week's judgments, holding the rubric fixed"
    )
    if not clear:
        return f"{scope}, no style feature had a clear effect on which response won."
    clear.sort(key=lambda e: -abs(math.log(e["odds_ratio"])))
    parts = [
        f"{e['feature']} (odds ratio {_num(e['odds_ratio'])} "
        f"[{_num(e.get('ci_low'))}, {_num(e.get('ci_high'))}])"
        for e in clear[:4]
    ]
    more = f" and {len(clear) - 4} more" if len(clear) > 4 else ""
    return f"{scope}, style features with clear effects on winning: {', '.join(parts)}{more}."


def _volume_sentence(n: int, n_annotators: int, previous: Mapping[str, Any] | None) -> str:
    last = ""
    if previous is not None:
        last = f" (last week {int(previous.get('n_judgments') or 0):,})"
    return (
        f"Based on {n:,} judgment{'s' if n != 1 else ''} by {n_annotators:,} "
        f"annotator{'s' if n_annotators != 1 else ''}{last}."
    )


def headline(
    *,
    week: str,
    span: str,
    time_zone: str,
    result: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None,
    alpha: float = 0.05,
) -> Headline:
    """Return the headline of week ``week``.

    Parameters
    ----------
    week, span, time_zone : str
        The week's label, its days in words and the time zone (for the empty week).
    result : dict or None
        The week's analysis result (``AnalysisResult.to_dict()``); None when the week
        has no judgments.
    previous : dict or None
        Last week's trend entry (:func:`analysis.weekly.trend.week_summary`), None when
        there is no earlier week in the report.
    alpha : float
        Family-wise error rate of the tie-break tests (see :func:`tiebreakers`).
    """
    if result is None or not result.get("n_judgments"):
        last = ""
        if previous is not None:
            n_last = int(previous.get("n_judgments") or 0)
            last = f" The week before had {n_last:,} judgment{'s' if n_last != 1 else ''}."
        return Headline(
            "no_judgments",
            [f"No judgments were recorded in {week} ({span}, {time_zone}).{last}".strip()],
        )
    sentences: list[str] = []
    named: list[str] = []
    style_only = bool(result.get("style_only"))
    if style_only:
        verdict = "style_only"
        sentences.append(
            "These judgments carry no rubric answers, so whether style breaks rubric ties "
            "cannot be measured this week."
        )
    elif result.get("tiebreak") is None:
        verdict = "failed"
        sentences.append("The tie-break analysis could not be computed this week (see the notes).")
    else:
        tested = tiebreakers(result["tiebreak"], alpha=alpha)
        acting = [t for t in tested if t.acts]
        if acting:
            verdict = "tiebreaker"
            first = acting[0]
            named = [t.feature for t in acting]
            sentences.append(
                "Style acted as a tie-breaker this week: when the rubric was tied, "
                f"{_share_clause(first)} "
                f"({_last_week_clause(first.feature, first.more, previous, short=True)})."
            )
            if len(acting) > 1:
                others = [
                    f"{t.feature}: {_share_clause(t)} "
                    f"({_last_week_clause(t.feature, t.more, previous, short=True)})"
                    for t in acting[1:4]
                ]
                extra = f"; and {len(acting) - 4} more" if len(acting) > 4 else ""
                sentences.append(f"It did for other features too ({'; '.join(others)}{extra}).")
            quiet = len(tested) - len(acting)
            if quiet:
                sentences.append(
                    f"No clear evidence for the other {quiet} feature{'s' if quiet != 1 else ''}."
                )
        elif tested:
            verdict = "no_clear_evidence"
            top = tested[0]
            n_tied = max(t.n for t in tested)
            sentences.append(
                "No clear evidence that style broke rubric ties this week: for each of the "
                f"{len(tested)} style features tested, the share of tied judgments (up to "
                f"{n_tied:,}) won by the response with more of it is within chance of 50% "
                f"(closest to an effect: {top.feature}, {_share_clause(top)}; "
                f"{_last_week_clause(top.feature, top.more, previous)})."
            )
        else:
            verdict = "no_tied_judgments"
            sentences.append(
                "No judgment this week had a tied rubric with responses that differ in style, "
                "so tie-breaking cannot be measured."
            )
    style = _style_sentence(result, alpha, style_only)
    if style:
        sentences.append(style)
    sentences.append(
        _volume_sentence(int(result["n_judgments"]), int(result.get("n_annotators") or 0), previous)
    )
    return Headline(verdict, sentences, named)
