"""The Django admin: rubric edits are versioned once judgments exist; data is read-mostly."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from annotation.models import Criterion, Judgment, Rubric
from annotation.services.assignment import assignment_next
from annotation.services.judgments import judgment_submit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    user = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def _rubric_post(rubric: Rubric, *, description: str, criteria: list[dict]) -> dict:
    existing = list(rubric.criteria.order_by("position", "id"))
    data = {
        "name": rubric.name,
        "description": description,
        "criteria-TOTAL_FORMS": str(len(criteria)),
        "criteria-INITIAL_FORMS": str(len(existing)),
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(criteria):
        prefix = f"criteria-{i}-"
        if i < len(existing):
            data[prefix + "id"] = str(existing[i].pk)
            data[prefix + "rubric"] = str(rubric.pk)
        data[prefix + "position"] = str(i)
        for field in ("key", "label", "kind", "description", "scale_min", "scale_max"):
            value = item.get(field, "")
            data[prefix + field] = "" if value is None else str(value)
        if item.get("DELETE"):
            data[prefix + "DELETE"] = "on"
    return data


def _criteria_of(rubric):
    return [
        {
            "key": c.key,
            "label": c.label,
            "kind": c.kind,
            "description": c.description,
            "scale_min": c.scale_min,
            "scale_max": c.scale_max,
        }
        for c in rubric.criteria.order_by("position", "id")
    ]


def _judge(project, annotator):
    assignment = assignment_next(project=project, annotator=annotator)
    judgment_submit(
        assignment=assignment,
        annotator=annotator,
        choice="tie",
        criteria={"correctness": "tie", "clarity": {"left": 3, "right": 3}},
    )


def test_rubric_without_judgments_is_edited_in_place(admin_client_, project):
    rubric = project.rubric
    criteria = _criteria_of(rubric)
    criteria[0]["label"] = "Factual correctness"
    url = reverse("admin:annotation_rubric_change", args=[rubric.pk])
    response = admin_client_.post(url, _rubric_post(rubric, description="d", criteria=criteria))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Rubric.objects.filter(name=rubric.name).count() == 1
    assert Criterion.objects.get(rubric=rubric, key="correctness").label == "Factual correctness"


def test_rubric_with_judgments_is_saved_as_a_new_version(
    admin_client_, project, annotator, comparisons
):
    _judge(project, annotator)
    rubric = project.rubric
    criteria = _criteria_of(rubric)
    criteria[0]["label"] = "Factual correctness"
    criteria.append({"key": "tone", "label": "Tone", "kind": "compare"})
    url = reverse("admin:annotation_rubric_change", args=[rubric.pk])
    response = admin_client_.post(url, _rubric_post(rubric, description="v2", criteria=criteria))
    assert response.status_code == 302, response.content.decode()[:3000]
    new = Rubric.objects.get(name=rubric.name, version=2)
    assert response["Location"] == reverse("admin:annotation_rubric_change", args=[new.pk])
    assert next(str(m) for m in get_messages(response.wsgi_request)).startswith(
        f"Saved as version 2 of “{rubric.name}”"
    )
    # The old version is untouched and still what the judgment was answered under.
    assert Criterion.objects.get(rubric=rubric, key="correctness").label == "Correctness"
    assert not Criterion.objects.filter(rubric=rubric, key="tone").exists()
    assert Judgment.objects.get().rubric_id == rubric.pk
    # The new version holds the edit, and the project moved to it.
    assert [c.key for c in new.criteria.order_by("position")] == [
        "correctness",
        "clarity",
        "tone",
    ]
    assert new.criteria.get(key="correctness").label == "Factual correctness"
    project.refresh_from_db()
    assert project.rubric_id == new.pk


def test_unchanged_save_of_a_judged_rubric_creates_no_version(
    admin_client_, project, annotator, comparisons
):
    _judge(project, annotator)
    rubric = project.rubric
    url = reverse("admin:annotation_rubric_change", args=[rubric.pk])
    data = _rubric_post(rubric, description=rubric.description, criteria=_criteria_of(rubric))
    response = admin_client_.post(url, data)
    assert response.status_code == 302
    assert Rubric.objects.filter(name=rubric.name).count() == 1


def test_invalid_rubric_edit_is_refused_with_a_message(admin_client_, project):
    rubric = project.rubric
    criteria = _criteria_of(rubric)
    criteria[1]["scale_min"] = ""
    criteria[1]["scale_max"] = ""
    url = reverse("admin:annotation_rubric_change", args=[rubric.pk])
    response = admin_client_.post(url, _rubric_post(rubric, description="", criteria=criteria))
    assert response.status_code == 200
    assert "errornote" in response.content.decode()


def test_admin_pages_render(admin_client_, project, annotator, comparisons):
    _judge(project, annotator)
    judgment = Judgment.objects.get()
    for url in (
        reverse("admin:annotation_rubric_changelist"),
        reverse("admin:annotation_rubric_change", args=[project.rubric_id]),
        reverse("admin:annotation_project_changelist"),
        reverse("admin:annotation_project_change", args=[project.pk]),
        reverse("admin:annotation_comparison_changelist") + f"?project__id__exact={project.pk}",
        reverse("admin:annotation_comparison_change", args=[comparisons[0].pk]),
        reverse("admin:annotation_judgment_changelist") + "?source__exact=api",
        reverse("admin:annotation_judgment_change", args=[judgment.pk]),
        reverse("admin:annotation_importrun_changelist"),
    ):
        response = admin_client_.get(url)
        assert response.status_code == 200, url
    html = admin_client_.get(reverse("admin:annotation_rubric_change", args=[project.rubric_id]))
    assert "creates a new version" in html.content.decode()


def test_comparisons_and_judgments_are_read_only(admin_client_, comparisons):
    assert admin_client_.get(reverse("admin:annotation_comparison_add")).status_code == 403
    assert admin_client_.get(reverse("admin:annotation_judgment_add")).status_code == 403


def test_exports_and_reports_are_listed_read_only(admin_client_, project):
    from analysis.models import ExportSnapshot, Report

    snapshot = ExportSnapshot.objects.create(project=project, kind="dpo", format="jsonl")
    report = Report.objects.create(
        project=project,
        week="2026-W47",
        period_start="2026-11-16T00:00:00Z",
        period_end="2026-11-23T00:00:00Z",
    )
    for model, obj in (("exportsnapshot", snapshot), ("report", report)):
        listing = admin_client_.get(reverse(f"admin:analysis_{model}_changelist"))
        assert listing.status_code == 200
        assert admin_client_.get(reverse(f"admin:analysis_{model}_add")).status_code == 403
        view = admin_client_.get(reverse(f"admin:analysis_{model}_change", args=[obj.pk]))
        assert view.status_code == 200
