"""``POST /api/projects/<slug>/imports/``: researchers upload files."""

from __future__ import annotations

import gzip
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import Comparison, ImportRun
from tests.annotation.test_imports_helpers import row_counts

pytestmark = pytest.mark.django_db

URL = "/api/projects/{}/imports/"
GOOD = [
    {"id": "c-1", "prompt": "Q?", "response_a": "a", "response_b": "b"},
    {
        "id": "c-2",
        "prompt": "Q2?",
        "response_a": "a",
        "response_b": "b",
        "judgments": [{"annotator": "ext", "choice": "b"}],
    },
]


def upload(records, name="pairs.jsonl", *, gz=False):
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    if gz:
        body = gzip.compress(body)
    return SimpleUploadedFile(name, body, content_type="application/octet-stream")


def test_researcher_imports(project, researcher, api_client_for):
    response = api_client_for(researcher).post(
        URL.format(project.slug),
        {"file": upload(GOOD, "pairs.jsonl.gz", gz=True)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["format"] == "jsonl"
    assert (body["n_comparisons_created"], body["n_judgments_created"]) == (2, 1)
    run = ImportRun.objects.get(pk=body["import_run"])
    assert (run.user, run.filename, run.status) == (researcher, "pairs.jsonl.gz", "succeeded")
    assert Comparison.objects.filter(project=project).count() == 2


def test_explicit_format(project, researcher, api_client_for):
    client = api_client_for(researcher)
    response = client.post(
        URL.format(project.slug), {"file": upload(GOOD), "format": "csv"}, format="multipart"
    )
    assert response.status_code == 400
    response = client.post(
        URL.format(project.slug), {"file": upload(GOOD), "format": "xml"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "format"


def test_bad_file_gives_line_numbers_and_writes_nothing(project, researcher, api_client_for):
    bad = [GOOD[0], {**GOOD[1], "response_b": {"text": {}}}, {**GOOD[0], "prompt": ""}]
    before = row_counts()
    response = api_client_for(researcher).post(
        URL.format(project.slug), {"file": upload(bad)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 2, "field": "response_b.text", "message": "expected a string, got an object"},
        {"line": 3, "field": "prompt", "message": "empty prompt"},
    ]
    assert row_counts() == before
    assert ImportRun.objects.get(pk=response.json()["import_run"]).status == "failed"


def test_missing_file(project, researcher, api_client_for):
    response = api_client_for(researcher).post(URL.format(project.slug), {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"


def test_annotator_is_forbidden(project, annotator, api_client_for):
    response = api_client_for(annotator).post(
        URL.format(project.slug), {"file": upload(GOOD)}, format="multipart"
    )
    assert response.status_code == 403
    assert Comparison.objects.count() == 0


def test_other_projects_member_cannot_see_the_project(project, outsider, api_client_for):
    response = api_client_for(outsider).post(
        URL.format(project.slug), {"file": upload(GOOD)}, format="multipart"
    )
    assert response.status_code == 404
    assert Comparison.objects.count() == 0


def test_anonymous_is_rejected(project, client):
    response = client.post(URL.format(project.slug), {"file": upload(GOOD)})
    assert response.status_code in (401, 403)
