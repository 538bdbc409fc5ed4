"""What the management commands share: finding the project a command names."""

from __future__ import annotations

from django.core.management.base import CommandError

from annotation.models import Project


def project_from_slug(slug: str) -> Project:
    """The project ``slug`` (with its rubric); ``CommandError`` when there is none."""
    project = Project.objects.select_related("rubric").filter(slug=slug).first()
    if project is None:
        raise CommandError(f"No project with slug {slug!r}.")
    return project
