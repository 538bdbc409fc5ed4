"""The researchers' analysis pages: permissions, runs, the rendered report, CSP, downloads."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from analysis.models import AnalysisRun, JobStatus
from analysis.services.runs import analysis_run_now
from analysis.services.simulate import simulated_project_create
from annotation.models import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _simulated(slug: str, capture, **kwargs):
    with capture(execute=True):
        return simulated_project_create(
            slug=slug, comparisons=kwargs.pop("comparisons", 100), annotators=5, seed=4, **kwargs
        ).project


@pytest.fixture
def sim(django_capture_on_commit_callbacks, researcher, annotator):
    project = _simulated("sim", django_capture_on_commit_callbacks)
    MembershipFactory(project=project, user=researcher, role=Role.RESEARCHER)
    MembershipFactory(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


@pytest.fixture
def res_client(client, researcher):
    client.force_login(researcher)
    return client


def _assert_csp_safe(response) -> str:
    html = response.content.decode()
    csp = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    for tag in re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE):
        assert "src=" in tag, tag  # no inline script
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), "inline script body"
    assert not re.search(r"\sstyle\s*=", html, flags=re.IGNORECASE), "inline style attribute"
    assert "<style" not in html.lower()
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    return html


def test_page_lists_runs_and_renders_the_latest_report(sim, res_client):
    empty = res_client.get("/p/sim/analysis/")
    assert empty.status_code == 200
    assert "No analysis yet" in _assert_csp_safe(empty)

    run = analysis_run_now(project=sim)
    response = res_client.get(reverse("analysis-page", args=["sim"]))
    html = _assert_csp_safe(response)
    assert 'href="/static/analysis/report.css"' in html
    assert html.count("<svg") >= 4
    assert "Run analysis" in html and "csrfmiddlewaretoken" in html
    assert f"/p/sim/analysis/{run.pk}.json" in html
    assert "rubric + style" in html
    assert "divided by its root-mean-square" in html  # the one-line normalisation note


def test_run_button_creates_a_run_and_shows_it(sim, res_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = res_client.post("/p/sim/analysis/")
    run = AnalysisRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/p/sim/analysis/{run.pk}/"
    assert run.status == JobStatus.SUCCEEDED and run.requested_by.username == "res"
    page = res_client.get(response["Location"])
    assert page.status_code == 200
    html = _assert_csp_safe(page)
    assert "<svg" in html and "Succeeded" in html


@pytest.mark.django_db(transaction=True)
def test_run_button_with_eager_celery_finishes_within_the_request(
    client, django_capture_on_commit_callbacks
):
    project = _simulated("live", django_capture_on_commit_callbacks, comparisons=60)
    user = UserFactory(username="live-res")
    MembershipFactory(project=project, user=user, role=Role.RESEARCHER)
    client.force_login(user)
    response = client.post("/p/live/analysis/", follow=True)
    assert AnalysisRun.objects.get().status == JobStatus.SUCCEEDED
    assert "finished" in response.content.decode()


def test_post_without_csrf_token_is_refused(sim, researcher):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(researcher)
    assert client.post("/p/sim/analysis/").status_code == 403
    assert not AnalysisRun.objects.exists()


def test_pending_and_failed_runs_are_shown_honestly(
    sim, res_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        res_client.post("/p/sim/analysis/")
    run = AnalysisRun.objects.get()
    page = res_client.get(f"/p/sim/analysis/{run.pk}/")
    html = _assert_csp_safe(page)
    assert "Pending" in html and 'http-equiv="refresh"' in html
    assert res_client.get(f"/p/sim/analysis/{run.pk}.json").status_code == 404

    AnalysisRun.objects.filter(pk=run.pk).update(status=JobStatus.FAILED, error="features missing")
    html = _assert_csp_safe(res_client.get(f"/p/sim/analysis/{run.pk}/"))
    assert "features missing" in html and "refresh" not in html


def test_json_and_html_downloads(sim, res_client):
    run = analysis_run_now(project=sim)
    response = res_client.get(f"/p/sim/analysis/{run.pk}.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content) == run.result
    report = res_client.get(reverse("analysis-run-html", args=["sim", run.pk]))
    assert report.status_code == 200 and "attachment" in report["Content-Disposition"]
    assert report.content.decode() == run.html


def test_style_only_data_is_labelled(django_capture_on_commit_callbacks, researcher, res_client):
    project = _simulated("styleonly", django_capture_on_commit_callbacks)
    MembershipFactory(project=project, user=researcher, role=Role.RESEARCHER)
    from annotation.models import CriterionAnswer

    CriterionAnswer.objects.filter(judgment__comparison__project=project).delete()
    run = analysis_run_now(project=project)
    assert run.result["style_only"] is True
    html = _assert_csp_safe(res_client.get("/p/styleonly/analysis/"))
    assert "Style-only data." in html
    assert "Not applicable: tie-breaking" in html


def test_annotator_name_is_escaped_in_charts(
    django_capture_on_commit_callbacks, researcher, res_client
):
    project = _simulated("xss", django_capture_on_commit_callbacks)
    MembershipFactory(project=project, user=researcher, role=Role.RESEARCHER)
    from annotation.models import Judgment

    Judgment.objects.filter(comparison__project=project, external_annotator="sim-ann-01").update(
        external_annotator='<script>alert("x")</script>'
    )
    analysis_run_now(project=project)
    html = _assert_csp_safe(res_client.get("/p/xss/analysis/"))
    assert "&lt;script&gt;alert" in html


def test_only_the_projects_researchers_see_it(sim, annotator, outsider, client, researcher):
    run = analysis_run_now(project=sim)
    urls = [
        "/p/sim/analysis/",
        f"/p/sim/analysis/{run.pk}/",
        f"/p/sim/analysis/{run.pk}.json",
        f"/p/sim/analysis/{run.pk}.html",
    ]
    for user in (annotator, outsider):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        assert client.post("/p/sim/analysis/").status_code == 404
    # A researcher of another project cannot reach this project's run through their own slug.
    other = outsider.memberships.get().project
    MembershipFactory(project=other, user=researcher, role=Role.RESEARCHER)
    client.force_login(researcher)
    assert client.get(f"/p/{other.slug}/analysis/{run.pk}/").status_code == 404
    assert client.get(f"/p/{other.slug}/analysis/{run.pk}.json").status_code == 404
    client.logout()
    response = client.get("/p/sim/analysis/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert AnalysisRun.objects.count() == 1


def test_dashboard_links_to_the_analysis_page(sim, res_client):
    response = res_client.get("/p/sim/dashboard/")
    assert response.status_code == 200
    assert 'href="/p/sim/analysis/"' in response.content.decode()


def test_options_choose_features_and_intervals(sim, res_client, django_capture_on_commit_callbacks):
    page = res_client.get("/p/sim/analysis/").content.decode()
    assert 'name="features" value="flattery.count"' in page and "checked" in page
    with django_capture_on_commit_callbacks(execute=True):
        res_client.post(
            "/p/sim/analysis/",
            {"features": ["flattery.count", "agreement"], "alpha": "0.1", "correction": "fdr_bh"},
        )
    run = AnalysisRun.objects.get()
    assert run.params["features"] == ["flattery.count", "agreement"]
    assert (run.params["alpha"], run.params["correction"]) == (0.1, "fdr_bh")
    assert [e["feature"] for e in run.result["style_effects"]] == ["flattery.count", "agreement"]
    # The next form starts from the latest run's choices.
    page = res_client.get("/p/sim/analysis/").content.decode()
    assert re.search(r'value="length.words"[^>]*checked', page) is None
    assert "90% confidence intervals" in page

    response = res_client.post("/p/sim/analysis/", {"alpha": "0.05", "correction": "holm"})
    assert response.status_code == 302 and AnalysisRun.objects.count() == 1  # no feature ticked


def test_options_map_every_feature_to_all_and_the_default_set_to_none(sim, settings):
    from analysis.features import feature_keys
    from analysis.web import AnalysisOptionsForm

    keys = feature_keys()
    base = {"alpha": "0.05", "correction": "holm"}
    every = AnalysisOptionsForm({**base, "features": keys})
    assert every.is_valid() and every.params()["features"] == "all"
    default = [k for k in settings.TIEBREAK_ANALYSIS_FEATURES if k in keys]
    chosen = AnalysisOptionsForm({**base, "features": default})
    assert chosen.is_valid() and chosen.params()["features"] is None
    # A form without a previous run starts from the default set, an "all" run from every key.
    assert AnalysisOptionsForm().fields["features"].initial == default
    run = AnalysisRun(params={"features": "all"})
    assert AnalysisOptionsForm(latest=run).fields["features"].initial == keys
