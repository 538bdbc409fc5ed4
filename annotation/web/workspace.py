"""The annotation workspace: what one assignment's page shows, and parsing what it posts.

The page speaks display terms only ("left" / "right" / "tie", "Response 1" /
"Response 2"); ``judgment_submit`` maps them to canonical a / b with the assignment's
``shown_left``. The same field names serve the JSON submission of the script and the
plain form post without JavaScript.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core import signing

from annotation.models import Assignment, CriterionKind
from annotation.web.markdown import render_markdown

SIDES = (("left", "Response 1"), ("right", "Response 2"))
COMPARE_OPTIONS = (("left", "Response 1", "1"), ("right", "Response 2", "2"), ("tie", "Tie", "3"))
OVERALL_OPTIONS = COMPARE_OPTIONS
STRENGTH_OPTIONS = ((1, "Slightly", "q"), (2, "Clearly", "w"), (3, "Much", "e"))
ROLE_LABELS = {"user": "User", "assistant": "Assistant", "system": "System"}
_SHOWN_SALT = "annotation.web.shown-at"


@dataclass
class Option:
    value: str
    label: str
    key: str
    checked: bool = False


@dataclass
class Row:
    """One radio group: a compare criterion, one side of a rating, the overall choice."""

    name: str
    legend: str
    options: list[Option]

    @property
    def dom_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass
class Section:
    """One rubric criterion as shown: a compare group, or a rating with a row per side."""

    field: str
    key: str
    label: str
    description: str
    kind: str
    rows: list[Row] = field(default_factory=list)
    error: str = ""

    @property
    def dom_id(self) -> str:
        return "f-" + self.field.replace(".", "-")


def sign_shown_at(assignment: Assignment) -> str:
    """A tamper-proof render timestamp, for ``seconds`` when the page runs without script."""
    return signing.dumps({"a": assignment.pk, "t": time.time()}, salt=_SHOWN_SALT)


def seconds_since(token: str, assignment: Assignment) -> float | None:
    try:
        data = signing.loads(token, salt=_SHOWN_SALT, max_age=7 * 24 * 3600)
    except signing.BadSignature:
        return None
    if data.get("a") != assignment.pk:
        return None
    return round(max(0.0, time.time() - float(data["t"])), 1)


def _first(errors: dict[str, list[str]], name: str) -> str:
    messages = errors.get(name) or []
    return str(messages[0]) if messages else ""


def build_workspace(
    assignment: Assignment,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """The template context for one assignment: transcript, responses, rubric controls.

    ``values`` (display terms, as parsed by ``parse_form``) and ``errors`` (the service's
    ``message_dict``) re-render a rejected submission with the annotator's input intact.
    """
    values = values or {}
    errors = errors or {}
    criteria_values = values.get("criteria") or {}
    comparison = assignment.comparison
    project = comparison.project
    sections = []
    for criterion in project.rubric.criteria.all():
        name = f"criteria.{criterion.key}"
        current = criteria_values.get(criterion.key)
        section = Section(
            field=name,
            key=criterion.key,
            label=criterion.label,
            description=criterion.description,
            kind=criterion.kind,
            error=_first(errors, name),
        )
        if criterion.kind == CriterionKind.COMPARE:
            section.rows.append(
                Row(
                    name=name,
                    legend=criterion.label,
                    options=[
                        Option(value, label, key, checked=current == value)
                        for value, label, key in COMPARE_OPTIONS
                    ],
                )
            )
        else:
            scores = current if isinstance(current, dict) else {}
            for side, side_label in SIDES:
                section.rows.append(
                    Row(
                        name=f"{name}.{side}",
                        legend=side_label,
                        options=[
                            Option(str(n), str(n), str(n), checked=scores.get(side) == n)
                            for n in range(criterion.scale_min, criterion.scale_max + 1)
                        ],
                    )
                )
        sections.append(section)
    overall = Row(
        name="choice",
        legend="Overall, which response is better?",
        options=[
            Option(value, label, key, checked=values.get("choice") == value)
            for value, label, key in OVERALL_OPTIONS
        ],
    )
    strength = Row(
        name="strength",
        legend="How much better?",
        options=[
            Option(str(value), label, key, checked=values.get("strength") == value)
            for value, label, key in STRENGTH_OPTIONS
        ],
    )
    known = {s.field for s in sections} | {"choice", "strength", "rationale"}
    other_errors = [
        str(message)
        for name, messages in errors.items()
        if name not in known
        for message in messages
    ]
    responses = [
        {"side": side, "label": label, "html": render_markdown(assignment.response_on(side).text)}
        for side, label in SIDES
    ]
    transcript = [
        {
            "role": str(message.get("role", "user")),
            "role_label": ROLE_LABELS.get(str(message.get("role")), str(message.get("role"))),
            "html": render_markdown(str(message.get("content", ""))),
        }
        for message in comparison.prompt.messages
        if isinstance(message, dict)
    ]
    return {
        "assignment": assignment,
        "transcript": transcript,
        "responses": responses,
        "sections": sections,
        "overall": overall,
        "overall_error": _first(errors, "choice"),
        "strength": strength,
        "strength_error": _first(errors, "strength"),
        "strength_disabled": values.get("choice") == "tie",
        "rationale": values.get("rationale", ""),
        "rationale_error": _first(errors, "rationale"),
        "other_errors": other_errors,
        "idempotency_key": idempotency_key or uuid.uuid4().hex,
        "shown_at": sign_shown_at(assignment),
    }


def _int_or_raw(value: str | None) -> Any:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        return value  # left for the service to reject with its own message


def parse_form(post, assignment: Assignment) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a plain form post into ``judgment_submit`` arguments (display terms).

    Returns ``(arguments, values)``: ``values`` is what to show again if the service
    rejects the post (a half-answered rating keeps its one score there, while the
    arguments leave the criterion out so that the message is "Answer …"). A strength
    left selected when the annotator switched to a tie is dropped: the script disables
    those radios, a page without script cannot.
    """
    criteria: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    for criterion in assignment.comparison.project.rubric.criteria.all():
        name = f"criteria.{criterion.key}"
        if criterion.kind == CriterionKind.COMPARE:
            if post.get(name):
                criteria[criterion.key] = shown[criterion.key] = post.get(name)
        else:
            scores = {side: _int_or_raw(post.get(f"{name}.{side}")) for side, _ in SIDES}
            shown[criterion.key] = scores
            if None not in scores.values():
                criteria[criterion.key] = scores
    choice = post.get("choice") or None
    strength = None if choice == "tie" else _int_or_raw(post.get("strength"))
    arguments = {
        "choice": choice,
        "strength": strength,
        "criteria": criteria,
        "rationale": post.get("rationale", ""),
        "seconds": seconds_since(post.get("shown_at", ""), assignment),
    }
    return arguments, {**arguments, "criteria": shown}


def parse_json(body: Any) -> dict[str, Any]:
    """Read the script's JSON body into ``judgment_submit`` arguments (display terms)."""
    return {
        "choice": body.get("choice"),
        "strength": body.get("strength"),
        "criteria": body.get("criteria"),
        "rationale": body.get("rationale", ""),
        "seconds": body.get("seconds"),
    }
