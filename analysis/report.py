"""Renders an analysis result (``AnalysisResult.to_dict()``) as HTML with inline SVG charts.

Two renderings share one body template (``analysis/_report.html``) and one stylesheet
(``analysis/static/analysis/report.css``):

* :func:`render_report_document`: a standalone HTML document (the stylesheet inlined in a
  ``<style>`` element) for ``manage.py analyze --html`` and the run's stored ``html``;
* :func:`report_context`: the context the site's pages render inside ``base.html``, where
  the Content-Security-Policy forbids inline script and inline styles. Charts are built
  here as SVG markup that styles itself only through classes (defined in report.css) and
  SVG presentation attributes (``x``, ``width``, ``r``), which the policy allows.

Everything is computed from the result dict alone, so an old run renders with the current
templates. Every number is shown with its n and, where there is one, its interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

__all__ = [
    "ChartRow",
    "interval_chart",
    "leaderboard_rows",
    "render_report_document",
    "render_report_fragment",
    "report_context",
]

CSS_PATH = Path(__file__).resolve().parent / "static" / "analysis" / "report.css"

#: Rows drawn in the annotator chart; the table lists more.
MAX_CHART_ANNOTATORS = 40
MAX_TABLE_ANNOTATORS = 200

NORMALISATION_LINE = (
    "Style difference per feature = (a−b)/(a+b) for counts and lengths (a−b for signed "
    "features such as agreement), divided by its root-mean-square over all judgments; an "
    "odds ratio is per one such unit, holding the rubric and the display position fixed."
)


# --- formatting -----------------------------------------------------------------------------


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def _pct(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.{digits}f}%"


def _p(value: Any) -> str:
    if value is None:
        return "–"
    if value < 0.001:
        return "< 0.001"
    return f"{value:.3f}"


def _interval(low: Any, high: Any, fmt: Callable[[Any], str] = _num) -> str:
    if low is None or high is None:
        return "–"
    return f"[{fmt(low)}, {fmt(high)}]"


def _finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


# --- charts ---------------------------------------------------------------------------------


@dataclass
class Marker:
    """One estimate with its interval, drawn as a dot on a line."""

    estimate: float | None
    low: float | None = None
    high: float | None = None
    css: str = ""


@dataclass
class ChartRow:
    """One labelled row of an interval chart: one or more markers and a note on the right."""

    label: str
    markers: list[Marker]
    note: str = ""
    css: str = ""
    title: str = ""


@dataclass
class _Axis:
    low: float
    high: float
    log: bool
    ticks: list[float] = field(default_factory=list)

    def __call__(self, value: float, left: float, right: float) -> float:
        lo, hi, v = self.low, self.high, value
        if self.log:
            lo, hi, v = math.log(lo), math.log(hi), math.log(max(value, 1e-12))
        share = (v - lo) / (hi - lo) if hi > lo else 0.5
        return left + min(max(share, 0.0), 1.0) * (right - left)


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low
    if span <= 0:
        return [low]
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _log_ticks(low: float, high: float) -> list[float]:
    """Round ticks for a log axis: 1-2-5 per decade, finer or coarser to get 3 to 7."""
    decades = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
    for steps in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8), (1,)):
        candidates = {float(f"{m * 10.0**k:.6g}") for k in decades for m in steps}
        ticks = sorted(t for t in candidates if low <= t <= high)
        if 3 <= len(ticks) <= 7:
            return ticks
    coarse = sorted(10.0**k for k in decades if low <= 10.0**k <= high)
    return coarse or [1.0]


def _axis(values: Iterable[float], *, log: bool, reference: float | None, pad: float) -> _Axis:
    finite = [v for v in values if _finite(v) and (not log or v > 0)]
    if reference is not None:
        finite.append(reference)
    if not finite:
        finite = [0.5, 2.0] if log else [0.0, 1.0]
    low, high = min(finite), max(finite)
    if log:
        low, high = low / (1 + pad), high * (1 + pad)
        if high / low < 1.5:
            low, high = low / 1.25, high * 1.25
        return _Axis(low, high, True, _log_ticks(low, high))
    span = high - low or 1.0
    low, high = low - pad * span, high + pad * span
    return _Axis(low, high, False, _nice_ticks(low, high))


def interval_chart(
    rows: Sequence[ChartRow],
    *,
    title: str,
    axis_label: str,
    log: bool = False,
    reference: float | None = None,
    domain: tuple[float, float] | None = None,
    legend: Sequence[tuple[str, str]] = (),
    tick_format: Callable[[float], str] | None = None,
) -> SafeString:
    """Return an SVG chart of estimates with intervals, one labelled row per entry.

    Parameters
    ----------
    rows : sequence of ChartRow
        Top to bottom. Markers with a missing estimate are left out (the note says why).
    title : str
        Accessible name of the chart (``<title>``).
    axis_label : str
        Caption under the horizontal axis.
    log : bool
        Logarithmic axis (odds ratios).
    reference : float, optional
        Value of "no effect", drawn as a vertical line (1 for odds ratios, 0.5 for shares).
    domain : (float, float), optional
        Fixed axis range; default fits the data (and the reference) with some padding.
    legend : sequence of (css class, text)
        Marker classes explained above the chart.

    Notes
    -----
    Styling is by class only (``.chart .ci``, ``.chart .dot``, row classes such as
    ``sig`` or ``flagged``), so the markup is valid under ``style-src 'self'``.
    """
    width, label_w, note_w = 760, 190, 230
    row_h, top, bottom = 26, 30 + (18 if legend else 0), 42
    left, right = label_w + 10, width - note_w - 10
    height = top + row_h * max(len(rows), 1) + bottom
    if domain is not None:
        axis = _Axis(domain[0], domain[1], log, [])
        axis.ticks = (
            [t for t in (0.25, 0.5, 1, 2, 4) if domain[0] <= t <= domain[1]]
            if log
            else _nice_ticks(*domain)
        )
    else:
        values = [v for row in rows for m in row.markers for v in (m.estimate, m.low, m.high) if v]
        values += [0.0 for row in rows for m in row.markers if m.estimate == 0 and not log]
        axis = _axis(values, log=log, reference=reference, pad=0.06)
    fmt = tick_format or (lambda t: f"{t:g}")

    out: list[str] = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
    ]
    if legend:
        x = left
        for css, text in legend:
            out.append(
                f'<g class="legend {escape(css)}"><circle class="dot" cx="{x + 5}" cy="14" '
                f'r="5"/><text x="{x + 14}" y="18">{escape(text)}</text></g>'
            )
            x += 24 + 7 * len(text)
    plot_bottom = top + row_h * max(len(rows), 1)
    for tick in axis.ticks:
        x = axis(tick, left, right)
        out.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{plot_bottom}"/>'
            f'<text class="tick" x="{x:.1f}" y="{plot_bottom + 16}" text-anchor="middle">'
            f"{escape(fmt(tick))}</text>"
        )
    if reference is not None:
        x = axis(reference, left, right)
        out.append(
            f'<line class="ref" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 8}" y2="{plot_bottom}"/>'
        )
    out.append(
        f'<text class="axis-label" x="{(left + right) / 2:.1f}" y="{plot_bottom + 34}" '
        f'text-anchor="middle">{escape(axis_label)}</text>'
    )
    for i, row in enumerate(rows):
        y = top + row_h * i + row_h / 2
        css = f"row {row.css}".strip()
        out.append(f'<g class="{escape(css)}">')
        if row.title:
            out.append(f"<title>{escape(row.title)}</title>")
        if i % 2 == 0:
            out.append(
                f'<rect class="band" x="0" y="{y - row_h / 2:.1f}" width="{width}" '
                f'height="{row_h}"/>'
            )
        out.append(
            f'<text class="label" x="{label_w}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_truncate(row.label, 28))}</text>"
        )
        n = len(row.markers)
        for j, marker in enumerate(row.markers):
            if not _finite(marker.estimate) or (log and marker.estimate <= 0):
                continue
            dy = (j - (n - 1) / 2) * 8
            my = y + dy
            mcss = f"marker {marker.css}".strip()
            out.append(f'<g class="{escape(mcss)}">')
            if _finite(marker.low, marker.high) and (not log or marker.low > 0):
                x1, x2 = axis(marker.low, left, right), axis(marker.high, left, right)
                out.append(
                    f'<line class="ci" x1="{x1:.1f}" x2="{x2:.1f}" y1="{my:.1f}" y2="{my:.1f}"/>'
                    f'<line class="cap" x1="{x1:.1f}" x2="{x1:.1f}" y1="{my - 4:.1f}" '
                    f'y2="{my + 4:.1f}"/><line class="cap" x1="{x2:.1f}" x2="{x2:.1f}" '
                    f'y1="{my - 4:.1f}" y2="{my + 4:.1f}"/>'
                )
            cx = axis(marker.estimate, left, right)
            out.append(f'<circle class="dot" cx="{cx:.1f}" cy="{my:.1f}" r="4.5"/></g>')
        out.append(
            f'<text class="note" x="{right + 12}" y="{y + 4:.1f}">{escape(row.note)}</text></g>'
        )
    if not rows:
        out.append(
            f'<text class="empty" x="{(left + right) / 2:.1f}" y="{top + row_h / 2 + 4}" '
            'text-anchor="middle">nothing to show</text>'
        )
    out.append("</svg>")
    # Safe: every interpolated text above went through escape(); numbers are formatted.
    return mark_safe("".join(out))


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --- sections -------------------------------------------------------------------------------


def _style_section(result: dict[str, Any], level: str, alpha: float) -> dict[str, Any]:
    effects = result.get("style_effects") or []
    model = result.get("model") or {}
    rows, table = [], []
    for e in effects:
        significant = e.get("p_adjusted") is not None and e["p_adjusted"] < alpha
        direction = ""
        if significant:
            direction = "pos" if (e.get("coef") or 0) > 0 else "neg"
        ci = _interval(e.get("ci_low"), e.get("ci_high"))
        odds = _num(e.get("odds_ratio"))
        rows.append(
            ChartRow(
                label=e["feature"],
                markers=[Marker(e.get("odds_ratio"), e.get("ci_low"), e.get("ci_high"))],
                note=f"OR {odds} {ci}{' *' if significant else ''}",
                css=f"sig {direction}" if significant else "",
                title=f"{e['feature']}: odds ratio {odds}, {level} CI {ci}, "
                f"adjusted p {_p(e.get('p_adjusted'))}",
            )
        )
        table.append(
            {
                "feature": e["feature"],
                "odds_ratio": _num(e.get("odds_ratio")),
                "ci": _interval(e.get("ci_low"), e.get("ci_high")),
                "coef": _num(e.get("coef"), 3),
                "se": _num(e.get("se"), 3),
                "p": _p(e.get("p_value")),
                "p_adjusted": _p(e.get("p_adjusted")),
                "ame": _pct(e.get("ame")) if e.get("ame") is not None else "–",
                "ame_se": _pct(e.get("ame_se")) if e.get("ame_se") is not None else "–",
                "scale": _num(e.get("scale"), 3),
                "significant": significant,
            }
        )
    chart = None
    if rows:
        chart = interval_chart(
            rows,
            title=f"Style effects: odds ratios of winning with {level} confidence intervals",
            axis_label="odds ratio of winning per RMS unit of style difference (log scale)",
            log=True,
            reference=1.0,
        )
    return {
        "chart": chart,
        "table": table,
        "n": model.get("n"),
        "n_ties": model.get("n_ties"),
        "n_annotators": model.get("n_annotators"),
        "label": model.get("label"),
        "position": _effect_row(model.get("position")),
        "rubric": [
            {"criterion": r["criterion"], **_effect_row(r)}
            for r in (result.get("rubric_effects") or [])
        ],
    }


def _effect_row(effect: dict[str, Any] | None) -> dict[str, str]:
    if not effect:
        return {}
    return {
        "odds_ratio": _num(effect.get("odds_ratio")),
        "ci": _interval(effect.get("ci_low"), effect.get("ci_high")),
        "coef": _num(effect.get("coef"), 3),
        "p": _p(effect.get("p_value")),
    }


def _tiebreak_section(result: dict[str, Any], level: str) -> dict[str, Any]:
    table = result.get("tiebreak") or []
    rows, out = [], []
    for t in table:
        share = t.get("tied_share_higher_wins")
        low, high = t.get("tied_ci_low"), t.get("tied_ci_high")
        above = _finite(low) and low > 0.5
        below = _finite(high) and high < 0.5
        rows.append(
            ChartRow(
                label=t["feature"],
                markers=[Marker(share, low, high)],
                note=f"{_pct(share)} of n={_num(t.get('tied_n'))}"
                if share is not None
                else f"n={_num(t.get('tied_n'))}: no tied pairs differ",
                css="sig pos" if above else ("sig neg" if below else ""),
                title=f"{t['feature']}: when the rubric is tied, the response with more of it "
                f"wins {_pct(share)} of n={t.get('tied_n')} ({level} Wilson interval "
                f"{_interval(low, high, _pct)})",
            )
        )
        out.append(
            {
                "feature": t["feature"],
                "tied_n": _num(t.get("tied_n")),
                "tied_share": _pct(share),
                "tied_ci": _interval(low, high, _pct),
                "override_n": _num(t.get("override_n")),
                "override_rate": _pct(t.get("override_rate")),
                "override_ci": _interval(t.get("override_ci_low"), t.get("override_ci_high"), _pct),
                "coef_tied": _num(t.get("coef_tied"), 3),
                "coef_decided": _num(t.get("coef_decided"), 3),
                "diff": _num(t.get("diff"), 3),
                "diff_ci": _interval(t.get("diff_ci_low"), t.get("diff_ci_high")),
                "diff_p": _p(t.get("diff_p_value")),
            }
        )
    chart = None
    if rows:
        chart = interval_chart(
            rows,
            title=f"Tie-break shares with {level} Wilson intervals",
            axis_label="share of rubric-tied judgments won by the response with more of it",
            reference=0.5,
            domain=(0.0, 1.0),
            tick_format=lambda t: f"{100 * t:.0f}%",
        )
    return {"chart": chart, "table": out}


def _annotator_section(result: dict[str, Any], level: str) -> dict[str, Any]:
    annotators = [a for a in (result.get("annotators") or []) if a]
    ranked = [a for a in annotators if a.get("style_sensitivity") is not None]
    rows = [
        ChartRow(
            label=str(a["annotator"]),
            markers=[Marker(a["style_sensitivity"], a.get("ci_low"), a.get("ci_high"))],
            note=f"{_num(a['style_sensitivity'])} {_interval(a.get('ci_low'), a.get('ci_high'))}"
            f" n={_num(a.get('n'))}",
            css="flagged" if a.get("flagged") else "",
            title=f"{a['annotator']}: style sensitivity {_num(a['style_sensitivity'])} "
            f"(shrunk), {level} interval {_interval(a.get('ci_low'), a.get('ci_high'))}, "
            f"{a.get('n')} non-tie judgments{', flagged' if a.get('flagged') else ''}",
        )
        for a in ranked[:MAX_CHART_ANNOTATORS]
    ]
    chart = None
    if rows:
        chart = interval_chart(
            rows,
            title=f"Annotator style sensitivity with {level} intervals",
            axis_label="style sensitivity (1 = the pool's average style effect, shrunk estimates)",
            reference=1.0,
            legend=(("flagged", "flagged: interval above the pool"),),
        )
    table = [
        {
            "annotator": a["annotator"],
            "n": _num(a.get("n")),
            "sensitivity": _num(a.get("style_sensitivity")),
            "ci": _interval(a.get("ci_low"), a.get("ci_high")),
            "raw": _num(a.get("raw_estimate")),
            "raw_se": _num(a.get("raw_se")),
            "flagged": bool(a.get("flagged")),
        }
        for a in annotators[:MAX_TABLE_ANNOTATORS]
    ]
    return {
        "chart": chart,
        "table": table,
        "n": len(annotators),
        "n_flagged": sum(bool(a.get("flagged")) for a in annotators),
        "chart_truncated": len(ranked) > MAX_CHART_ANNOTATORS,
        "table_truncated": len(annotators) > MAX_TABLE_ANNOTATORS,
        "max_chart": MAX_CHART_ANNOTATORS,
        "max_table": MAX_TABLE_ANNOTATORS,
    }


def leaderboard_rows(board: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """The leaderboard table as display strings: raw and style-controlled ratings, shift."""
    rows = []
    for m in board:
        raw, styled = m.get("rating_raw"), m.get("rating_style_controlled")
        shift = styled - raw if _finite(raw, styled) else None
        rows.append(
            {
                "model": str(m["model"]),
                "n": _num(m.get("n")),
                "raw": _num(raw, 0),
                "raw_ci": _interval(
                    m.get("raw_ci_low"), m.get("raw_ci_high"), lambda v: _num(v, 0)
                ),
                "styled": _num(styled, 0),
                "styled_ci": _interval(m.get("ci_low"), m.get("ci_high"), lambda v: _num(v, 0)),
                "shift": f"{shift:+.0f}" if shift is not None else "–",
            }
        )
    return rows


def _leaderboard_section(result: dict[str, Any]) -> dict[str, Any]:
    board = result.get("leaderboard") or []
    rows = [
        ChartRow(
            label=str(m["model"]),
            markers=[
                Marker(m.get("rating_raw"), m.get("raw_ci_low"), m.get("raw_ci_high"), "raw"),
                Marker(
                    m.get("rating_style_controlled"), m.get("ci_low"), m.get("ci_high"), "styled"
                ),
            ],
            note=f"{_num(m.get('rating_raw'), 0)} → {_num(m.get('rating_style_controlled'), 0)}"
            f" n={_num(m.get('n'))}",
            title=f"{m['model']}: raw {_num(m.get('rating_raw'), 0)} "
            f"{_interval(m.get('raw_ci_low'), m.get('raw_ci_high'), lambda v: _num(v, 0))}, "
            f"style-controlled {_num(m.get('rating_style_controlled'), 0)} "
            f"{_interval(m.get('ci_low'), m.get('ci_high'), lambda v: _num(v, 0))}",
        )
        for m in board
    ]
    chart = None
    if rows:
        chart = interval_chart(
            rows,
            title="Leaderboard: raw versus style-controlled ratings with 95% bootstrap intervals",
            axis_label="rating (Bradley–Terry, mean 1000; 400 points = 10:1 odds)",
            reference=1000.0,
            legend=(("raw", "raw"), ("styled", "style-controlled")),
        )
    return {"chart": chart, "table": leaderboard_rows(board)}


def _position_section(result: dict[str, Any], level: str) -> dict[str, Any] | None:
    position = result.get("position")
    if not position:
        return None
    share = position.get("share_left_wins")
    chart = interval_chart(
        [
            ChartRow(
                label="left response wins",
                markers=[Marker(share, position.get("ci_low"), position.get("ci_high"))],
                note=f"{_pct(share)} of n={_num(position.get('n'))}",
                css="sig pos"
                if _finite(position.get("ci_low")) and position["ci_low"] > 0.5
                else "",
            )
        ],
        title=f"Position bias: share of non-tie judgments won by the left response ({level})",
        axis_label="share won by the response shown on the left",
        reference=0.5,
        domain=(0.0, 1.0),
        tick_format=lambda t: f"{100 * t:.0f}%",
    )
    return {
        "chart": chart,
        "n": _num(position.get("n")),
        "share": _pct(share),
        "ci": _interval(position.get("ci_low"), position.get("ci_high"), _pct),
    }


def _agreement_section(result: dict[str, Any]) -> dict[str, Any] | None:
    agreement = result.get("agreement")
    if not agreement:
        return None
    return {
        "alpha": _num(agreement.get("krippendorff_alpha"), 3),
        "percent": _pct(agreement.get("percent_agreement")),
        "n_units": _num(agreement.get("n_units")),
        "criteria": [
            {
                "key": key,
                "alpha": _num(v.get("krippendorff_alpha"), 3),
                "percent": _pct(v.get("percent_agreement")),
                "n_units": _num(v.get("n_units")),
            }
            for key, v in (agreement.get("per_criterion") or {}).items()
        ],
    }


def _importance_section(result: dict[str, Any]) -> dict[str, Any] | None:
    imp = result.get("importance")
    if not imp:
        return None
    return {
        "rows": [
            {
                "model": "position only (baseline)",
                "logloss": _num(imp.get("logloss_position"), 3),
                "auc": "–",
            },
            {
                "model": "rubric",
                "logloss": _num(imp.get("logloss_rubric"), 3),
                "auc": _num(imp.get("auc_rubric"), 3),
            },
            {
                "model": "style",
                "logloss": _num(imp.get("logloss_style"), 3),
                "auc": _num(imp.get("auc_style"), 3),
            },
            {
                "model": "rubric + style",
                "logloss": _num(imp.get("logloss_both"), 3),
                "auc": _num(imp.get("auc_both"), 3),
            },
        ],
        "flipped": _pct(imp.get("share_flipped_by_style")),
        "n_cv": _num(imp.get("n_cv")),
        "n_splits": _num(imp.get("n_splits")),
        "subsampled": bool(imp.get("subsampled")),
    }


def _descriptives_section(result: dict[str, Any]) -> dict[str, Any] | None:
    desc = result.get("descriptives")
    if not desc:
        return None
    rows = [
        {
            "feature": name,
            "winner": _num(v.get("mean_winner")),
            "loser": _num(v.get("mean_loser")),
            "n": _num(v.get("n")),
        }
        for name, v in desc.items()
        if name != "length" and isinstance(v, dict)
    ]
    length = desc.get("length")
    return {
        "rows": rows,
        "length": None
        if not length
        else {
            "feature": length.get("feature"),
            "share": _pct(length.get("share_longer_wins")),
            "ci": _interval(length.get("ci_low"), length.get("ci_high"), _pct),
            "n": _num(length.get("n")),
        },
    }


def report_context(result: dict[str, Any]) -> dict[str, Any]:
    """Return what ``analysis/_report.html`` renders: formatted numbers and SVG charts."""
    params = result.get("params") or {}
    alpha = params.get("alpha") or 0.05
    level = f"{100 * (1 - alpha):g}%"
    return {
        "result": result,
        "level": level,
        "alpha": alpha,
        "style_only": bool(result.get("style_only")),
        "has_rubric": bool(result.get("has_rubric")),
        "counts": {
            "judgments": _num(result.get("n_judgments")),
            "comparisons": _num(result.get("n_comparisons")),
            "annotators": _num(result.get("n_annotators")),
            "ties": _num(result.get("n_ties")),
        },
        "normalisation_line": NORMALISATION_LINE,
        "style": _style_section(result, level, alpha),
        "tiebreak": _tiebreak_section(result, level),
        "position": _position_section(result, level),
        "annotators": _annotator_section(result, level),
        "leaderboard": _leaderboard_section(result),
        "agreement": _agreement_section(result),
        "importance": _importance_section(result),
        "descriptives": _descriptives_section(result),
        "warnings": result.get("warnings") or [],
    }


def render_report_fragment(result: dict[str, Any], *, request=None) -> str:
    """The report body (no ``<html>``), as included by the site's analysis pages."""
    return render_to_string("analysis/_report.html", report_context(result), request=request)


def _stylesheet() -> str:
    return CSS_PATH.read_text(encoding="utf-8")


def render_report_document(result: dict[str, Any], *, run=None, project=None) -> str:
    """A standalone HTML document of the report, its stylesheet inlined (for files)."""
    context = report_context(result)
    context.update(
        {
            "css": mark_safe(_stylesheet()),  # our own static file
            "run": run,
            "project": project,
        }
    )
    return render_to_string("analysis/report_document.html", context)
