"""``manage.py seed_demo`` (what ``make demo`` runs): idempotent, and the printed logins work."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from analysis.models import AnalysisRun, FeatureValue, JobStatus, Report
from analysis.weekly.weeks import last_completed_week
from annotation.models import Comparison, Judgment, Membership, Project, Role

# transaction=True: the seed commits for real, so the import's on_commit feature jobs run
# exactly as in `make demo`.
pytestmark = pytest.mark.django_db(transaction=True)


def _counts() -> dict[str, int]:
    return {
        "projects": Project.objects.count(),
        "comparisons": Comparison.objects.count(),
        "judgments": Judgment.objects.count(),
        "memberships": Membership.objects.count(),
        "features": FeatureValue.objects.count(),
        "runs": AnalysisRun.objects.count(),
        "reports": Report.objects.count(),
        "schedules": PeriodicTask.objects.count(),
    }


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=out)
    return out.getvalue()


def test_seed_twice_is_idempotent_and_the_logins_work(client):
    first = _seed()
    after_first = _counts()
    second = _seed()
    assert _counts() == after_first

    demo, sim = Project.objects.get(slug="demo"), Project.objects.get(slug="demo-sim")
    assert demo.comparisons.count() == 30 and demo.overlap == 2
    assert not Judgment.objects.filter(comparison__project=demo).exists()
    assert "# How to judge" in demo.guidelines
    assert sim.comparisons.count() == 600
    assert Judgment.objects.filter(comparison__project=sim).count() == 1800
    # Features were extracted by the import's job, and one analysis is stored.
    assert FeatureValue.objects.filter(response__project=sim).exists()
    run = AnalysisRun.objects.get(project=sim)
    assert run.status == JobStatus.SUCCEEDED and run.result["n_judgments"] == 1800
    # The simulated judgments span the last five weeks: the latest completed week has a
    # report with a trend behind it, and both projects are scheduled.
    week = last_completed_week(timezone.now(), sim.time_zone)
    report = Report.objects.get(project=sim)
    assert report.week == week and report.status == JobStatus.SUCCEEDED
    assert report.n_judgments > 0 and len(report.result["trend"]) >= 4
    assert set(PeriodicTask.objects.values_list("name", flat=True)) == {
        f"weekly-report-{demo.pk}",
        f"weekly-report-{sim.pk}",
    }
    assert set(
        Membership.objects.filter(user__username="researcher").values_list("project__slug", "role")
    ) == {("demo", Role.RESEARCHER), ("demo-sim", Role.RESEARCHER)}

    # The printed logins are real.
    for output in (first, second):
        logins = dict(re.findall(r"username '([^']+)'\s+password '([^']+)'", output))
        assert set(logins) == {"annotator", "researcher"}
        assert "http://127.0.0.1:" in output
        assert f"/p/demo-sim/reports/{week}/" in output
        assert "/p/demo-sim/exports/" in output
    for username, password in logins.items():
        assert client.login(username=username, password=password), username
        client.logout()

    # The annotator gets a pair through the API; the researcher reads the analysis page.
    annotator = APIClient()
    annotator.login(username="annotator", password=logins["annotator"])
    response = annotator.get("/api/projects/demo/next-assignment/")
    assert response.status_code == 200, response.content
    assert response.json()["assignment"]
    client.login(username="researcher", password=logins["researcher"])
    page = client.get("/p/demo-sim/analysis/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    # The report and the exports are one click from the dashboard.
    dashboard = client.get("/p/demo-sim/dashboard/").content.decode()
    assert f'href="/p/demo-sim/reports/{week}/"' in dashboard
    assert 'href="/p/demo-sim/exports/"' in dashboard
    assert client.get("/p/demo-sim/exports/").status_code == 200
    report_page = client.get(f"/p/demo-sim/reports/{week}/")
    assert report_page.status_code == 200 and "data:image/png;base64," in report_page.text
