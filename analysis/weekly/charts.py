"""The weekly report's charts, drawn with matplotlib and returned as ``data:`` PNG URIs.

Figures are built with the object-oriented API (``matplotlib.figure.Figure`` on an Agg
canvas), never ``pyplot``: no global state, no GUI backend, safe in a Celery worker.
Each function takes plain values (lists of dicts as in the analysis result) and returns
a ``data:image/png;base64,…`` string, or None when there is nothing to draw. PNG rather
than SVG because mail clients show PNG; 2x resolution keeps it sharp on paper.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = [
    "annotators_chart",
    "effects_chart",
    "leaderboard_chart",
    "tiebreak_chart",
    "trend_chart",
    "volume_chart",
]

WIDTH = 7.6  # inches: the report's column at 96 dpi is ~730 px
DPI = 144
RUBRIC_COLOUR = "#4a5568"
STYLE_COLOUR = "#2b6cb0"
FLAG_COLOUR = "#c53030"
MUTED = "#a0aec0"
SERIES = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b")
MAX_ANNOTATORS = 30


def _finite(*values: Any) -> bool:
    return all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )


def _figure(height: float) -> tuple[Figure, Any]:
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    ax.grid(axis="x", color="#e2e8f0", linewidth=0.6)
    ax.set_axisbelow(True)


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _percent(ax: Any) -> None:
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))


def _log_odds_axis(ax: Any, values: Sequence[float]) -> None:
    finite = [v for v in values if _finite(v) and v > 0] + [1.0]
    low, high = min(finite) / 1.15, max(finite) * 1.15
    if high / low < 2:
        low, high = low / 1.3, high * 1.3
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _rows(ax: Any, labels: Sequence[str]) -> None:
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)


def effects_chart(
    rubric_effects: Sequence[Mapping[str, Any]],
    style_effects: Sequence[Mapping[str, Any]],
    *,
    alpha: float = 0.05,
) -> str | None:
    """Forest plot of odds ratios of winning: rubric criteria above, style features below.

    Style features whose adjusted p-value is below ``alpha`` are drawn in colour; the
    others, whose intervals may still exclude 1 before the correction, in grey.
    """
    rows = [
        (f"rubric: {e['criterion']}", e, RUBRIC_COLOUR)
        for e in rubric_effects
        if _finite(e.get("odds_ratio"))
    ]
    rows += [
        (
            e["feature"],
            e,
            STYLE_COLOUR if _finite(e.get("p_adjusted")) and e["p_adjusted"] < alpha else MUTED,
        )
        for e in style_effects
        if _finite(e.get("odds_ratio"))
    ]
    if not rows:
        return None
    figure, ax = _figure(0.9 + 0.28 * len(rows))
    values = []
    for y, (_, e, colour) in enumerate(rows):
        odds, low, high = e["odds_ratio"], e.get("ci_low"), e.get("ci_high")
        if _finite(low, high) and low > 0:
            ax.plot([low, high], [y, y], color=colour, linewidth=1.6)
            values += [low, high]
        ax.plot([odds], [y], "o", color=colour, markersize=5)
        values.append(odds)
    n_rubric = sum(1 for label, _, _ in rows if label.startswith("rubric: "))
    if 0 < n_rubric < len(rows):
        ax.axhline(n_rubric - 0.5, color="#cbd5e0", linewidth=0.8)
    ax.axvline(1.0, color="#718096", linewidth=0.8, linestyle="--")
    _log_odds_axis(ax, values)
    _rows(ax, [label for label, _, _ in rows])
    _style(ax)
    ax.set_xlabel("odds ratio of winning (log scale; 1 = no effect)", fontsize=8)
    return _data_uri(figure)


def tiebreak_chart(table: Sequence[Mapping[str, Any]], acting: Sequence[str] = ()) -> str | None:
    """Two panels per feature: the tie-break share (rubric tied) and the override rate.

    The features in ``acting`` (the headline's tie-breakers) are drawn in red.
    """
    rows = [t for t in table if (t.get("tied_n") or 0) > 0 or (t.get("override_n") or 0) > 0]
    if not rows:
        return None
    figure = Figure(figsize=(WIDTH, 1.0 + 0.28 * len(rows)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, sharey=True)
    panels = (
        (
            left,
            "tied_share_higher_wins",
            "tied_ci_low",
            "tied_ci_high",
            "rubric tied: share won by the one with more",
            0.5,
        ),
        (
            right,
            "override_rate",
            "override_ci_low",
            "override_ci_high",
            "rubric against it: share it won anyway",
            None,
        ),
    )
    for ax, key, low_key, high_key, title, reference in panels:
        for y, t in enumerate(rows):
            value, low, high = t.get(key), t.get(low_key), t.get(high_key)
            if not _finite(value):
                continue
            colour = FLAG_COLOUR if t["feature"] in acting else STYLE_COLOUR
            if _finite(low, high):
                ax.plot([low, high], [y, y], color=colour, linewidth=1.6)
            ax.plot([value], [y], "o", color=colour, markersize=5)
        if reference is not None:
            ax.axvline(reference, color="#718096", linewidth=0.8, linestyle="--")
        ax.set_xlim(0, 1)
        _percent(ax)
        _style(ax)
        ax.set_title(title, fontsize=8)
    _rows(left, [t["feature"] for t in rows])
    return _data_uri(figure)


def trend_chart(trend: Sequence[Mapping[str, Any]], features: Sequence[str]) -> str | None:
    """Tie-break share (top) and style odds ratio (bottom) of ``features``, week by week."""
    weeks = [w["week"] for w in trend]
    if not weeks or not features or not any(w.get("n_judgments") for w in trend):
        return None
    figure = Figure(figsize=(WIDTH, 4.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    xs = list(range(len(weeks)))
    odds_values = []
    for i, feature in enumerate(features):
        colour = SERIES[i % len(SERIES)]
        offset = (i - (len(features) - 1) / 2) * 0.08
        for ax, section, key, low_key, high_key in (
            (top, "tiebreak", "tied_share_higher_wins", "tied_ci_low", "tied_ci_high"),
            (bottom, "style", "odds_ratio", "ci_low", "ci_high"),
        ):
            points = []
            for x, w in zip(xs, trend, strict=True):
                row = (w.get(section) or {}).get(feature) or {}
                value, low, high = row.get(key), row.get(low_key), row.get(high_key)
                if not _finite(value):
                    continue
                points.append((x + offset, value))
                if _finite(low, high):
                    ax.plot([x + offset] * 2, [low, high], color=colour, linewidth=1.2, alpha=0.7)
                    if section == "style":
                        odds_values += [low, high]
                if section == "style":
                    odds_values.append(value)
            if points:
                ax.plot(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    "o-",
                    color=colour,
                    markersize=4,
                    linewidth=1.2,
                    label=feature if section == "tiebreak" else None,
                )
    top.axhline(0.5, color="#718096", linewidth=0.8, linestyle="--")
    top.set_ylim(0, 1)
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    top.set_ylabel("tie-break share", fontsize=8)
    top.legend(fontsize=7, loc="upper left", frameon=False, ncols=min(len(features), 4))
    bottom.axhline(1.0, color="#718096", linewidth=0.8, linestyle="--")
    finite = [v for v in odds_values if _finite(v) and v > 0] + [1.0]
    bottom.set_yscale("log")
    bottom.set_ylim(min(finite) / 1.2, max(finite) * 1.2)
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bottom.yaxis.set_minor_formatter(NullFormatter())
    bottom.set_ylabel("odds ratio (rubric held fixed)", fontsize=8)
    bottom.set_xticks(xs, weeks, rotation=0)
    for ax in (top, bottom):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", color="#e2e8f0", linewidth=0.6)
        ax.set_axisbelow(True)
    return _data_uri(figure)


def volume_chart(trend: Sequence[Mapping[str, Any]]) -> str | None:
    """Judgments per week, the tie answers in a lighter shade."""
    if not trend:
        return None
    figure, ax = _figure(2.2)
    weeks = [w["week"] for w in trend]
    n = [int(w.get("n_judgments") or 0) for w in trend]
    ties = [int(w.get("n_ties") or 0) for w in trend]
    decided = [a - b for a, b in zip(n, ties, strict=True)]
    xs = list(range(len(weeks)))
    ax.bar(xs, decided, color=STYLE_COLOUR, label="a or b won")
    ax.bar(xs, ties, bottom=decided, color="#90cdf4", label="tie")
    for x, total in zip(xs, n, strict=True):
        ax.annotate(
            f"{total:,}",
            (x, total),
            ha="center",
            va="bottom",
            fontsize=7,
            xytext=(0, 2),
            textcoords="offset points",
        )
    ax.set_xticks(xs, weeks)
    ax.set_ylim(0, max([*n, 1]) * 1.15)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    ax.set_ylabel("judgments", fontsize=8)
    return _data_uri(figure)


def leaderboard_chart(board: Sequence[Mapping[str, Any]]) -> str | None:
    """Each model's rating raw and style-controlled, with bootstrap intervals."""
    rows = [
        m
        for m in board
        if _finite(m.get("rating_raw")) or _finite(m.get("rating_style_controlled"))
    ]
    if not rows:
        return None
    figure, ax = _figure(0.9 + 0.36 * len(rows))
    for y, m in enumerate(rows):
        for dy, key, low_key, high_key, colour, label in (
            (-0.12, "rating_raw", "raw_ci_low", "raw_ci_high", MUTED, "raw"),
            (
                0.12,
                "rating_style_controlled",
                "ci_low",
                "ci_high",
                STYLE_COLOUR,
                "style-controlled",
            ),
        ):
            value, low, high = m.get(key), m.get(low_key), m.get(high_key)
            if not _finite(value):
                continue
            if _finite(low, high):
                ax.plot([low, high], [y + dy] * 2, color=colour, linewidth=1.6)
            ax.plot(
                [value], [y + dy], "o", color=colour, markersize=5, label=label if y == 0 else None
            )
    ax.axvline(1000.0, color="#718096", linewidth=0.8, linestyle="--")
    _rows(ax, [str(m["model"]) for m in rows])
    _style(ax)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.set_xlabel("Bradley–Terry rating (mean 1000; 400 points = 10:1 odds)", fontsize=8)
    return _data_uri(figure)


def annotators_chart(annotators: Sequence[Mapping[str, Any]]) -> str | None:
    """The most style-sensitive annotators (shrunk estimates), flagged ones in red."""
    rows = [a for a in annotators if _finite(a.get("style_sensitivity"))]
    rows.sort(key=lambda a: -a["style_sensitivity"])
    rows = rows[:MAX_ANNOTATORS]
    if not rows:
        return None
    figure, ax = _figure(0.9 + 0.24 * len(rows))
    for y, a in enumerate(rows):
        colour = FLAG_COLOUR if a.get("flagged") else STYLE_COLOUR
        low, high = a.get("ci_low"), a.get("ci_high")
        if _finite(low, high):
            ax.plot([low, high], [y, y], color=colour, linewidth=1.4)
        ax.plot([a["style_sensitivity"]], [y], "o", color=colour, markersize=4.5)
    ax.axvline(1.0, color="#718096", linewidth=0.8, linestyle="--")
    _rows(ax, [str(a["annotator"]) for a in rows])
    _style(ax)
    ax.set_xlabel("style sensitivity (1 = the pool's average; shrunk estimates)", fontsize=8)
    return _data_uri(figure)
