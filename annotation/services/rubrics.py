"""Rubrics: load a spec from JSON/YAML, create, and revise with versioning.

A rubric spec is ``{"name": ..., "description": ..., "criteria": [{"key", "label",
"description", "kind": "compare" | "rating", "scale": [min, max]}]}``. Revising a rubric
that already has judgments creates a new version (and moves its projects to it) instead
of changing what old answers meant.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from annotation.models import Criterion, CriterionKind, Rubric

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def rubric_spec_load(path: str | Path) -> dict[str, Any]:
    """Read a rubric spec from a ``.json``, ``.yaml`` or ``.yml`` file and validate it."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read rubric file ({exc.strerror})") from exc
    try:
        if path.suffix.lower() in {".yaml", ".yml"}:
            spec = yaml.safe_load(raw)
        else:
            spec = json.loads(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(f"{path}: not valid {path.suffix.lstrip('.')}: {exc}") from exc
    return rubric_spec_check(spec, source=str(path))


def rubric_spec_check(spec: Any, *, source: str = "rubric") -> dict[str, Any]:
    """Validate a rubric spec and return it normalised; errors name the field."""
    errors: list[str] = []
    if not isinstance(spec, dict):
        raise ValidationError(f"{source}: expected an object with 'name' and 'criteria'")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{source}: name: required, a non-empty string")
    criteria = spec.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        errors.append(f"{source}: criteria: required, a non-empty list")
        criteria = []
    normalised, seen = [], set()
    for i, item in enumerate(criteria):
        where = f"{source}: criteria[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: expected an object")
            continue
        key = item.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            errors.append(f"{where}.key: required, lowercase letters, digits, - or _")
        elif key in seen:
            errors.append(f"{where}.key: duplicate key {key!r}")
        seen.add(key)
        kind = item.get("kind", CriterionKind.COMPARE)
        if kind not in CriterionKind.values:
            errors.append(f"{where}.kind: must be 'compare' or 'rating', not {kind!r}")
        scale = item.get("scale")
        if kind == CriterionKind.RATING:
            if (
                not isinstance(scale, list)
                or len(scale) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
                or scale[0] >= scale[1]
            ):
                errors.append(f"{where}.scale: a rating needs [min, max] integers, min < max")
                scale = None
        elif scale is not None:
            errors.append(f"{where}.scale: only 'rating' criteria have a scale")
        label = item.get("label") or (key.replace("_", " ").title() if isinstance(key, str) else "")
        normalised.append(
            {
                "key": key,
                "label": str(label),
                "description": str(item.get("description") or ""),
                "kind": kind,
                **({"scale": list(scale)} if kind == CriterionKind.RATING and scale else {}),
            }
        )
    if errors:
        raise ValidationError(errors)
    return {
        "name": name.strip(),
        "description": str(spec.get("description") or ""),
        "criteria": normalised,
    }


def rubric_spec(rubric: Rubric) -> dict[str, Any]:
    """The spec of an existing rubric (the inverse of ``rubric_create``)."""
    criteria = []
    for c in rubric.criteria.all():
        item = {"key": c.key, "label": c.label, "description": c.description, "kind": c.kind}
        if c.kind == CriterionKind.RATING:
            item["scale"] = [c.scale_min, c.scale_max]
        criteria.append(item)
    return {"name": rubric.name, "description": rubric.description, "criteria": criteria}


def _create_criteria(rubric: Rubric, criteria: list[dict[str, Any]]) -> None:
    Criterion.objects.bulk_create(
        Criterion(
            rubric=rubric,
            key=c["key"],
            label=c["label"],
            description=c["description"],
            kind=c["kind"],
            scale_min=c["scale"][0] if "scale" in c else None,
            scale_max=c["scale"][1] if "scale" in c else None,
            position=i,
        )
        for i, c in enumerate(criteria)
    )


@transaction.atomic
def rubric_create(*, spec: dict[str, Any]) -> Rubric:
    """Create a rubric from a spec; an existing name with the same criteria is reused.

    A name that exists with different criteria gets a new version, so importing an
    edited file never changes what existing answers mean.
    """
    spec = rubric_spec_check(spec)
    latest = Rubric.objects.filter(name=spec["name"]).order_by("-version").first()
    if latest is not None:
        if rubric_spec(latest)["criteria"] == spec["criteria"]:
            return latest
        return rubric_revise(rubric=latest, spec=spec)
    rubric = Rubric.objects.create(name=spec["name"], description=spec["description"])
    _create_criteria(rubric, spec["criteria"])
    return rubric


@transaction.atomic
def rubric_revise(*, rubric: Rubric, spec: dict[str, Any]) -> Rubric:
    """Apply ``spec`` to ``rubric``: in place when unused, else as a new version.

    Returns the rubric that now holds the spec. When a new version is created, every
    project that used ``rubric`` is moved to it; judgments keep pointing at the version
    they were answered under.
    """
    spec = rubric_spec_check({**spec, "name": spec.get("name") or rubric.name})
    rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
    if not rubric.has_judgments():
        rubric.description = spec["description"]
        rubric.save(update_fields=["description", "updated_at"])
        rubric.criteria.all().delete()
        _create_criteria(rubric, spec["criteria"])
        return rubric
    newest = Rubric.objects.filter(name=rubric.name).order_by("-version").first()
    new = Rubric.objects.create(
        name=rubric.name,
        version=newest.version + 1,
        description=spec["description"],
        previous=newest,
    )
    _create_criteria(new, spec["criteria"])
    rubric.projects.update(rubric=new)
    return new
