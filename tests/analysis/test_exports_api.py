"""Exports from the API, the project's web page and the command line."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from analysis.models import ExportSnapshot, JobStatus
from analysis.services.exports import export_snapshot_create, export_snapshot_execute
from analysis.services.simulate import simulated_project_create
from annotation.models import Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(django_capture_on_commit_callbacks, researcher, annotator):
    with django_capture_on_commit_callbacks(execute=True):
        project = simulated_project_create(slug="sim", comparisons=40, annotators=4, seed=2).project
    MembershipFactory(project=project, user=researcher, role=Role.RESEARCHER)
    MembershipFactory(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


@pytest.fixture
def res_client(client, researcher):
    client.force_login(researcher)
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- API -------------------------------------------------------------------------------------


def test_api_export_inline_then_list_detail_and_download(sim, researcher, api_client_for):
    api = api_client_for(researcher)
    response = api.post(
        "/api/projects/sim/exports/",
        {"kind": "dpo", "format": "jsonl", "min_agreement": 0.5, "drop_ties": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "succeeded" and body["created_by"] == "res"
    assert body["options"] == {
        "min_agreement": 0.5,
        "drop_ties": True,
        "exclude_style_decided": False,
        "form": "conversational",
    }
    assert response["Location"] == body["url"] == f"/api/projects/sim/exports/{body['id']}/"
    assert body["percent"] == 100.0 and body["row_count"] > 0

    listed = api.get("/api/projects/sim/exports/").json()
    assert [e["id"] for e in listed] == [body["id"]]
    detail = api.get(body["url"]).json()
    assert detail["sha256"] == body["sha256"] and detail["download"] == body["download"]

    download = api.get(body["download"])
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert download["Content-Type"] == "application/jsonl"
    content = _body(download)
    assert hashlib.sha256(content).hexdigest() == body["sha256"]
    rows = [json.loads(line) for line in content.decode().splitlines()]
    assert len(rows) == body["row_count"] and set(rows[0]) == {"prompt", "chosen", "rejected"}
    ExportSnapshot.objects.get(pk=body["id"]).file.delete(save=False)


def test_api_large_export_is_queued_with_progress(
    sim, researcher, api_client_for, settings, django_capture_on_commit_callbacks
):
    settings.TIEBREAK_EXPORT_INLINE_MAX_ROWS = 5
    api = api_client_for(researcher)
    # The task is sent once the request's transaction commits (here: as the block ends).
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(
            "/api/projects/sim/exports/", {"kind": "judgments", "format": "parquet"}, format="json"
        )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending" and len(callbacks) == 1
    assert response["Location"] == response.json()["url"]
    detail = api.get(response["Location"]).json()
    assert detail["status"] == "succeeded" and detail["done"] == detail["total"] == 40
    table = pq.read_table(io.BytesIO(_body(api.get(detail["download"]))))
    assert table.num_rows == detail["row_count"] == 120
    ExportSnapshot.objects.get(pk=detail["id"]).file.delete(save=False)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "all", "format": "jsonl"}, "kind"),
        ({"kind": "dpo", "format": "xml"}, "format"),
        ({"kind": "dpo", "format": "csv", "min_agreement": 2}, "min_agreement"),
        ({"kind": "dpo", "format": "csv", "form": "chatml"}, "form"),
        ({"kind": "judgments", "format": "csv", "form": "standard"}, "form"),
        ({"format": "csv"}, "kind"),
    ],
)
def test_api_validation_errors_name_the_field(sim, researcher, api_client_for, data, field):
    response = api_client_for(researcher).post("/api/projects/sim/exports/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ExportSnapshot.objects.exists()


def test_api_failed_export_is_409_with_the_reason(researcher, api_client_for, project):
    from analysis.models import FeatureValue
    from tests.analysis.test_exports import _judge
    from tests.factories import ComparisonFactory, UserFactory

    _judge(ComparisonFactory(project=project), UserFactory(username="u"), "a")
    assert not FeatureValue.objects.exists()
    response = api_client_for(researcher).post(
        f"/api/projects/{project.slug}/exports/", {"kind": "judgments", "format": "csv"}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "failed" and "extract_features" in body["error"]
    assert body["download"] is None


def test_api_permissions(sim, annotator, outsider, researcher, api_client_for):
    snapshot = export_snapshot_create(project=sim, kind="judgments", format="jsonl")
    urls = [
        "/api/projects/sim/exports/",
        f"/api/projects/sim/exports/{snapshot.pk}/",
        f"/api/projects/sim/exports/{snapshot.pk}/download/",
    ]
    for url in urls:
        assert api_client_for(annotator).get(url).status_code == 403
        assert api_client_for(outsider).get(url).status_code == 404
    post = {"kind": "judgments", "format": "jsonl"}
    assert api_client_for(annotator).post(urls[0], post).status_code == 403
    assert api_client_for(outsider).post(urls[0], post).status_code == 404
    # Not yet written: no file to download.
    assert api_client_for(researcher).get(urls[2]).status_code == 404
    assert api_client_for(researcher).get("/api/projects/sim/exports/999999/").status_code == 404


def test_export_routes_are_in_the_openapi_schema(researcher, api_client_for):
    schema = api_client_for(researcher).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "post" in paths["/api/projects/{slug}/exports/"]
    assert "/api/projects/{slug}/exports/{export_id}/" in paths
    assert "/api/projects/{slug}/exports/{export_id}/download/" in paths


# --- web page ------------------------------------------------------------------------------


def _assert_csp_safe(html: str) -> None:
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), "inline script"
    assert not re.search(r"\sstyle\s*=", html, flags=re.IGNORECASE), "inline style"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def test_dashboard_links_the_exports_page(sim, res_client):
    html = res_client.get(reverse("dashboard", args=["sim"])).content.decode()
    assert 'href="/p/sim/exports/"' in html


def test_page_exports_and_downloads(sim, res_client):
    page = res_client.get("/p/sim/exports/")
    assert page.status_code == 200
    html = page.content.decode()
    _assert_csp_safe(html)
    assert "No export yet" in html and 'name="kind"' in html and 'for="id_drop_ties"' in html

    response = res_client.post(
        "/p/sim/exports/", {"kind": "preferences", "format": "csv"}, follow=True
    )
    html = response.content.decode()
    _assert_csp_safe(html)
    snapshot = ExportSnapshot.objects.get()
    assert snapshot.status == JobStatus.SUCCEEDED and snapshot.created_by.username == "res"
    assert f"Export {snapshot.pk} is ready" in html
    link = f"/p/sim/exports/{snapshot.pk}/download/"
    assert link in html and snapshot.sha256[:10] in html
    download = res_client.get(link)
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    content = _body(download)
    assert hashlib.sha256(content).hexdigest() == snapshot.sha256
    assert content.startswith(b'"comparison_id","prompt_id","prompt"')
    snapshot.file.delete(save=False)


def test_page_shows_errors_by_field_and_progress(
    sim, res_client, settings, django_capture_on_commit_callbacks
):
    response = res_client.post(
        "/p/sim/exports/", {"kind": "dpo", "format": "csv", "min_agreement": "3", "form": "auto"}
    )
    assert response.status_code == 400
    assert "Minimum agreement:" in response.content.decode()
    assert not ExportSnapshot.objects.exists()

    settings.TIEBREAK_EXPORT_INLINE_MAX_ROWS = 1
    with django_capture_on_commit_callbacks(execute=False):
        res_client.post("/p/sim/exports/", {"kind": "judgments", "format": "jsonl", "form": "auto"})
    html = res_client.get("/p/sim/exports/").content.decode()
    assert 'http-equiv="refresh"' in html and "<progress" in html and "Pending" in html


def test_page_permissions(sim, client, annotator, outsider):
    client.force_login(annotator)
    assert client.get("/p/sim/exports/").status_code == 403
    client.force_login(outsider)
    assert client.get("/p/sim/exports/").status_code == 404
    client.logout()
    assert client.get("/p/sim/exports/").status_code == 302


# --- command line --------------------------------------------------------------------------


def test_command_exports_records_and_exports_again(sim, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "prefs.parquet"
    call_command(
        "export",
        "sim",
        "--kind",
        "preferences",
        "--output",
        str(path),
        "--drop-ties",
        "--min-agreement",
        "0.5",
        stdout=out,
        stderr=err,
    )
    snapshot = ExportSnapshot.objects.get()
    assert snapshot.format == "parquet" and snapshot.created_by is None and not snapshot.file
    assert snapshot.options["drop_ties"] is True and snapshot.options["min_agreement"] == 0.5
    assert snapshot.sha256 in out.getvalue() and f"{snapshot.row_count} rows" in out.getvalue()
    assert "comparisons" in err.getvalue()  # the progress bar
    assert hashlib.sha256(path.read_bytes()).hexdigest() == snapshot.sha256

    again = tmp_path / "again.parquet"
    out = io.StringIO()
    call_command(
        "export",
        "--snapshot",
        str(snapshot.pk),
        "--output",
        str(again),
        "--no-progress",
        stdout=out,
    )
    assert "identical to the recorded export" in out.getvalue()
    assert again.read_bytes() == path.read_bytes()
    assert ExportSnapshot.objects.count() == 1


def test_command_dpo_form_and_format_flag(sim, tmp_path):
    path = tmp_path / "pairs.txt"
    call_command(
        "export",
        "sim",
        "--kind",
        "dpo",
        "--format",
        "jsonl",
        "--output",
        str(path),
        "--form",
        "conversational",
        "--exclude-style-decided",
        "--no-progress",
        stdout=io.StringIO(),
    )
    first = json.loads(path.read_text().splitlines()[0])
    assert first["chosen"][0]["role"] == "assistant"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--kind", "dpo", "--output", "x.jsonl"], "No project with slug 'nope'"),
        (["sim", "--kind", "dpo", "--output", "x.txt"], "cannot tell the format"),
        (["sim", "--output", "x.jsonl"], "--kind"),
        (["sim", "--kind", "dpo", "--output", "x.jsonl", "--min-agreement", "7"], "min_agreement"),
        (["sim", "--kind", "dpo", "--output", "x.jsonl", "--form", "standard"], "form:"),
        (["--snapshot", "999", "--output", "x.jsonl"], "No export snapshot 999"),
    ],
)
def test_command_errors(sim, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("export", *args, "--no-progress", stdout=io.StringIO())
    assert list(tmp_path.iterdir()) == []


def test_command_snapshot_refuses_new_options_and_another_format(sim, tmp_path):
    snapshot = export_snapshot_create(project=sim, kind="judgments", format="csv")
    export_snapshot_execute(snapshot_id=snapshot.pk, path=tmp_path / "a.csv")
    with pytest.raises(CommandError, match="leave out --kind"):
        call_command(
            "export",
            "--snapshot",
            str(snapshot.pk),
            "--kind",
            "dpo",
            "--output",
            str(tmp_path / "b.csv"),
        )
    with pytest.raises(CommandError, match=r"name the output \*\.csv"):
        call_command(
            "export", "--snapshot", str(snapshot.pk), "--output", str(tmp_path / "b.jsonl")
        )


def test_command_failure_says_why_and_writes_nothing(project, tmp_path):
    from tests.analysis.test_exports import _judge
    from tests.factories import ComparisonFactory, UserFactory

    _judge(ComparisonFactory(project=project), UserFactory(username="u"), "a")
    path = tmp_path / "j.jsonl"
    with pytest.raises(CommandError, match="style features are missing"):
        call_command(
            "export", project.slug, "--kind", "judgments", "--output", str(path), "--no-progress"
        )
    assert not path.exists() and list(tmp_path.iterdir()) == []
    assert ExportSnapshot.objects.get().status == JobStatus.FAILED


def test_deleting_a_snapshot_deletes_its_file(
    sim, researcher, api_client_for, settings, django_capture_on_commit_callbacks
):
    from pathlib import Path

    from django.db import transaction

    from analysis.models import ExportSnapshot

    api = api_client_for(researcher)
    body = api.post(
        "/api/projects/sim/exports/", {"kind": "preferences", "format": "csv"}, format="json"
    ).json()
    snapshot = ExportSnapshot.objects.get(pk=body["id"])
    path = Path(snapshot.file.path)
    assert path.is_file() and str(path).startswith(str(settings.MEDIA_ROOT))

    # A deletion that is rolled back keeps the file.
    with pytest.raises(RuntimeError), transaction.atomic():
        snapshot.delete()
        raise RuntimeError("rolled back")
    assert path.is_file()
    # Deleting the project deletes its snapshots (a cascade) and so their files.
    with django_capture_on_commit_callbacks(execute=True):
        sim.delete()
    assert not ExportSnapshot.objects.filter(pk=body["id"]).exists()
    assert not path.exists()
