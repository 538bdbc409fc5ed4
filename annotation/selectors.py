"""Read-side queries: which projects a user may see, progress figures."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Comparison,
    Judgment,
    Membership,
    Project,
    Role,
)


def projects_for_user(user) -> QuerySet[Project]:
    """Projects the user is a member of (any role); staff see every project."""
    if user.is_staff:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()


def user_roles(*, project: Project, user) -> set[str]:
    return set(Membership.objects.filter(project=project, user=user).values_list("role", flat=True))


def project_for_member(*, slug: str, user, role: str | None = None) -> Project:
    """The project ``slug`` if ``user`` has ``role`` in it (any role when None).

    Raises ``Http404`` otherwise, for non-members and for members lacking the role alike,
    so that an id in a URL reveals nothing about projects the user cannot see. Staff may
    open every project as a researcher.
    """
    project = _project(slug)
    if user.is_staff and role in (None, Role.RESEARCHER):
        return project
    roles = user_roles(project=project, user=user)
    if not roles or (role is not None and role not in roles):
        raise Http404("No such project.")
    return project


def _project(slug: str) -> Project:
    project = Project.objects.select_related("rubric").filter(slug=slug).first()
    if project is None:
        raise Http404("No such project.")
    return project


def project_for_researcher(*, slug: str, user) -> Project:
    """The project ``slug`` for its researchers and staff.

    Raises ``PermissionDenied`` (403) for its other members, who know the project exists,
    and ``Http404`` for everyone else (see :func:`project_for_member`).
    """
    project = _project(slug)
    if user.is_staff:
        return project
    roles = user_roles(project=project, user=user)  # one query, not project_for_member's too
    if not roles:
        raise Http404("No such project.")
    if Role.RESEARCHER not in roles:
        raise PermissionDenied("This is for the project's researchers.")
    return project


def assignment_for_annotator(*, assignment_id: int, user) -> Assignment:
    """The annotator's own assignment; 404 for anyone else's."""
    assignment = (
        Assignment.objects.select_related(
            "comparison__project__rubric",
            "comparison__prompt",
            "comparison__response_a",
            "comparison__response_b",
        )
        .filter(pk=assignment_id, annotator=user)
        .first()
    )
    if assignment is None:
        raise Http404("No such assignment.")
    return assignment


def project_progress(*, project: Project) -> dict:
    """Comparisons complete / in progress / waiting, and per-annotator counts."""
    overlap = project.overlap
    counts = Comparison.objects.filter(project=project).aggregate(
        total=Count("id"),
        complete=Count("id", filter=Q(n_judgments__gte=overlap)),
        in_progress=Count(
            "id", filter=Q(n_judgments__lt=overlap) & (Q(n_judgments__gt=0) | Q(n_reserved__gt=0))
        ),
    )
    waiting = counts["total"] - counts["complete"] - counts["in_progress"]
    now = timezone.now()
    per_annotator = []
    judged = dict(
        Judgment.objects.filter(comparison__project=project, annotator__isnull=False)
        .values_list("annotator__username")
        .annotate(n=Count("id"))
    )
    reserved = dict(
        Assignment.objects.filter(
            comparison__project=project, status=AssignmentStatus.RESERVED, expires_at__gt=now
        )
        .values_list("annotator__username")
        .annotate(n=Count("id"))
    )
    skipped = dict(
        Assignment.objects.filter(comparison__project=project, status=AssignmentStatus.SKIPPED)
        .values_list("annotator__username")
        .annotate(n=Count("id"))
    )
    annotators = Membership.objects.filter(project=project, role=Role.ANNOTATOR).values_list(
        "user__username", flat=True
    )
    for name in sorted(set(annotators) | set(judged)):
        per_annotator.append(
            {
                "annotator": name,
                "judgments": judged.get(name, 0),
                "reserved": reserved.get(name, 0),
                "skipped": skipped.get(name, 0),
            }
        )
    external = Judgment.objects.filter(comparison__project=project, annotator__isnull=True).count()
    return {
        "project": project.slug,
        "overlap": overlap,
        "comparisons": counts["total"],
        "complete": counts["complete"],
        "in_progress": counts["in_progress"],
        "waiting": waiting,
        "judgments": sum(judged.values()) + external,
        "imported_judgments": external,
        "per_annotator": per_annotator,
    }


def annotator_progress(*, project: Project, user) -> dict:
    """How many the annotator has judged and roughly how many remain for them."""
    done = Judgment.objects.filter(comparison__project=project, annotator=user).count()
    seen = Assignment.objects.filter(comparison__project=project, annotator=user).values(
        "comparison_id"
    )
    open_for_me = (
        Comparison.objects.filter(project=project, n_judgments__lt=project.overlap)
        .exclude(pk__in=seen)
        .count()
    )
    return {"judged": done, "remaining": open_for_me}
