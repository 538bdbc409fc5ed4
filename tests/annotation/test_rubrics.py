"""Rubric files, validation and versioning."""

import json

import pytest
from django.core.exceptions import ValidationError

from annotation.models import Criterion, Judgment, Rubric
from annotation.services.rubrics import (
    rubric_create,
    rubric_revise,
    rubric_spec,
    rubric_spec_load,
)
from tests.factories import ComparisonFactory, ProjectFactory

SPEC = {
    "name": "helpfulness-v1",
    "criteria": [
        {
            "key": "correctness",
            "label": "Correctness",
            "description": "Is it right?",
            "kind": "compare",
        },
        {"key": "clarity", "label": "Clarity", "kind": "rating", "scale": [1, 5]},
    ],
}


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_rubric_file_round_trip(tmp_path, suffix):
    path = tmp_path / f"rubric{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(SPEC))
    else:
        path.write_text(
            "name: helpfulness-v1\ncriteria:\n"
            "  - {key: correctness, label: Correctness, description: 'Is it right?',\n"
            "     kind: compare}\n"
            "  - {key: clarity, label: Clarity, kind: rating, scale: [1, 5]}\n"
        )
    rubric = rubric_create(spec=rubric_spec_load(path))
    assert rubric.version == 1
    assert list(rubric.criteria.values_list("key", "kind", "scale_min", "scale_max")) == [
        ("correctness", "compare", None, None),
        ("clarity", "rating", 1, 5),
    ]
    assert rubric_spec(rubric)["criteria"][1]["scale"] == [1, 5]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"criteria": SPEC["criteria"]}, "name: required"),
        ({"name": "x", "criteria": []}, "criteria: required"),
        ({"name": "x", "criteria": [{"key": "Bad Key"}]}, "criteria[0].key"),
        ({"name": "x", "criteria": [{"key": "a", "kind": "vote"}]}, "criteria[0].kind"),
        ({"name": "x", "criteria": [{"key": "a", "kind": "rating"}]}, "criteria[0].scale"),
        ({"name": "x", "criteria": [{"key": "a", "kind": "rating", "scale": [5, 1]}]}, "scale"),
        ({"name": "x", "criteria": [{"key": "a"}, {"key": "a"}]}, "duplicate key"),
    ],
)
def test_bad_rubric_specs_name_the_field(tmp_path, spec, message):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ValidationError) as info:
        rubric_spec_load(path)
    assert any(message in m for m in info.value.messages)


def test_unparseable_file_is_reported(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{not json")
    with pytest.raises(ValidationError, match="not valid json"):
        rubric_spec_load(path)


@pytest.mark.django_db
def test_revising_unused_rubric_edits_in_place():
    rubric = rubric_create(spec=SPEC)
    spec = {**SPEC, "criteria": [*SPEC["criteria"], {"key": "tone", "kind": "compare"}]}
    revised = rubric_revise(rubric=rubric, spec=spec)
    assert revised.pk == rubric.pk and revised.version == 1
    assert revised.criteria.count() == 3


@pytest.mark.django_db
def test_revising_rubric_with_judgments_creates_a_new_version():
    rubric = rubric_create(spec=SPEC)
    project = ProjectFactory(rubric=rubric)
    comparison = ComparisonFactory(project=project)
    Judgment.objects.create(
        comparison=comparison,
        external_annotator="ext",
        rubric=rubric,
        choice="a",
        source="import",
        created_at="2026-11-01T00:00:00Z",
    )
    spec = {**SPEC, "criteria": [{"key": "correctness", "kind": "rating", "scale": [1, 7]}]}
    new = rubric_revise(rubric=rubric, spec=spec)
    assert (new.version, new.previous_id) == (2, rubric.pk)
    project.refresh_from_db()
    assert project.rubric == new
    # The old version, and the meaning of the old judgment, are untouched.
    old = Criterion.objects.get(rubric=rubric, key="correctness")
    assert old.kind == "compare"
    assert Judgment.objects.get().rubric == rubric
    # Creating from an identical spec reuses the newest version.
    assert rubric_create(spec=spec) == new
    assert Rubric.objects.filter(name="helpfulness-v1").count() == 2
