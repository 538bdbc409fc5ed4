"""The report document apart from Django: rendered from a result dict alone, without
settings, self-contained; its images become inline attachments for email."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from analysis.stats.analyze import analyze
from analysis.stats.synthetic import simulate_frame
from analysis.weekly.document import data_images_to_cid, render_weekly_document
from analysis.weekly.headline import headline
from analysis.weekly.trend import models_known, week_summary
from analysis.weekly.weeks import week_bounds
from tests.analysis.test_weekly_reports import assert_self_contained

REPO = Path(__file__).resolve().parents[2]


def _report() -> dict:
    frame, _ = simulate_frame(600, 20, beta_style_tied={"flattery": 1.2}, seed=11)
    result = analyze(frame).to_dict()
    trend = [week_summary("2026-W47", *week_bounds("2026-W47", "UTC"), result)]
    head = headline(
        week="2026-W47",
        span="Mon 16 Nov – Sun 22 Nov 2026",
        time_zone="UTC",
        result=result,
        previous=None,
    )
    return {
        "project": "nb",
        "project_name": "Notebook <project>",
        "week": "2026-W47",
        "span": "Mon 16 Nov – Sun 22 Nov 2026",
        "time_zone": "UTC",
        "headline": head.to_dict(),
        "analysis": result,
        "trend": trend,
        "models_known": True,
        "alpha": 0.05,
    }


def test_renders_self_contained_from_the_result_alone():
    html = render_weekly_document(_report())
    assert_self_contained(html)
    assert "Notebook &lt;project&gt;" in html  # escaped
    assert html.count("data:image/png;base64,") >= 5


def test_renders_without_django_settings(tmp_path):
    """Usable from a notebook: no DJANGO_SETTINGS_MODULE, no database."""
    source = tmp_path / "report.json"
    source.write_text(json.dumps(_report()))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import json, sys; from analysis.weekly.document import render_weekly_document; "
        "from django.conf import settings; "
        f"html = render_weekly_document(json.load(open({str(source)!r}))); "
        "assert not settings.configured; print(len(html), html.count('data:image/png'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    length, images = map(int, out.stdout.split())
    assert length > 10_000 and images >= 5


def test_data_images_become_content_ids():
    png = b"\x89PNG\r\n\x1a\n-fake"
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    html, images = data_images_to_cid(f'<img src="{uri}"><p>x</p><img src="{uri}">')
    assert html == '<img src="cid:chart1@tiebreak"><p>x</p><img src="cid:chart2@tiebreak">'
    assert images == [("chart1@tiebreak", png), ("chart2@tiebreak", png)]


def test_without_model_names_there_is_no_leaderboard():
    frame, _ = simulate_frame(400, 20, models={}, seed=12)
    assert not models_known(frame)
    report = {**_report(), "models_known": False}
    report["analysis"] = analyze(
        frame, sections=["main_model", "tiebreak", "position", "annotators"]
    ).to_dict()
    html = render_weekly_document(report)
    assert_self_contained(html)
    assert "No leaderboard: this week's responses do not name at least two models." in html
