"""Web views for annotators and researchers: parse input, call services, render.

The annotation page is server-rendered and works as a plain form without script. With
script, ``annotate.js`` posts the same form as JSON to the same URL and swaps in the
next pair that the response carries, so a submit costs one round trip.
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analysis.selectors import feature_progress
from annotation.models import Assignment, ImportRun, JudgmentSource, Project, Role
from annotation.selectors import (
    annotator_progress,
    assignment_for_annotator,
    project_for_member,
    project_progress,
    projects_for_user,
    user_roles,
)
from annotation.services.assignment import NotAMember, assignment_next, assignment_skip
from annotation.services.imports import (
    ImportFailed,
    ImportResult,
    import_enqueue,
    import_file,
    import_should_queue,
)
from annotation.services.judgments import JudgmentConflict, judgment_submit
from annotation.web.forms import ImportForm
from annotation.web.markdown import render_markdown
from annotation.web.workspace import build_workspace, parse_form, parse_json

WORKSPACE_TEMPLATE = "annotation/_workspace.html"


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.content_type == "application/json" or "application/json" in accept


def login_required_json(view):
    """``login_required``, except that a script gets a 401 it can explain, not a login page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if _wants_json(request):
            return JsonResponse(
                {"detail": "Your session has ended. Log in again in another tab, then retry."},
                status=401,
            )
        return redirect_to_login(request.get_full_path())

    return wrapped


def _optional_url(name: str, *args: Any) -> str | None:
    """The URL of a page another module may not have shipped yet; None if it has not."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- Everyone -----------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The user's projects, with their role and, for annotators, their progress."""
    rows = []
    for project in projects_for_user(request.user).select_related("rubric"):
        roles = user_roles(project=project, user=request.user)
        rows.append(
            {
                "project": project,
                "is_annotator": Role.ANNOTATOR in roles,
                "is_researcher": Role.RESEARCHER in roles or request.user.is_staff,
                "progress": (
                    annotator_progress(project=project, user=request.user)
                    if Role.ANNOTATOR in roles
                    else None
                ),
            }
        )
    return render(request, "annotation/home.html", {"rows": rows})


@login_required
@require_GET
def guidelines(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_for_member(slug=slug, user=request.user)
    roles = user_roles(project=project, user=request.user)
    return render(
        request,
        "annotation/guidelines.html",
        {
            "project": project,
            "guidelines_html": render_markdown(project.guidelines),
            "is_annotator": Role.ANNOTATOR in roles,
        },
    )


# --- Annotators ---------------------------------------------------------------------------


def _annotator_project(request: HttpRequest, slug: str) -> Project:
    return project_for_member(slug=slug, user=request.user, role=Role.ANNOTATOR)


def _own_assignment(request: HttpRequest, project: Project, assignment_id: int) -> Assignment:
    assignment = assignment_for_annotator(assignment_id=assignment_id, user=request.user)
    if assignment.comparison.project_id != project.pk:
        raise Http404("No such assignment.")
    return assignment


def _next(project: Project, user) -> Assignment | None:
    try:
        return assignment_next(project=project, annotator=user)
    except NotAMember:  # the membership was removed since the page was opened
        raise Http404("No such project.") from None


def _workspace_context(
    request: HttpRequest, project: Project, assignment: Assignment | None, **kwargs: Any
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "project": project,
        "progress": annotator_progress(project=project, user=request.user),
        "assignment": assignment,
    }
    if assignment is not None:
        context.update(build_workspace(assignment, **kwargs))
    return context


def _render_annotate(
    request: HttpRequest,
    project: Project,
    assignment: Assignment | None,
    *,
    status: int = 200,
    **kwargs: Any,
) -> HttpResponse:
    context = _workspace_context(request, project, assignment, **kwargs)
    context["guidelines_html"] = render_markdown(project.guidelines)
    return render(request, "annotation/annotate.html", context, status=status)


def _next_fragment(request: HttpRequest, project: Project) -> str:
    assignment = _next(project, request.user)
    context = _workspace_context(request, project, assignment)
    return render_to_string(WORKSPACE_TEMPLATE, context, request=request)


@login_required
@require_GET
def annotate(request: HttpRequest, slug: str) -> HttpResponse:
    """The annotator's current pair (a reload shows the same one), or "all done"."""
    project = _annotator_project(request, slug)
    return _render_annotate(request, project, _next(project, request.user))


@login_required_json
@require_POST
def annotate_submit(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    """Store a judgment; JSON for the script (with the next pair), a redirect for forms.

    The idempotency key comes with the rendered form (or the ``Idempotency-Key``
    header), so a double click or a retried request returns the judgment already stored.
    """
    project = _annotator_project(request, slug)
    assignment = _own_assignment(request, project, assignment_id)
    as_json = request.content_type == "application/json"
    if as_json:
        try:
            body = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return JsonResponse({"errors": {"__all__": ["Expected a JSON object."]}}, status=400)
        arguments = parse_json(body)
        values = arguments
        key = request.headers.get("Idempotency-Key") or str(body.get("idempotency_key") or "")
    else:
        arguments, values = parse_form(request.POST, assignment)
        key = request.POST.get("idempotency_key", "")
    try:
        judgment, created = judgment_submit(
            assignment=assignment,
            annotator=request.user,
            idempotency_key=key,
            source=JudgmentSource.UI,
            **arguments,
        )
    except ValidationError as exc:
        errors = exc.message_dict
        if as_json:
            return JsonResponse({"errors": errors}, status=400)
        return _render_annotate(
            request,
            project,
            assignment,
            status=400,
            values=values,
            errors=errors,
            idempotency_key=key,
        )
    except JudgmentConflict as exc:
        if as_json:
            return JsonResponse({"detail": str(exc)}, status=409)
        return _render_annotate(
            request,
            project,
            assignment,
            status=409,
            values=values,
            errors={"__all__": [str(exc)]},
            idempotency_key=key,
        )
    if as_json:
        return JsonResponse(
            {
                "status": "created" if created else "replayed",
                "judgment": judgment.pk,
                "next_html": _next_fragment(request, project),
            },
            status=201 if created else 200,
        )
    messages.success(request, "Saved. Here is the next pair.")
    return redirect("annotate", slug=project.slug)


@login_required_json
@require_POST
def annotate_skip(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    """Give the pair back; it will not be offered to this annotator again."""
    project = _annotator_project(request, slug)
    assignment = _own_assignment(request, project, assignment_id)
    assignment_skip(assignment=assignment, annotator=request.user)
    if _wants_json(request):
        return JsonResponse({"status": "skipped", "next_html": _next_fragment(request, project)})
    messages.info(request, "Skipped. Here is the next pair.")
    return redirect("annotate", slug=project.slug)


# --- Researchers --------------------------------------------------------------------------


def _import_summary(result: ImportResult) -> str:
    parts = [
        f"{result.n_records} records ({result.format})",
        f"{result.n_comparisons_created} new comparisons",
        f"{result.n_comparisons_existing} already present",
        f"{result.n_judgments_created} judgments imported",
    ]
    if result.n_judgments_existing:
        parts.append(f"{result.n_judgments_existing} judgments already present")
    if result.n_skipped:
        parts.append(f"{result.n_skipped} skipped")
    return ", ".join(parts)


def _queued_import_response(request: HttpRequest, project: Project, run: ImportRun):
    """Redirect after queueing a large upload, saying where it stands (eager Celery, the
    embedded default, has finished it already)."""
    run.refresh_from_db()
    if run.status == ImportRun.Status.SUCCEEDED:
        messages.success(
            request,
            f"Imported {run.filename}: {run.n_comparisons_created} new comparisons, "
            f"{run.n_comparisons_existing} already present, "
            f"{run.n_judgments_created} judgments imported.",
        )
    elif run.status == ImportRun.Status.FAILED:
        messages.error(request, f"Nothing was imported from {run.filename}: see Recent imports.")
    else:
        messages.info(
            request,
            f"{run.filename} is large, so it is being imported in the background. "
            "Recent imports shows its status; reload the page to update it.",
        )
    return redirect("dashboard", slug=project.slug)


@login_required
@require_http_methods(["GET", "POST"])
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """Progress, imports and links for a project's researchers."""
    project = project_for_member(slug=slug, user=request.user, role=Role.RESEARCHER)
    import_errors = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if import_should_queue(upload):
                run = import_enqueue(
                    project=project,
                    upload=upload,
                    format=form.cleaned_data["format"],
                    user=request.user,
                )
                return _queued_import_response(request, project, run)
            try:
                result = import_file(
                    project=project,
                    path_or_fileobj=upload,
                    format=form.cleaned_data["format"],
                    user=request.user,
                    filename=upload.name,
                )
            except ImportFailed as exc:
                import_errors = exc.errors
                status = 400
            else:
                messages.success(request, f"Imported {upload.name}: {_import_summary(result)}.")
                if result.n_warnings:
                    shown = "; ".join(str(w) for w in result.warnings[:3])
                    more = " …" if result.n_warnings > 3 else ""
                    messages.warning(request, f"{result.n_warnings} warnings: {shown}{more}")
                return redirect("dashboard", slug=project.slug)
        else:
            status = 400
    else:
        form = ImportForm()
    context = {
        "project": project,
        "progress": project_progress(project=project),
        "features": feature_progress(project=project),
        "form": form,
        "import_errors": import_errors,
        "recent_imports": project.imports.all()[:5],
        "analysis_url": _optional_url("analysis-page", project.slug),
        "export_url": _optional_url("export-page", project.slug),
        "admin_project_url": _optional_url("admin:annotation_project_change", project.pk),
        "admin_rubric_url": _optional_url("admin:annotation_rubric_change", project.rubric_id),
    }
    return render(request, "annotation/dashboard.html", context, status=status)
