"""Large uploads are queued and imported by the ``run_import`` task (eager here; a real
worker in tests/analysis/test_feature_worker.py)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse

from analysis.models import FeatureJob
from annotation.models import Comparison, ImportRun, Membership, Role
from annotation.services.imports import import_enqueue, import_run_execute, import_run_fail
from annotation.tasks import run_import
from tests.annotation.test_imports_helpers import row_counts
from tests.factories import UserFactory

URL = "/api/projects/{}/imports/"
RECORDS = [
    {"id": f"c-{i}", "prompt": f"Q{i}?", "response_a": "a", "response_b": f"b{i}"} for i in range(3)
]


@pytest.fixture(autouse=True)
def queue_every_upload(settings):
    settings.TIEBREAK_IMPORT_INLINE_MAX_BYTES = 0


def upload(records=RECORDS, name="big.jsonl"):
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    return SimpleUploadedFile(name, body)


def stored_files(tmp_path) -> list:
    return [p for p in tmp_path.rglob("*") if p.is_file()]


def test_api_queues_a_large_upload_and_the_task_imports_it(
    project, researcher, api_client_for, tmp_path, django_capture_on_commit_callbacks
):
    client = api_client_for(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL.format(project.slug), {"file": upload()}, format="multipart")
        assert response.status_code == 202, response.content
        body = response.json()
        # Answered before the task ran: the run is queued and its file stored.
        assert body["status"] == "queued" and body["filename"] == "big.jsonl"
        assert response["Location"] == f"/api/projects/{project.slug}/imports/{body['id']}/"
        assert len(stored_files(tmp_path)) == 1
        assert not Comparison.objects.exists()

    run = client.get(response["Location"]).json()
    assert run["status"] == "succeeded", run
    assert (run["format"], run["n_comparisons_created"], run["errors"]) == ("jsonl", 3, [])
    assert Comparison.objects.filter(project=project).count() == 3
    assert stored_files(tmp_path) == []  # deleted once imported
    assert FeatureJob.objects.filter(project=project).exists()  # extraction follows
    listed = client.get(URL.format(project.slug)).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]


def test_a_failed_background_import_reports_lines_and_writes_nothing(
    project, researcher, api_client_for, tmp_path, django_capture_on_commit_callbacks
):
    bad = [RECORDS[0], {**RECORDS[1], "response_b": {"text": {}}}]
    before = row_counts()
    client = api_client_for(researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL.format(project.slug), {"file": upload(bad)}, format="multipart")
    run = client.get(response["Location"]).json()
    assert run["status"] == "failed"
    assert run["errors"] == [
        {"line": 2, "field": "response_b.text", "message": "expected a string, got an object"}
    ]
    assert row_counts() == before
    assert stored_files(tmp_path) == []


def test_running_again_is_harmless(project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = import_enqueue(project=project, upload=upload())
    assert run.status == ImportRun.Status.QUEUED
    # A worker killed mid-import leaves the run "running"; its transaction rolled back.
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    assert run_import.apply(args=[run.pk]).get() == "succeeded"
    assert run_import.apply(args=[run.pk]).get() == "succeeded"  # finished: left alone
    assert Comparison.objects.count() == 3
    assert ImportRun.objects.get().n_comparisons_created == 3


def test_a_task_that_fails_for_good_fails_its_run(
    project, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        run = import_enqueue(project=project, upload=upload())
    run_import.on_failure(TimeoutError("soft time limit"), "task-id", (run.pk,), {}, None)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.errors == [
        {"line": None, "field": "", "message": "the import stopped: TimeoutError: soft time limit"}
    ]
    assert stored_files(tmp_path) == [] and not run.upload
    # A finished run keeps its outcome.
    assert import_run_fail(run_id=run.pk, error="again").errors == run.errors


def test_a_missing_file_fails_the_run(project, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = import_enqueue(project=project, upload=upload())
    for path in stored_files(tmp_path):
        path.unlink()
    run = import_run_execute(run_id=run.pk)
    assert run.status == ImportRun.Status.FAILED
    assert "no longer stored" in run.errors[0]["message"]


def test_unknown_format_is_refused_before_anything_is_stored(project, tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        import_enqueue(project=project, upload=upload(), format="xml")
    assert stored_files(tmp_path) == [] and not ImportRun.objects.exists()


def test_small_uploads_are_still_imported_in_the_request(
    settings, project, researcher, api_client_for
):
    settings.TIEBREAK_IMPORT_INLINE_MAX_BYTES = 10_000
    response = api_client_for(researcher).post(
        URL.format(project.slug), {"file": upload()}, format="multipart"
    )
    assert response.status_code == 201 and response.json()["n_comparisons_created"] == 3


def test_import_runs_are_for_the_projects_researchers(
    project,
    other_project,
    researcher,
    annotator,
    api_client_for,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        run = import_enqueue(project=project, upload=upload())
    detail = f"{URL.format(project.slug)}{run.pk}/"
    assert api_client_for(annotator).get(detail).status_code == 403
    assert api_client_for(annotator).get(URL.format(project.slug)).status_code == 403
    assert api_client_for(UserFactory()).get(detail).status_code == 404
    # A researcher of another project cannot reach this run through their own project.
    Membership.objects.create(project=other_project, user=researcher, role=Role.RESEARCHER)
    assert (
        api_client_for(researcher).get(f"{URL.format(other_project.slug)}{run.pk}/").status_code
        == 404
    )
    assert api_client_for(researcher).get(detail).status_code == 200


def test_dashboard_upload_is_queued_and_its_outcome_listed(
    project, researcher, client, django_capture_on_commit_callbacks
):
    client.force_login(researcher)
    page = reverse("dashboard", args=[project.slug])
    bad = [RECORDS[0], {**RECORDS[1], "prompt": ""}]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page, {"file": upload(bad, "huge.jsonl"), "format": "auto"})
    assert response.status_code == 302
    html = client.get(page).content.decode()
    assert "huge.jsonl is large, so it is being imported in the background" in html
    assert "Failed" in html and "1 problem" in html
    assert "line 2, <code>prompt</code>: empty prompt" in html


def test_the_task_survives_a_killed_worker_and_transient_database_trouble():
    assert run_import.acks_late and run_import.reject_on_worker_lost
    assert OperationalError in run_import.autoretry_for
