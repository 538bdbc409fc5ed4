"""The researcher dashboard: progress, file import, links."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotation.models import Comparison, ImportRun, Judgment, Role
from annotation.services.assignment import assignment_next
from annotation.services.judgments import judgment_submit
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _jsonl(*records) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode() + b"\n"


def _record(n: int, **extra) -> dict:
    return {
        "id": f"imp-{n}",
        "prompt": f"Question {n}?",
        "response_a": {"text": f"Answer a{n}", "model": "m1"},
        "response_b": {"text": f"Answer b{n}", "model": "m2"},
        **extra,
    }


def test_dashboard_shows_progress_per_annotator(
    researcher_client, project, annotator, researcher, comparisons
):
    assignment = assignment_next(project=project, annotator=annotator)
    judgment_submit(
        assignment=assignment,
        annotator=annotator,
        choice="tie",
        criteria={"correctness": "tie", "clarity": {"left": 3, "right": 3}},
    )
    assignment_next(project=project, annotator=annotator)
    response = researcher_client.get(reverse("dashboard", args=[project.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<dt>Comparisons</dt><dd>5</dd>" in html
    assert "<dt>In progress</dt><dd>2</dd>" in html
    assert "<dt>Waiting</dt><dd>3</dd>" in html
    assert (
        '<tr><th scope="row">ann</th><td class="num">1</td>'
        '<td class="num">1</td><td class="num">0</td></tr>'
    ) in html


def test_dashboard_links_to_admin_and_guidelines(researcher_client, project):
    html = researcher_client.get(reverse("dashboard", args=[project.slug])).content.decode()
    assert reverse("admin:annotation_project_change", args=[project.pk]) in html
    assert reverse("admin:annotation_rubric_change", args=[project.rubric_id]) in html
    assert reverse("guidelines", args=[project.slug]) in html


def test_dashboard_links_to_analysis_only_when_it_exists(researcher_client, project):
    from django.urls import NoReverseMatch

    html = researcher_client.get(reverse("dashboard", args=[project.slug])).content.decode()
    try:
        url = reverse("analysis-page", args=[project.slug])
    except NoReverseMatch:
        assert ">Analysis</a>" not in html
    else:
        assert f'<a href="{url}">Analysis</a>' in html


def test_dashboard_shows_feature_progress(researcher_client, project):
    from analysis.models import FeatureJob

    FeatureJob.objects.create(project=project, status="running", total=0)
    html = researcher_client.get(reverse("dashboard", args=[project.slug])).content.decode()
    assert "Style features" in html
    assert "Extraction running: 0 of 0 responses" in html


def test_staff_can_open_any_dashboard(login, project):
    staff = UserFactory(username="staff", is_staff=True)
    assert login(staff).get(reverse("dashboard", args=[project.slug])).status_code == 200


def test_import_success_shows_counts(researcher_client, project, researcher):
    upload = SimpleUploadedFile(
        "pairs.jsonl", _jsonl(_record(1), _record(2)), content_type="application/x-ndjson"
    )
    response = researcher_client.post(
        reverse("dashboard", args=[project.slug]), {"file": upload, "format": "auto"}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Imported pairs.jsonl: 2 records (jsonl), 2 new comparisons" in html
    assert Comparison.objects.filter(project=project).count() == 2
    run = ImportRun.objects.get()
    assert run.user == researcher and run.status == "succeeded"
    assert "pairs.jsonl" in html  # the recent imports table


def test_import_errors_are_listed_by_line(researcher_client, project):
    bad = _record(2)
    del bad["response_b"]
    content = _jsonl(_record(1), bad) + b"{not json\n"
    upload = SimpleUploadedFile("bad.jsonl", content)
    response = researcher_client.post(
        reverse("dashboard", args=[project.slug]), {"file": upload, "format": "jsonl"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert '<td class="num">2</td>' in html and "response_b" in html
    assert '<td class="num">3</td>' in html
    assert not Comparison.objects.exists()


def test_import_requires_a_file(researcher_client, project):
    response = researcher_client.post(reverse("dashboard", args=[project.slug]), {"format": "auto"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_import_format_select_offers_auto_and_the_importers_formats(researcher_client, project):
    from annotation.services.imports import FORMAT_CHOICES

    html = researcher_client.get(reverse("dashboard", args=[project.slug])).content.decode()
    for name in FORMAT_CHOICES:
        assert f'<option value="{name}"' in html
    assert '<option value="auto" selected>' in html


def test_annotator_cannot_import(annotator_client, project):
    upload = SimpleUploadedFile("pairs.jsonl", _jsonl(_record(1)))
    response = annotator_client.post(
        reverse("dashboard", args=[project.slug]), {"file": upload, "format": "auto"}
    )
    assert response.status_code == 404
    assert not Comparison.objects.exists()


def test_researcher_who_also_annotates_sees_both_links(login, project, comparisons):
    user = UserFactory(username="both")
    MembershipFactory(project=project, user=user, role=Role.RESEARCHER)
    MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)
    html = login(user).get(reverse("home")).content.decode()
    assert reverse("dashboard", args=[project.slug]) in html
    assert reverse("annotate", args=[project.slug]) in html
    assert not Judgment.objects.exists()
