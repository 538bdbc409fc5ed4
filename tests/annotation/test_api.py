"""The annotation REST API: next assignment, judgments, idempotency, permissions."""

import pytest

from annotation.models import Assignment, CriterionAnswer, Judgment

pytestmark = pytest.mark.django_db

GOOD = {
    "choice": "left",
    "strength": 3,
    "criteria": {"correctness": "right", "clarity": {"left": 5, "right": 2}},
    "rationale": "Left is clearer.",
    "seconds": 12.5,
}


def test_next_assignment_shape_hides_models(api_client_for, annotator, comparisons):
    response = api_client_for(annotator).get("/api/projects/alpha/next-assignment/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"assignment", "prompt", "left", "right", "criteria", "expires_at"}
    assert body["prompt"][0]["role"] == "user"
    assert [c["key"] for c in body["criteria"]] == ["correctness", "clarity"]
    assert body["criteria"][1]["scale"] == [1, 5]
    assert "model" not in str(body["left"]) and "model-x" not in response.content.decode()
    assignment = Assignment.objects.get(pk=body["assignment"])
    assert body["left"]["text"] == assignment.response_on("left").text


def test_judgment_is_stored_in_canonical_terms(api_client_for, annotator, comparisons):
    client = api_client_for(annotator)
    body = client.get("/api/projects/alpha/next-assignment/").json()
    response = client.post(f"/api/assignments/{body['assignment']}/judgment/", GOOD, format="json")
    assert response.status_code == 201, response.content
    judgment = Judgment.objects.get()
    left = Assignment.objects.get(pk=body["assignment"]).shown_left
    right = "b" if left == "a" else "a"
    assert judgment.choice == left
    assert judgment.shown_left == left
    assert (judgment.strength, judgment.seconds, judgment.source) == (3, 12.5, "api")
    answers = {a.criterion.key: a for a in CriterionAnswer.objects.select_related("criterion")}
    assert answers["correctness"].choice == right
    scores = {left: 5, right: 2}
    assert (answers["clarity"].score_a, answers["clarity"].score_b) == (scores["a"], scores["b"])
    assert response.json()["display_choice"] == "left"


def test_queue_empty_gives_204(api_client_for, annotator, project):
    assert api_client_for(annotator).get("/api/projects/alpha/next-assignment/").status_code == 204


def test_idempotency_key_replays_and_conflicts(api_client_for, annotator, comparisons):
    client = api_client_for(annotator)
    body = client.get("/api/projects/alpha/next-assignment/").json()
    url = f"/api/assignments/{body['assignment']}/judgment/"
    first = client.post(url, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(url, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Judgment.objects.count() == 1
    # The same content without a key is a harmless retry, a different judgment a conflict.
    assert client.post(url, GOOD, format="json").status_code == 201
    different = {**GOOD, "choice": "tie", "strength": None}
    conflict = client.post(url, different, format="json")
    assert conflict.status_code == 409
    assert Judgment.objects.count() == 1
    # The key cannot be reused for another assignment.
    other = client.get("/api/projects/alpha/next-assignment/").json()
    reuse = client.post(
        f"/api/assignments/{other['assignment']}/judgment/",
        GOOD,
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert reuse.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"choice": "up"}, "choice"),
        ({"strength": 7}, "strength"),
        ({"strength": None}, "strength"),
        ({"criteria": {"clarity": {"left": 5, "right": 2}}}, "criteria.correctness"),
        (
            {"criteria": {**GOOD["criteria"], "clarity": {"left": 9, "right": 2}}},
            "criteria.clarity",
        ),
        ({"criteria": {**GOOD["criteria"], "bogus": "left"}}, "criteria.bogus"),
        ({"seconds": -1}, "seconds"),
        ({"rationale": 5}, "rationale"),
    ],
)
def test_invalid_input_is_400_naming_the_field(
    api_client_for, annotator, comparisons, change, field
):
    client = api_client_for(annotator)
    body = client.get("/api/projects/alpha/next-assignment/").json()
    response = client.post(
        f"/api/assignments/{body['assignment']}/judgment/", {**GOOD, **change}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert Judgment.objects.count() == 0


def test_tie_needs_no_strength(api_client_for, annotator, comparisons):
    client = api_client_for(annotator)
    body = client.get("/api/projects/alpha/next-assignment/").json()
    tie = {**GOOD, "choice": "tie"}
    del tie["strength"]
    assert (
        client.post(
            f"/api/assignments/{body['assignment']}/judgment/", tie, format="json"
        ).status_code
        == 201
    )
    assert Judgment.objects.get().choice == "tie"


def test_non_json_body_is_400(api_client_for, annotator, comparisons):
    client = api_client_for(annotator)
    body = client.get("/api/projects/alpha/next-assignment/").json()
    response = client.post(
        f"/api/assignments/{body['assignment']}/judgment/", [1, 2], format="json"
    )
    assert response.status_code == 400


def test_permissions(api_client_for, annotator, researcher, outsider, comparisons, other_project):
    outsider_client = api_client_for(outsider)
    # Another project's pages and data are invisible, not merely forbidden.
    assert outsider_client.get("/api/projects/alpha/next-assignment/").status_code == 404
    assert outsider_client.get("/api/projects/alpha/").status_code == 404
    assert outsider_client.get("/api/projects/alpha/progress/").status_code == 404
    assert [p["slug"] for p in outsider_client.get("/api/projects/").json()] == ["beta"]
    # Someone else's assignment id is a 404 too.
    body = api_client_for(annotator).get("/api/projects/alpha/next-assignment/").json()
    url = f"/api/assignments/{body['assignment']}/judgment/"
    assert outsider_client.post(url, GOOD, format="json").status_code == 404
    assert outsider_client.post(f"/api/assignments/{body['assignment']}/skip/").status_code == 404
    # Annotators do not see progress; researchers do not get assignments.
    assert api_client_for(annotator).get("/api/projects/alpha/progress/").status_code == 404
    assert api_client_for(researcher).get("/api/projects/alpha/next-assignment/").status_code == 404
    # Anonymous requests are refused.
    from rest_framework.test import APIClient

    assert APIClient().get("/api/projects/").status_code == 401
    assert Judgment.objects.count() == 0


def test_progress_for_researchers(api_client_for, annotator, researcher, comparisons):
    client = api_client_for(annotator)
    body = client.get("/api/projects/alpha/next-assignment/").json()
    client.post(f"/api/assignments/{body['assignment']}/judgment/", GOOD, format="json")
    client.get("/api/projects/alpha/next-assignment/")
    progress = api_client_for(researcher).get("/api/projects/alpha/progress/").json()
    assert progress["comparisons"] == 5
    assert (progress["complete"], progress["in_progress"], progress["waiting"]) == (0, 2, 3)
    assert progress["per_annotator"] == [
        {"annotator": "ann", "judgments": 1, "reserved": 1, "skipped": 0}
    ]


def test_skip(api_client_for, annotator, comparisons):
    client = api_client_for(annotator)
    first = client.get("/api/projects/alpha/next-assignment/").json()
    assert client.post(f"/api/assignments/{first['assignment']}/skip/").status_code == 204
    second = client.get("/api/projects/alpha/next-assignment/").json()
    assert second["assignment"] != first["assignment"]


def test_openapi_schema_and_docs(api_client_for, annotator, client):
    schema = api_client_for(annotator).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/projects/{slug}/next-assignment/",
        "/api/assignments/{assignment_id}/judgment/",
    ):
        assert path in text
    assert client.get("/api/docs/").status_code in (200, 302, 401, 403)
