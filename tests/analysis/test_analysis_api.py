"""The analysis REST API: start, list and read runs; researchers of the project only."""

from __future__ import annotations

import pytest

from analysis.models import AnalysisRun, JobStatus
from analysis.services.simulate import simulated_project_create
from annotation.models import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = {"project", "n_judgments", "style_effects", "tiebreak", "annotators", "leaderboard"}


@pytest.fixture
def sim(django_capture_on_commit_callbacks, project, researcher, annotator):
    """A small simulated project whose researcher is ``res`` and annotator ``ann``."""
    with django_capture_on_commit_callbacks(execute=True):
        sim = simulated_project_create(slug="sim", comparisons=100, annotators=5, seed=2).project
    MembershipFactory(project=sim, user=researcher, role=Role.RESEARCHER)
    MembershipFactory(project=sim, user=annotator, role=Role.ANNOTATOR)
    return sim


def test_researcher_starts_a_run_and_reads_it(
    sim, researcher, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/projects/sim/analyses/", {"alpha": 0.1}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    # Sent before the test's transaction "commits" (the capture block's exit); outside a
    # test the eager task has run by the time the response is built.
    assert body["status"] in (JobStatus.PENDING, JobStatus.SUCCEEDED)
    assert body["project"] == "sim" and body["requested_by"] == "res"
    assert body["params"]["alpha"] == 0.1
    assert body["url"] == f"/api/analyses/{body['id']}/"
    assert body["page"] == f"/p/sim/analysis/{body['id']}/"

    detail = client.get(body["url"])
    assert detail.status_code == 200
    data = detail.json()
    assert data["status"] == "succeeded" and data["error"] == ""
    assert set(data["result"]) >= CONTRACT_KEYS
    assert data["result"]["params"]["alpha"] == 0.1
    assert data["result"] == AnalysisRun.objects.get(pk=body["id"]).result

    listing = client.get("/api/projects/sim/analyses/")
    assert listing.status_code == 200
    assert [r["id"] for r in listing.json()] == [body["id"]]
    assert "result" not in listing.json()[0]


def test_run_lifecycle_pending_until_the_task_runs(
    sim, researcher, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(researcher)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/projects/sim/analyses/", {}, format="json")
    assert response.status_code == 202
    run_id = response.json()["id"]
    pending = client.get(f"/api/analyses/{run_id}/").json()
    assert pending["status"] == "pending" and pending["result"] is None
    for callback in callbacks:
        callback()
    done = client.get(f"/api/analyses/{run_id}/").json()
    assert done["status"] == "succeeded" and done["finished_at"]


def test_failed_run_reports_its_error(
    project, researcher, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/projects/alpha/analyses/", format="json")
    assert response.status_code == 202
    detail = client.get(response.json()["url"]).json()
    assert detail["status"] == "failed" and detail["result"] is None
    assert "no judgments yet" in detail["error"]


def test_invalid_parameters_are_400_by_field(sim, researcher, api_client_for):
    client = api_client_for(researcher)
    response = client.post("/api/projects/sim/analyses/", {"alpha": 2}, format="json")
    assert response.status_code == 400 and "alpha" in response.json()
    response = client.post("/api/projects/sim/analyses/", {"correction": "x"}, format="json")
    assert response.status_code == 400 and "correction" in response.json()
    assert not AnalysisRun.objects.exists()


def test_annotators_outsiders_and_other_researchers_get_404(
    sim, researcher, annotator, outsider, api_client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_id = api_client_for(researcher).post("/api/projects/sim/analyses/").json()["id"]
    other_researcher = UserFactory(username="elsewhere")
    MembershipFactory(
        project=outsider.memberships.get().project, user=other_researcher, role=Role.RESEARCHER
    )
    for user in (annotator, outsider, other_researcher):
        client = api_client_for(user)
        assert client.post("/api/projects/sim/analyses/").status_code == 404
        assert client.get("/api/projects/sim/analyses/").status_code == 404
        assert client.get(f"/api/analyses/{run_id}/").status_code == 404
    assert api_client_for(researcher).get("/api/analyses/999999/").status_code == 404
    assert AnalysisRun.objects.count() == 1


def test_anonymous_is_refused(sim, client):
    assert client.get("/api/projects/sim/analyses/").status_code in (401, 403)
    assert client.post("/api/projects/sim/analyses/").status_code in (401, 403)


def test_routes_are_in_the_openapi_schema(researcher, api_client_for):
    schema = api_client_for(researcher).get("/api/schema/", {"format": "json"}).json()
    assert "/api/projects/{slug}/analyses/" in schema["paths"]
    assert "/api/analyses/{run_id}/" in schema["paths"]
