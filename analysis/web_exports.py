"""Researcher pages for dataset exports: start one, follow its progress, download the file."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from analysis.models import ExportFormat, ExportKind, ExportSnapshot, JobStatus
from analysis.selectors import export_for_researcher
from analysis.services.exports import FORMS, export_filename, export_snapshot_enqueue
from annotation.selectors import project_for_researcher

EXPORTS_LISTED = 25


class ExportForm(forms.Form):
    """What to export; the options apply at the comparison level to every kind."""

    kind = forms.ChoiceField(choices=ExportKind.choices, initial=ExportKind.JUDGMENTS)
    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.JSONL)
    min_agreement = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Minimum agreement",
        help_text="From 0 to 1: keep comparisons whose top answer has at least this share of "
        "the votes. Empty keeps all.",
    )
    drop_ties = forms.BooleanField(
        required=False,
        label="Drop ties",
        help_text="Leave out comparisons where tie has the most votes.",
    )
    exclude_style_decided = forms.BooleanField(
        required=False,
        label="Leave out style-decided pairs",
        help_text="Comparisons whose majority is the style-heavier response while the rubric "
        "is tied.",
    )
    form = forms.ChoiceField(
        choices=[(f, f) for f in FORMS],
        initial="auto",
        required=False,
        label="DPO form",
        help_text="dpo only. auto: conversational (message lists) when a prompt is a "
        "conversation, else standard (strings).",
    )

    def options(self) -> dict:
        data = self.cleaned_data
        options = {
            "min_agreement": data["min_agreement"],
            "drop_ties": data["drop_ties"],
            "exclude_style_decided": data["exclude_style_decided"],
        }
        if data["kind"] == ExportKind.DPO:
            options["form"] = data["form"] or "auto"
        return options


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The export form and the project's exports with their status and downloads."""
    project = project_for_researcher(slug=slug, user=request.user)
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            snapshot = export_snapshot_enqueue(
                project=project,
                kind=form.cleaned_data["kind"],
                format=form.cleaned_data["format"],
                options=form.options(),
                user=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                name = field if field in form.fields else None
                for error in errors:
                    form.add_error(name, error)
        else:
            _announce(request, snapshot)
            return redirect("export-page", slug=project.slug)
    exports = list(project.exports.select_related("created_by")[:EXPORTS_LISTED])
    context = {
        "project": project,
        "form": form,
        "exports": exports,
        "in_progress": any(e.status in (JobStatus.PENDING, JobStatus.RUNNING) for e in exports),
    }
    return render(request, "analysis/exports.html", context, status=400 if form.errors else 200)


def _announce(request: HttpRequest, snapshot: ExportSnapshot) -> None:
    if snapshot.status == JobStatus.SUCCEEDED:
        messages.success(request, f"Export {snapshot.pk} is ready: {snapshot.row_count} rows.")
    elif snapshot.status == JobStatus.FAILED:
        messages.error(request, f"Export {snapshot.pk} failed: {snapshot.error}")
    else:
        messages.info(
            request,
            f"Export {snapshot.pk} is being written in the background; this page shows its "
            "progress and then its download link.",
        )


@login_required
@require_GET
def export_download(request: HttpRequest, slug: str, export_id: int) -> FileResponse:
    """The export's file, as an attachment."""
    snapshot = export_for_researcher(slug=slug, user=request.user, export_id=export_id)
    return export_file_response(snapshot)


# Registered media types (Parquet: IANA, 2024), so a browser or client knows the file.
CONTENT_TYPES = {
    "jsonl": "application/jsonl",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}


def export_file_response(snapshot: ExportSnapshot) -> FileResponse:
    """The snapshot's stored file as an attachment; ``Http404`` when there is none."""
    if snapshot.status != JobStatus.SUCCEEDED or not snapshot.file:
        raise Http404(f"This export has no file (status: {snapshot.status}).")
    try:
        file = snapshot.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("This export's file is no longer stored.") from exc
    response = FileResponse(
        file,
        as_attachment=True,
        filename=export_filename(snapshot),
        content_type=CONTENT_TYPES[snapshot.format],
    )
    response["X-Content-SHA256"] = snapshot.sha256
    return response
