"""Judgments: validate an annotator's answer in display terms, store it in canonical terms.

Annotators answer "left" / "right" / "tie"; which of a / b was on the left is the
assignment's ``shown_left``. Everything stored is canonical (a / b) so analyses never
need to know the display order, which is stored alongside for the position term.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Comparison,
    CriterionAnswer,
    CriterionKind,
    Judgment,
    JudgmentSource,
    Project,
)

DISPLAY_CHOICES = ("left", "right", "tie")
MAX_RATIONALE = 20_000


class JudgmentConflict(Exception):
    """The judgment cannot be accepted in the current state (HTTP 409)."""


@dataclass(frozen=True)
class CheckedJudgment:
    """A validated judgment in canonical terms, ready to write."""

    choice: str
    strength: int | None
    answers: list[dict[str, Any]]
    rationale: str
    seconds: float | None


def to_canonical(display: str, shown_left: str) -> str:
    """Map "left"/"right"/"tie" to "a"/"b"/"tie" given which response was on the left."""
    if display == "tie":
        return "tie"
    shown_right = "b" if shown_left == "a" else "a"
    return shown_left if display == "left" else shown_right


def to_display(canonical: str, shown_left: str) -> str:
    """The inverse of ``to_canonical``."""
    if canonical == "tie":
        return "tie"
    return "left" if canonical == shown_left else "right"


def judgment_check(
    *,
    assignment: Assignment,
    choice: Any,
    strength: Any = None,
    criteria: Any = None,
    rationale: Any = "",
    seconds: Any = None,
) -> CheckedJudgment:
    """Validate a judgment in display terms; raise ``ValidationError`` naming each field."""
    errors: dict[str, list[str]] = {}
    shown_left = assignment.shown_left
    if choice not in DISPLAY_CHOICES:
        errors["choice"] = ["Choose left, right or tie."]
    if choice == "tie":
        if strength not in (None, ""):
            errors["strength"] = ["A tie has no strength."]
        strength = None
    elif choice in ("left", "right"):
        if strength in (None, ""):
            errors["strength"] = ["Say how much better: 1 slightly, 2 clearly, 3 much."]
        elif isinstance(strength, bool) or not isinstance(strength, int) or not 1 <= strength <= 3:
            errors["strength"] = ["Strength must be 1, 2 or 3."]
    answers: list[dict[str, Any]] = []
    criteria = {} if criteria is None else criteria
    if not isinstance(criteria, dict):
        errors["criteria"] = ["Expected an object keyed by criterion."]
        criteria = {}
    rubric_criteria = list(assignment.comparison.project.rubric.criteria.all())
    known = {c.key for c in rubric_criteria}
    for key in sorted(set(criteria) - known):
        errors[f"criteria.{key}"] = ["Unknown criterion for this rubric."]
    for criterion in rubric_criteria:
        field = f"criteria.{criterion.key}"
        value = criteria.get(criterion.key)
        if value is None:
            errors[field] = [f"Answer “{criterion.label}”."]
            continue
        if criterion.kind == CriterionKind.COMPARE:
            if value not in DISPLAY_CHOICES:
                errors[field] = ["Choose left, right or tie."]
                continue
            answers.append({"criterion": criterion, "choice": to_canonical(value, shown_left)})
        else:
            lo, hi = criterion.scale_min, criterion.scale_max
            if not isinstance(value, dict) or set(value) != {"left", "right"}:
                errors[field] = ['Give a score for each response: {"left": n, "right": m}.']
                continue
            bad = [
                side
                for side in ("left", "right")
                if isinstance(value[side], bool)
                or not isinstance(value[side], int)
                or not lo <= value[side] <= hi
            ]
            if bad:
                errors[field] = [f"Scores must be whole numbers from {lo} to {hi}."]
                continue
            by_side = {to_canonical(s, shown_left): value[s] for s in ("left", "right")}
            answers.append(
                {
                    "criterion": criterion,
                    "score_a": by_side["a"],
                    "score_b": by_side["b"],
                }
            )
    if rationale is None:
        rationale = ""
    if not isinstance(rationale, str):
        errors["rationale"] = ["Expected text."]
    elif len(rationale) > MAX_RATIONALE:
        errors["rationale"] = [f"At most {MAX_RATIONALE} characters."]
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            errors["seconds"] = ["Expected a number of seconds."]
        elif not 0 <= seconds < 7 * 24 * 3600:
            errors["seconds"] = ["Seconds must be between 0 and a week."]
    if errors:
        raise ValidationError(errors)
    return CheckedJudgment(
        choice=to_canonical(choice, shown_left),
        strength=strength,
        answers=answers,
        rationale=rationale.replace("\x00", ""),
        seconds=float(seconds) if seconds is not None else None,
    )


def _same_content(judgment: Judgment, checked: CheckedJudgment) -> bool:
    stored = {a.criterion_id: (a.choice, a.score_a, a.score_b) for a in judgment.answers.all()}
    wanted = {
        a["criterion"].pk: (a.get("choice", ""), a.get("score_a"), a.get("score_b"))
        for a in checked.answers
    }
    return (
        judgment.choice == checked.choice
        and judgment.strength == checked.strength
        and judgment.rationale == checked.rationale
        and stored == wanted
    )


def judgment_submit(
    *,
    assignment: Assignment,
    annotator,
    choice: Any,
    strength: Any = None,
    criteria: Any = None,
    rationale: Any = "",
    seconds: Any = None,
    idempotency_key: str = "",
    source: str = JudgmentSource.API,
) -> tuple[Judgment, bool]:
    """Store an annotator's judgment of their assignment; return ``(judgment, created)``.

    Idempotent: the same ``idempotency_key``, or the same content for an assignment that
    is already judged, returns the stored judgment with ``created=False``. A different
    judgment for a judged assignment, a key reused for another assignment, an assignment
    that is not the annotator's, or a comparison that already has ``overlap`` judgments
    raise ``JudgmentConflict``. Invalid input raises ``ValidationError`` keyed by field.
    """
    if assignment.annotator_id != annotator.pk:
        raise JudgmentConflict("This assignment belongs to another annotator.")
    checked = judgment_check(
        assignment=assignment,
        choice=choice,
        strength=strength,
        criteria=criteria,
        rationale=rationale,
        seconds=seconds,
    )
    idempotency_key = (idempotency_key or "")[:200]
    try:
        with transaction.atomic():
            return _write(assignment, annotator, checked, idempotency_key, source)
    except IntegrityError:
        # A concurrent twin (double click, retry) committed first: answer as it was answered.
        existing = Judgment.objects.filter(assignment=assignment).first()
        if existing is not None and _same_content(existing, checked):
            return existing, False
        raise JudgmentConflict("This comparison was already judged differently.") from None


def _write(
    assignment: Assignment, annotator, checked: CheckedJudgment, key: str, source: str
) -> tuple[Judgment, bool]:
    """Write inside a transaction; holds the assignment and comparison row locks."""
    if key:
        keyed = Judgment.objects.filter(annotator=annotator, idempotency_key=key).first()
        if keyed is not None:
            if keyed.assignment_id != assignment.pk:
                raise JudgmentConflict("This Idempotency-Key was used for another assignment.")
            return keyed, False
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if locked.status == AssignmentStatus.COMPLETED:
        existing = Judgment.objects.get(assignment=locked)
        if _same_content(existing, checked):
            return existing, False
        raise JudgmentConflict("This comparison was already judged differently.")
    if locked.status == AssignmentStatus.SKIPPED:
        raise JudgmentConflict("This comparison was skipped.")
    comparison = Comparison.objects.select_for_update().get(pk=locked.comparison_id)
    overlap = Project.objects.values_list("overlap", flat=True).get(pk=comparison.project_id)
    if comparison.n_judgments >= overlap:
        raise JudgmentConflict("This comparison already has all the judgments it needs.")
    judgment = Judgment.objects.create(
        comparison=comparison,
        assignment=locked,
        annotator=annotator,
        rubric_id=_rubric_id(comparison),
        choice=checked.choice,
        strength=checked.strength,
        rationale=checked.rationale,
        shown_left=locked.shown_left,
        seconds=checked.seconds,
        source=source,
        idempotency_key=key,
        created_at=timezone.now(),
    )
    CriterionAnswer.objects.bulk_create(
        CriterionAnswer(
            judgment=judgment,
            criterion=a["criterion"],
            choice=a.get("choice", ""),
            score_a=a.get("score_a"),
            score_b=a.get("score_b"),
            scale_min=a["criterion"].scale_min,
            scale_max=a["criterion"].scale_max,
        )
        for a in checked.answers
    )
    was_reserved = locked.status == AssignmentStatus.RESERVED
    Comparison.objects.filter(pk=comparison.pk).update(
        n_judgments=F("n_judgments") + 1,
        n_reserved=F("n_reserved") - 1 if was_reserved else F("n_reserved"),
    )
    locked.status = AssignmentStatus.COMPLETED
    locked.save(update_fields=["status", "updated_at"])
    return judgment, True


def _rubric_id(comparison: Comparison) -> int:
    return Project.objects.values_list("rubric_id", flat=True).get(pk=comparison.project_id)
