"""The annotation page: rendering, the plain-form path, the JSON path, skipping."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.urls import reverse

from annotation.models import Assignment, AssignmentStatus, CriterionAnswer, Judgment
from annotation.services.assignment import assignment_next
from annotation.services.judgments import to_canonical

pytestmark = pytest.mark.django_db


def _current(project, user) -> Assignment:
    return assignment_next(project=project, annotator=user)


def _form_post(assignment, **overrides):
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "criteria.correctness": "left",
        "criteria.clarity.left": "4",
        "criteria.clarity.right": "2",
        "choice": "right",
        "strength": "2",
        "rationale": "Right one is correct.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _json_body(**overrides):
    body = {
        "criteria": {"correctness": "left", "clarity": {"left": 4, "right": 2}},
        "choice": "right",
        "strength": 2,
        "rationale": "",
        "seconds": 12.5,
    }
    body.update(overrides)
    return body


def _submit_url(project, assignment):
    return reverse("annotate-submit", args=[project.slug, assignment.pk])


def _post_json(client, url, body, key=None):
    headers = {"HTTP_ACCEPT": "application/json"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


# --- Rendering ----------------------------------------------------------------------------


def test_annotate_page_shows_pair_in_display_order_with_neutral_labels(
    annotator_client, annotator, project, comparisons
):
    comparison = comparisons[0]
    comparison.prompt.messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is **2+2**?"},
        {"role": "assistant", "content": "Do you want the proof?"},
        {"role": "user", "content": "Just the number."},
    ]
    comparison.prompt.save()
    response = annotator_client.get(reverse("annotate", args=[project.slug]))
    assert response.status_code == 200
    assignment = Assignment.objects.get(annotator=annotator)
    html = response.content.decode()
    left, right = assignment.response_on("left"), assignment.response_on("right")
    assert html.index(left.text) < html.index(right.text)
    assert "Response 1" in html and "Response 2" in html
    assert "model-x" not in html and "model-y" not in html
    # The conversation, as a transcript, rendered as markdown.
    for label in ("System", "User", "Assistant"):
        assert f'<div class="turn-role">{label}</div>' in html
    assert "<strong>2+2</strong>" in html
    # One control per criterion, by kind; the overall choice, strength and rationale.
    assert 'name="criteria.correctness" value="left"' in html
    assert 'name="criteria.correctness" value="tie"' in html
    for n in range(1, 6):
        assert f'name="criteria.clarity.left" value="{n}"' in html
        assert f'name="criteria.clarity.right" value="{n}"' in html
    assert 'name="choice" value="right"' in html
    assert 'name="strength" value="3"' in html
    assert '<textarea id="f-rationale" name="rationale"' in html
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', html)
    assert 'name="csrfmiddlewaretoken"' in html


def test_every_radio_group_has_a_legend_and_every_control_a_label(
    annotator_client, project, annotator, comparisons
):
    html = annotator_client.get(reverse("annotate", args=[project.slug])).content.decode()
    radios = re.findall(r"<input type=\"radio\"", html)
    labelled = re.findall(r"<label class=\"opt[^\"]*\"><input type=\"radio\"", html)
    assert radios and len(radios) == len(labelled)
    assert html.count("<fieldset") == html.count("<legend")
    assert '<label for="f-rationale">' in html


def test_response_markdown_is_rendered_safely(annotator_client, annotator, project, comparisons):
    comparison = comparisons[0]
    comparison.response_a.text = (
        "# Heading\n\n<script>window.pwned=1</script>\n\n[click](javascript:alert(1))\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```"
    )
    comparison.response_a.save()
    html = annotator_client.get(reverse("annotate", args=[project.slug])).content.decode()
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "<script>window.pwned" not in html
    assert "javascript:" not in html.replace("[click](javascript:alert(1))", "")
    assert "<h1>Heading</h1>" in html and "<table>" in html and "<pre><code>code" in html


def test_reload_shows_the_same_pair(annotator_client, annotator, project, comparisons):
    url = reverse("annotate", args=[project.slug])
    annotator_client.get(url)
    annotator_client.get(url)
    assert Assignment.objects.filter(annotator=annotator).count() == 1


def test_empty_queue_says_so(annotator_client, project, annotator):
    response = annotator_client.get(reverse("annotate", args=[project.slug]))
    assert response.status_code == 200
    assert "You’re all caught up" in response.content.decode()
    assert 'id="judgment-form"' not in response.content.decode()


def test_guidelines_page_renders_markdown(annotator_client, project, annotator):
    response = annotator_client.get(reverse("guidelines", args=[project.slug]))
    assert response.status_code == 200
    assert "<strong>correctness</strong>" in response.content.decode()


def test_annotate_page_carries_the_guidelines_and_shortcut_sheet(
    annotator_client, project, annotator, comparisons
):
    html = annotator_client.get(reverse("annotate", args=[project.slug])).content.decode()
    assert 'id="guidelines-dialog"' in html and "<strong>correctness</strong>" in html
    assert 'id="shortcuts-dialog"' in html
    assert reverse("guidelines", args=[project.slug]) in html


def test_home_lists_projects_with_progress(annotator_client, project, annotator, comparisons):
    response = annotator_client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert project.name in html
    assert "You have judged <strong>0</strong>; <strong>5</strong> waiting for you." in html
    assert reverse("annotate", args=[project.slug]) in html
    assert reverse("dashboard", args=[project.slug]) not in html


# --- The plain form (no JavaScript) ---------------------------------------------------------


def test_form_post_stores_canonical_judgment_and_redirects(
    annotator_client, annotator, project, comparisons
):
    assignment = _current(project, annotator)
    response = annotator_client.post(
        _submit_url(project, assignment), _form_post(assignment, shown_at=None)
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("annotate", args=[project.slug])
    judgment = Judgment.objects.get()
    shown_left = assignment.shown_left
    assert judgment.choice == to_canonical("right", shown_left)
    assert judgment.strength == 2
    assert judgment.source == "ui"
    assert judgment.shown_left == shown_left
    assert judgment.rationale == "Right one is correct."
    correctness = CriterionAnswer.objects.get(criterion__key="correctness")
    assert correctness.choice == to_canonical("left", shown_left)
    clarity = CriterionAnswer.objects.get(criterion__key="clarity")
    left_is_a = shown_left == "a"
    assert (clarity.score_a, clarity.score_b) == ((4, 2) if left_is_a else (2, 4))
    follow = annotator_client.get(response["Location"])
    assert "Saved. Here is the next pair." in follow.content.decode()


def test_form_post_measures_seconds_from_the_signed_render_time(
    annotator_client, annotator, project, comparisons
):
    page = annotator_client.get(reverse("annotate", args=[project.slug])).content.decode()
    shown_at = re.search(r'name="shown_at" value="([^"]+)"', page).group(1)
    assignment = Assignment.objects.get(annotator=annotator)
    annotator_client.post(
        _submit_url(project, assignment), _form_post(assignment, shown_at=shown_at)
    )
    seconds = Judgment.objects.get().seconds
    assert seconds is not None and 0 <= seconds < 60


def test_form_post_tie_ignores_a_leftover_strength(
    annotator_client, annotator, project, comparisons
):
    assignment = _current(project, annotator)
    annotator_client.post(
        _submit_url(project, assignment), _form_post(assignment, choice="tie", strength="3")
    )
    judgment = Judgment.objects.get()
    assert (judgment.choice, judgment.strength) == ("tie", None)


def test_form_post_errors_are_shown_next_to_fields_and_input_kept(
    annotator_client, annotator, project, comparisons
):
    assignment = _current(project, annotator)
    data = _form_post(
        assignment,
        **{"criteria.correctness": None, "criteria.clarity.right": None, "strength": None},
        rationale="my careful reasoning",
    )
    response = annotator_client.post(_submit_url(project, assignment), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert not Judgment.objects.exists()
    assert re.search(r'data-error-for="criteria.correctness">Answer “Correctness”.</p>', html), (
        "error next to the criterion"
    )
    assert re.search(r'data-error-for="criteria.clarity">Answer “Clarity”.</p>', html)
    assert re.search(r'data-error-for="strength">Say how much better', html)
    # What the annotator did answer is still selected, and the key is kept for the retry.
    assert 'name="criteria.clarity.left" value="4" data-key="4" checked' in html
    assert 'name="choice" value="right" data-key="2" checked' in html
    assert "my careful reasoning</textarea>" in html
    assert f'name="idempotency_key" value="{data["idempotency_key"]}"' in html


def test_form_double_submit_stores_one_judgment(annotator_client, annotator, project, comparisons):
    assignment = _current(project, annotator)
    data = _form_post(assignment)
    first = annotator_client.post(_submit_url(project, assignment), data)
    second = annotator_client.post(_submit_url(project, assignment), data)
    assert first.status_code == second.status_code == 302
    assert Judgment.objects.count() == 1


def test_form_post_conflict_is_explained(annotator_client, annotator, project, comparisons):
    assignment = _current(project, annotator)
    annotator_client.post(_submit_url(project, assignment), _form_post(assignment))
    response = annotator_client.post(
        _submit_url(project, assignment), _form_post(assignment, choice="tie")
    )
    assert response.status_code == 409
    assert "already judged differently" in response.content.decode()
    assert Judgment.objects.count() == 1


def test_form_skip_redirects_and_offers_another_pair(
    annotator_client, annotator, project, comparisons
):
    assignment = _current(project, annotator)
    response = annotator_client.post(reverse("annotate-skip", args=[project.slug, assignment.pk]))
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SKIPPED
    annotator_client.get(reverse("annotate", args=[project.slug]))
    current = Assignment.objects.get(annotator=annotator, status=AssignmentStatus.RESERVED)
    assert current.comparison_id != assignment.comparison_id


# --- The script's JSON path ---------------------------------------------------------------


def test_json_submit_returns_the_next_pair(annotator_client, annotator, project, comparisons):
    assignment = _current(project, annotator)
    response = _post_json(annotator_client, _submit_url(project, assignment), _json_body(), "k-1")
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "created"
    judgment = Judgment.objects.get(pk=data["judgment"])
    assert judgment.seconds == 12.5
    assert judgment.idempotency_key == "k-1"
    assert judgment.source == "ui"
    nxt = Assignment.objects.get(annotator=annotator, status=AssignmentStatus.RESERVED)
    assert f"/annotate/{nxt.pk}/judgment/" in data["next_html"]
    assert 'name="csrfmiddlewaretoken"' in data["next_html"]


def test_json_replay_with_same_key_stores_one_judgment(
    annotator_client, annotator, project, comparisons
):
    assignment = _current(project, annotator)
    url = _submit_url(project, assignment)
    first = _post_json(annotator_client, url, _json_body(), "same-key")
    second = _post_json(annotator_client, url, _json_body(), "same-key")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["status"] == "replayed"
    assert first.json()["judgment"] == second.json()["judgment"]
    assert Judgment.objects.count() == 1
    # Both answers show the same next pair (the reservation made by the first).
    assert Assignment.objects.filter(status=AssignmentStatus.RESERVED).count() == 1


def test_json_validation_errors_are_keyed_by_field(
    annotator_client, annotator, project, comparisons
):
    assignment = _current(project, annotator)
    body = _json_body(criteria={"clarity": {"left": 9, "right": 1}}, strength=None)
    response = _post_json(annotator_client, _submit_url(project, assignment), body, "k")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"criteria.correctness", "criteria.clarity", "strength"}
    assert not Judgment.objects.exists()


def test_json_bad_body_is_a_400(annotator_client, annotator, project, comparisons):
    assignment = _current(project, annotator)
    response = annotator_client.post(
        _submit_url(project, assignment), data="[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400


def test_json_conflict_is_409(annotator_client, annotator, project, comparisons):
    assignment = _current(project, annotator)
    url = _submit_url(project, assignment)
    _post_json(annotator_client, url, _json_body(), "a")
    response = _post_json(annotator_client, url, _json_body(choice="tie", strength=None), "b")
    assert response.status_code == 409
    assert "already judged" in response.json()["detail"]


def test_json_skip_returns_next_pair(annotator_client, annotator, project, comparisons):
    assignment = _current(project, annotator)
    response = annotator_client.post(
        reverse("annotate-skip", args=[project.slug, assignment.pk]),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "skipped"
    assert 'id="judgment-form"' in response.json()["next_html"]


def test_json_submit_of_the_last_pair_returns_the_empty_state(annotator_client, annotator, project):
    from tests.factories import ComparisonFactory

    ComparisonFactory(project=project)
    assignment = _current(project, annotator)
    response = _post_json(annotator_client, _submit_url(project, assignment), _json_body(), "x")
    assert response.status_code == 201
    assert "You’re all caught up" in response.json()["next_html"]


def test_json_request_without_session_gets_401(client, project, annotator, comparisons):
    assignment = _current(project, annotator)
    response = _post_json(client, _submit_url(project, assignment), _json_body(), "k")
    assert response.status_code == 401


def test_json_submit_requires_csrf(annotator, project, comparisons):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    assignment = _current(project, annotator)
    response = _post_json(client, _submit_url(project, assignment), _json_body(), "k")
    assert response.status_code == 403
    assert not Judgment.objects.exists()


def test_json_submit_with_csrf_token_from_the_form(annotator, project, comparisons):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(annotator)
    page = client.get(reverse("annotate", args=[project.slug])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assignment = Assignment.objects.get(annotator=annotator)
    response = client.post(
        _submit_url(project, assignment),
        data=json.dumps(_json_body()),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 201
