"""Weekly reports on the site and in the API: lists, the document under its own CSP,
generating a week, permissions, the links from the dashboard and the analysis page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from analysis.models import JobStatus, Report
from analysis.services.weekly_reports import report_generate
from annotation.models import Role
from tests.analysis.test_weekly_reports import WEEK, assert_self_contained, simulated
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(django_capture_on_commit_callbacks, researcher, annotator):
    project = simulated(django_capture_on_commit_callbacks, "sim", comparisons=150)
    MembershipFactory(project=project, user=researcher, role=Role.RESEARCHER)
    MembershipFactory(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


@pytest.fixture
def report(sim):
    return report_generate(project=sim, week=WEEK)


@pytest.fixture
def res_client(client, researcher):
    client.force_login(researcher)
    return client


def _directives(header: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in header.split(";")
        if part.strip()
    }


def test_list_page_shows_reports_schedule_and_form(sim, report, res_client):
    response = res_client.get("/p/sim/reports/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/p/sim/reports/{WEEK}/"' in html and f"/p/sim/reports/{WEEK}.html" in html
    assert "Succeeded" in html and escape(report.headline[:60]) in html
    assert "Scheduled: every Monday at 06:00, Europe/Berlin, emailed" in html
    assert 'name="week"' in html and "csrfmiddlewaretoken" in html
    # The list page is an ordinary page of the site: the strict policy.
    directives = _directives(response["Content-Security-Policy"])
    assert directives["style-src"] == "'self'" and "unsafe-inline" not in str(directives)


def test_report_is_served_as_is_under_a_policy_for_inline_style_and_data_images(report, res_client):
    response = res_client.get(f"/p/sim/reports/{WEEK}/")
    assert response.status_code == 200
    assert response.content.decode() == report.html
    assert_self_contained(report.html)
    directives = _directives(response["Content-Security-Policy"])
    assert directives["style-src"] == "'unsafe-inline'"
    assert directives["img-src"] == "data:"
    assert directives["script-src"] == "'none'" and directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"

    download = res_client.get(f"/p/sim/reports/{WEEK}.html")
    assert download.status_code == 200 and download.content.decode() == report.html
    assert download["Content-Disposition"] == f'attachment; filename="sim-report-{WEEK}.html"'


def test_generate_from_the_page(sim, res_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = res_client.post("/p/sim/reports/", {"week": WEEK}, follow=True)
    assert response.status_code == 200
    report = Report.objects.get(project=sim, week=WEEK)
    assert report.status == JobStatus.SUCCEEDED
    assert f"Report {WEEK} is being generated." in response.content.decode()

    bad = res_client.post("/p/sim/reports/", {"week": "2026-47"}, follow=True)
    assert "is not an ISO week" in bad.content.decode()
    assert Report.objects.count() == 1


def test_pages_are_for_researchers_only(sim, report, client, annotator, outsider):
    client.force_login(annotator)
    for url in ("/p/sim/reports/", f"/p/sim/reports/{WEEK}/", f"/p/sim/reports/{WEEK}.html"):
        assert client.get(url).status_code == 404, url
    client.force_login(outsider)
    assert client.get(f"/p/sim/reports/{WEEK}/").status_code == 404
    assert Client().get("/p/sim/reports/").status_code == 302  # to the login page


def test_unknown_week_is_404(sim, res_client):
    assert res_client.get("/p/sim/reports/2026-W01/").status_code == 404
    assert res_client.get("/p/sim/reports/2026-1/").status_code == 404


def test_dashboard_and_analysis_page_link_to_the_reports(sim, res_client):
    for url in ("/p/sim/dashboard/", "/p/sim/analysis/"):
        html = res_client.get(url).content.decode()
        assert 'href="/p/sim/reports/"' in html, url


def test_dashboard_lists_the_latest_reports(sim, res_client):
    assert "No report yet" in res_client.get("/p/sim/dashboard/").content.decode()
    report = report_generate(project=sim, week=WEEK)
    html = res_client.get("/p/sim/dashboard/").content.decode()
    assert f'<a href="/p/sim/reports/{WEEK}/">{WEEK}</a>' in html
    assert escape(report.headline[:80]) in html


# --- API ----------------------------------------------------------------------------------


def test_api_lists_and_shows_reports(sim, report, researcher, api_client_for):
    api = api_client_for(researcher)
    listed = api.get("/api/projects/sim/reports/")
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["week"] == WEEK and row["status"] == "succeeded"
    assert row["html"] == f"/p/sim/reports/{WEEK}/"
    assert row["url"] == f"/api/projects/sim/reports/{WEEK}/"
    assert row["headline"] == report.headline

    detail = api.get(row["url"])
    assert detail.status_code == 200
    body = detail.json()
    assert body["result"]["headline"]["text"] == report.headline
    assert [w["week"] for w in body["result"]["trend"]][-1] == WEEK
    assert body["download"] == f"/p/sim/reports/{WEEK}.html"
    assert api.get("/api/projects/sim/reports/2026-W01/").status_code == 404


def test_api_generates_a_week(sim, researcher, api_client_for, django_capture_on_commit_callbacks):
    api = api_client_for(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/projects/sim/reports/", {"week": WEEK}, format="json")
    assert response.status_code == 202
    assert response.json()["week"] == WEEK
    report = Report.objects.get(project=sim, week=WEEK)
    assert report.status == JobStatus.SUCCEEDED and report.html

    bad = api.post("/api/projects/sim/reports/", {"week": "2026-W99"}, format="json")
    assert bad.status_code == 400
    assert "2026 has weeks W01 to W53" in bad.json()["week"][0]
    future = api.post("/api/projects/sim/reports/", {"week": "2999-W01"}, format="json")
    assert future.status_code == 400 and "has not started yet" in future.json()["week"][0]


def test_api_permissions(sim, report, annotator, outsider, api_client_for):
    annotator_api = api_client_for(annotator)
    assert annotator_api.get("/api/projects/sim/reports/").status_code == 403
    assert annotator_api.get(f"/api/projects/sim/reports/{WEEK}/").status_code == 403
    assert annotator_api.post("/api/projects/sim/reports/", {"week": WEEK}).status_code == 403
    outsider_api = api_client_for(outsider)
    assert outsider_api.get("/api/projects/sim/reports/").status_code == 404
    assert outsider_api.get(f"/api/projects/sim/reports/{WEEK}/").status_code == 404
    assert outsider_api.post("/api/projects/sim/reports/", {"week": WEEK}).status_code == 404
    staff = UserFactory(username="staff", is_staff=True)
    assert api_client_for(staff).get("/api/projects/sim/reports/").status_code == 200
