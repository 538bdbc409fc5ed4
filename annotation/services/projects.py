"""Projects and memberships."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from annotation.models import Membership, Project, Role
from annotation.services.rubrics import rubric_create


@transaction.atomic
def project_create(
    *,
    slug: str,
    name: str,
    rubric_spec: dict[str, Any],
    overlap: int = 1,
    guidelines: str = "",
    reservation_minutes: int | None = None,
) -> Project:
    """Create a project and its rubric (reusing an identical existing rubric version), and
    schedule its weekly report."""
    try:
        validate_slug(slug)
    except ValidationError as exc:
        raise ValidationError(
            f"slug: {slug!r} is not a valid slug (letters, digits, -, _)"
        ) from exc
    if Project.objects.filter(slug=slug).exists():
        raise ValidationError(f"slug: a project named {slug!r} already exists")
    if overlap < 1:
        raise ValidationError("overlap: must be at least 1")
    project = Project.objects.create(
        slug=slug,
        name=name,
        rubric=rubric_create(spec=rubric_spec),
        overlap=overlap,
        guidelines=guidelines,
        reservation_minutes=reservation_minutes or settings.TIEBREAK_RESERVATION_MINUTES,
    )
    # Every project gets its weekly bias report schedule (a beat PeriodicTask). Imported
    # here: analysis builds on annotation, not the other way round.
    from analysis.services.weekly_reports import report_schedule_ensure

    report_schedule_ensure(project=project)
    return project


@transaction.atomic
def member_add(
    *, slug: str, username: str, role: str, password: str | None = None
) -> tuple[Membership, bool]:
    """Add ``username`` to project ``slug`` with ``role``; the user is created if needed."""
    if role not in Role.values:
        raise ValidationError(f"role: must be one of {', '.join(Role.values)}")
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise ValidationError(f"slug: no project named {slug!r}")
    user, user_created = get_user_model().objects.get_or_create(username=username)
    if password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    elif user_created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return Membership.objects.get_or_create(project=project, user=user, role=role)
