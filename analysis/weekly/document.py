"""Renders a weekly report (its result dict) as one self-contained HTML document.

The document carries everything inline: the stylesheet in a ``<style>`` element
(including ``@media print`` rules), the charts as ``data:`` PNG images, no script and no
external resource, so the same file is shown on the site, emailed and printed. It is
rendered with a standalone Django template engine: no settings, no database, every value
formatted to a string here first (the engine would otherwise localise numbers through
the settings).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.template import Context, Engine

from analysis.report import _interval, _num, _p, _pct, leaderboard_rows
from analysis.weekly import charts
from analysis.weekly.headline import tiebreakers

__all__ = ["TEMPLATE", "data_images_to_cid", "render_weekly_document", "weekly_context"]

TEMPLATE = "analysis/weekly_report.html"
_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_ENGINE = Engine(dirs=[str(_TEMPLATES)], autoescape=True, debug=False)
#: Features drawn in the trend chart when none acted as a tie-breaker.
TREND_FEATURES = 4
MAX_TABLE_ANNOTATORS = 15


def _trend_features(report: Mapping[str, Any]) -> list[str]:
    """The headline's tie-breakers, then the features closest to being one: at most four.

    Without tie-break figures (style-only data), the style features with the smallest
    adjusted p-values in the main model.
    """
    analysis = report.get("analysis") or {}
    named = list((report.get("headline") or {}).get("tiebreakers") or [])
    ranked = [t.feature for t in tiebreakers(analysis.get("tiebreak") or [])]
    if not ranked:
        effects = [
            e for e in analysis.get("style_effects") or [] if e.get("p_adjusted") is not None
        ]
        ranked = [e["feature"] for e in sorted(effects, key=lambda e: e["p_adjusted"])]
    out = named[:TREND_FEATURES]
    for feature in ranked:
        if len(out) >= TREND_FEATURES:
            break
        if feature not in out:
            out.append(feature)
    return out


def _effect_rows(analysis: Mapping[str, Any], alpha: float) -> list[dict[str, str]]:
    rows = []
    for e in analysis.get("rubric_effects") or []:
        rows.append(
            {
                "kind": "rubric",
                "name": e["criterion"],
                "odds_ratio": _num(e.get("odds_ratio")),
                "ci": _interval(e.get("ci_low"), e.get("ci_high")),
                "p": _p(e.get("p_value")),
                "clear": "",
            }
        )
    for e in analysis.get("style_effects") or []:
        p_adj = e.get("p_adjusted")
        rows.append(
            {
                "kind": "style",
                "name": e["feature"],
                "odds_ratio": _num(e.get("odds_ratio")),
                "ci": _interval(e.get("ci_low"), e.get("ci_high")),
                "p": _p(p_adj),
                "clear": "yes" if p_adj is not None and p_adj < alpha else "",
            }
        )
    return rows


def _tiebreak_rows(analysis: Mapping[str, Any], acting: Sequence[str]) -> list[dict[str, str]]:
    return [
        {
            "feature": t["feature"],
            "acts": "yes" if t["feature"] in acting else "",
            "tied_n": _num(t.get("tied_n")),
            "tied_share": _pct(t.get("tied_share_higher_wins")),
            "tied_ci": _interval(t.get("tied_ci_low"), t.get("tied_ci_high"), _pct),
            "override_n": _num(t.get("override_n")),
            "override_rate": _pct(t.get("override_rate")),
            "override_ci": _interval(t.get("override_ci_low"), t.get("override_ci_high"), _pct),
            "diff": _num(t.get("diff")),
            "diff_ci": _interval(t.get("diff_ci_low"), t.get("diff_ci_high")),
        }
        for t in analysis.get("tiebreak") or []
    ]


def _trend_rows(trend: Sequence[Mapping[str, Any]], features: Sequence[str]) -> list[dict]:
    rows = []
    for w in trend:
        cells = []
        for feature in features:
            t = (w.get("tiebreak") or {}).get(feature) or {}
            share = t.get("tied_share_higher_wins")
            cells.append(
                f"{_pct(share, 0)} of {_num(t.get('tied_n'))}" if share is not None else "–"
            )
        rows.append(
            {
                "week": w["week"],
                "n": _num(w.get("n_judgments")),
                "ties": _num(w.get("n_ties")),
                "annotators": _num(w.get("n_annotators")),
                "cells": cells,
            }
        )
    return rows


def _annotator_rows(annotators: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    ranked = sorted(
        (a for a in annotators if a.get("style_sensitivity") is not None),
        key=lambda a: -a["style_sensitivity"],
    )
    return [
        {
            "annotator": str(a["annotator"]),
            "n": _num(a.get("n")),
            "sensitivity": _num(a.get("style_sensitivity")),
            "ci": _interval(a.get("ci_low"), a.get("ci_high")),
            "flagged": "yes" if a.get("flagged") else "",
        }
        for a in ranked[:MAX_TABLE_ANNOTATORS]
    ]


def weekly_context(report: Mapping[str, Any]) -> dict[str, Any]:
    """Return the template context of a report: formatted strings and chart data URIs.

    ``report`` is the stored result (see ``analysis.services.weekly_reports``): ``week,
    span, time_zone, project, project_name, generated_at, headline, analysis, trend,
    models_known, alpha, error``.
    """
    alpha = float(report.get("alpha") or 0.05)
    analysis = report.get("analysis") or {}
    trend = list(report.get("trend") or [])
    headline = report.get("headline") or {}
    acting = list(headline.get("tiebreakers") or [])
    features = _trend_features(report)
    level = f"{100 * (1 - alpha):g}%"
    context: dict[str, Any] = {
        "title": f"Weekly bias report · {report.get('project_name') or report.get('project')}"
        f" · {report.get('week')}",
        "project": str(report.get("project") or ""),
        "project_name": str(report.get("project_name") or report.get("project") or ""),
        "week": str(report.get("week") or ""),
        "span": str(report.get("span") or ""),
        "time_zone": str(report.get("time_zone") or ""),
        "generated_at": str(report.get("generated_at") or ""),
        "sentences": [str(s) for s in headline.get("sentences") or []],
        "verdict": str(headline.get("verdict") or ""),
        "error": str(report.get("error") or ""),
        "level": level,
        "has_data": bool(analysis.get("n_judgments")),
        "volume_chart": charts.volume_chart(trend)
        if any(w.get("n_judgments") for w in trend)
        else None,
        "trend_rows": _trend_rows(trend, features),
        "trend_features": features,
    }
    if not context["has_data"]:
        return context
    position = analysis.get("position") or {}
    agreement = analysis.get("agreement") or {}
    board = analysis.get("leaderboard") or []
    annotators = [a for a in analysis.get("annotators") or [] if a]
    context.update(
        {
            "counts": [
                ("Judgments", _num(analysis.get("n_judgments"))),
                ("Comparisons", _num(analysis.get("n_comparisons"))),
                ("Annotators", _num(analysis.get("n_annotators"))),
                ("Tie answers", _num(analysis.get("n_ties"))),
            ],
            "style_only": bool(analysis.get("style_only")),
            "effects_chart": charts.effects_chart(
                analysis.get("rubric_effects") or [],
                analysis.get("style_effects") or [],
                alpha=alpha,
            ),
            "effect_rows": _effect_rows(analysis, alpha),
            "correction": str(analysis.get("correction") or "holm"),
            "tiebreak_chart": charts.tiebreak_chart(analysis.get("tiebreak") or [], acting),
            "tiebreak_rows": _tiebreak_rows(analysis, acting),
            "trend_chart": charts.trend_chart(trend, features),
            "models_known": bool(report.get("models_known")),
            "leaderboard_chart": charts.leaderboard_chart(board) if board else None,
            "leaderboard_rows": leaderboard_rows(board),
            "annotators_chart": charts.annotators_chart(annotators) if annotators else None,
            "annotator_rows": _annotator_rows(annotators),
            "n_annotators_flagged": _num(sum(bool(a.get("flagged")) for a in annotators)),
            "n_annotators_ranked": _num(len(annotators)),
            "position": {
                "share": _pct(position.get("share_left_wins")),
                "ci": _interval(position.get("ci_low"), position.get("ci_high"), _pct),
                "n": _num(position.get("n")),
            }
            if position
            else None,
            "agreement": {
                "alpha": _num(agreement.get("krippendorff_alpha"), 3),
                "percent": _pct(agreement.get("percent_agreement")),
                "n_units": _num(agreement.get("n_units")),
            }
            if agreement
            else None,
            "warnings": [str(w) for w in analysis.get("warnings") or []],
        }
    )
    return context


def render_weekly_document(report: Mapping[str, Any]) -> str:
    """Return the report as a complete, self-contained HTML document."""
    template = _ENGINE.get_template(TEMPLATE)
    return template.render(Context(weekly_context(report)))


_DATA_IMAGE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def data_images_to_cid(html: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Return ``html`` with each ``data:`` PNG replaced by a ``cid:`` reference, and the images.

    For email: many mail clients (Gmail among them) drop ``data:`` images but show inline
    attachments referenced by Content-ID. Returns ``(html, [(content_id, png_bytes), ...])``
    in document order; the file on the site keeps its ``data:`` images.
    """
    images: list[tuple[str, bytes]] = []

    def replace(match: re.Match) -> str:
        content_id = f"chart{len(images) + 1}@tiebreak"
        images.append((content_id, base64.b64decode(match.group(1))))
        return f'src="cid:{content_id}"'

    return _DATA_IMAGE.sub(replace, html), images
