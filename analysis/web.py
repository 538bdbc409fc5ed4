"""Researcher pages for analysis runs and weekly reports: list, start, read, download."""

from __future__ import annotations

import json

from csp.decorators import csp_replace
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from analysis.features import feature_keys
from analysis.models import AnalysisRun, JobStatus, Report
from analysis.report import report_context
from analysis.selectors import feature_progress
from analysis.services.runs import ALL_FEATURES, CORRECTIONS, DEFAULT_PARAMS, analysis_run_enqueue
from analysis.services.weekly_reports import (
    WeekError,
    report_enqueue,
    report_schedule,
)
from analysis.weekly.weeks import last_completed_week
from annotation.models import Project, Role
from annotation.selectors import project_for_member

RUNS_LISTED = 20


class AnalysisOptionsForm(forms.Form):
    """Optional parameters of a run; initial values come from the latest run."""

    features = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="Style features in the models. Near-duplicates (e.g. length in characters "
        "and in words) share one effect between them and widen its interval; keep one of each.",
    )
    alpha = forms.TypedChoiceField(
        choices=[("0.05", "95%"), ("0.1", "90%"), ("0.01", "99%")],
        coerce=float,
        label="Intervals",
    )
    correction = forms.ChoiceField(
        choices=[(c, c) for c in CORRECTIONS], label="Multiple-comparison correction"
    )

    def __init__(self, *args, latest: AnalysisRun | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        keys = feature_keys()
        self.fields["features"].choices = [(k, k) for k in keys]
        params = {**DEFAULT_PARAMS, **((latest.params or {}) if latest else {})}
        # A run's stored features: None = the default analysis set, "all" = every feature.
        chosen = params.get("features")
        if chosen == ALL_FEATURES:
            chosen = keys
        elif not chosen:
            chosen = settings.TIEBREAK_ANALYSIS_FEATURES
        self.fields["features"].initial = [k for k in keys if k in chosen]
        self.fields["alpha"].initial = f"{params.get('alpha', 0.05):g}"
        self.fields["correction"].initial = params.get("correction", "holm")

    def params(self) -> dict:
        """The run parameters; every feature ticked means "all", the default set means None."""
        data = self.cleaned_data
        features = list(data["features"])
        keys = [k for k, _ in self.fields["features"].choices]
        if set(features) == set(keys):
            stored: list[str] | str | None = ALL_FEATURES
        elif set(features) == set(settings.TIEBREAK_ANALYSIS_FEATURES) & set(keys):
            stored = None
        else:
            stored = features
        return {
            "features": stored,
            "alpha": data["alpha"],
            "correction": data["correction"],
        }


def _researcher_project(request: HttpRequest, slug: str) -> Project:
    return project_for_member(slug=slug, user=request.user, role=Role.RESEARCHER)


def _run(project: Project, run_id: int) -> AnalysisRun:
    run = AnalysisRun.objects.filter(project=project, pk=run_id).first()
    if run is None:
        raise Http404("No such analysis.")
    return run


def _run_context(run: AnalysisRun | None) -> dict:
    if run is None or run.status != JobStatus.SUCCEEDED or not run.result:
        return {}
    return report_context(run.result)


@login_required
@require_http_methods(["GET", "POST"])
def analysis_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Runs of the project, a button that starts one, and the latest finished report."""
    project = _researcher_project(request, slug)
    latest_run = project.analysis_runs.order_by("-created_at", "-pk").first()
    if request.method == "POST":
        # The button alone (no options sent) runs with the defaults.
        form = AnalysisOptionsForm(request.POST, latest=latest_run)
        params = {}
        if "features" in request.POST or "alpha" in request.POST:
            if not form.is_valid():
                messages.error(request, "Check the analysis options: " + form.errors.as_text())
                return redirect("analysis-page", slug=project.slug)
            params = form.params()
        try:
            run = analysis_run_enqueue(project=project, user=request.user, params=params)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return redirect("analysis-page", slug=project.slug)
        if run.status == JobStatus.SUCCEEDED:
            messages.success(request, f"Analysis {run.pk} finished.")
        elif run.status == JobStatus.FAILED:
            messages.error(request, f"Analysis {run.pk} failed: {run.error}")
        else:
            messages.info(
                request, f"Analysis {run.pk} started; this page shows it when it is done."
            )
        return redirect("analysis-run-page", slug=project.slug, run_id=run.pk)
    runs = list(project.analysis_runs.select_related("requested_by")[:RUNS_LISTED])
    latest = (
        project.analysis_runs.filter(status=JobStatus.SUCCEEDED).order_by("-created_at").first()
    )
    context = {
        "project": project,
        "runs": runs,
        "run": latest,
        "features": feature_progress(project=project),
        "form": AnalysisOptionsForm(latest=latest_run),
        "in_progress": any(r.status in (JobStatus.PENDING, JobStatus.RUNNING) for r in runs),
        **_run_context(latest),
    }
    return render(request, "analysis/page.html", context)


@login_required
@require_GET
def analysis_run_page(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """One run: its status, its error, or its report."""
    project = _researcher_project(request, slug)
    run = _run(project, run_id)
    context = {
        "project": project,
        "run": run,
        "in_progress": run.status in (JobStatus.PENDING, JobStatus.RUNNING),
        **_run_context(run),
    }
    return render(request, "analysis/run.html", context)


@login_required
@require_GET
def analysis_run_json(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """The run's result (``AnalysisResult.to_dict()``) as a JSON file download."""
    project = _researcher_project(request, slug)
    run = _run(project, run_id)
    if run.status != JobStatus.SUCCEEDED or run.result is None:
        raise Http404("This analysis has no result.")
    response = HttpResponse(
        json.dumps(run.result, indent=2, ensure_ascii=False, allow_nan=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{project.slug}-analysis-{run.pk}.json"'
    )
    return response


@login_required
@require_GET
def analysis_run_html(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """The standalone report document stored with the run, as a download.

    It carries its own inline stylesheet, so it is served as an attachment (to open from
    disk or send around), never rendered under this site's Content-Security-Policy.
    """
    project = _researcher_project(request, slug)
    run = _run(project, run_id)
    if run.status != JobStatus.SUCCEEDED or not run.html:
        raise Http404("This analysis has no report.")
    response = HttpResponse(run.html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{project.slug}-analysis-{run.pk}.html"'
    )
    return response


# --- Weekly reports ------------------------------------------------------------------------

REPORTS_LISTED = 52

#: The stored report is a complete document with its own inline stylesheet and ``data:``
#: images; it is served under a policy that allows exactly that and nothing else (no
#: script, no other origin), replacing the site-wide one for these responses only.
REPORT_CSP = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:"],
    "script-src": ["'none'"],
}


class ReportWeekForm(forms.Form):
    week = forms.CharField(
        max_length=8,
        label="Week",
        help_text="ISO week, e.g. 2026-W47; weeks run Monday to Sunday in the project's time zone.",
    )


_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _schedule_text(task) -> str:
    """The schedule in words ("every Monday at 06:00, Europe/Berlin"), else as beat prints it."""
    crontab = getattr(task, "crontab", None)
    if crontab is None:
        return str(getattr(task, "interval", "") or "")
    fields = (crontab.minute, crontab.hour, crontab.day_of_week)
    if (
        all(f.isdigit() for f in fields)
        and int(crontab.day_of_week) <= 7
        and (crontab.day_of_month, crontab.month_of_year) == ("*", "*")
    ):
        day = _DAYS[int(crontab.day_of_week) % 7]
        return (
            f"every {day} at {int(crontab.hour):02d}:{int(crontab.minute):02d}, {crontab.timezone}"
        )
    return str(crontab)


def _report(project: Project, week: str) -> Report:
    report = Report.objects.filter(project=project, week=week).first()
    if report is None:
        raise Http404("No report of this week.")
    return report


@login_required
@require_http_methods(["GET", "POST"])
def reports_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's weekly reports, newest first, and a form that generates one."""
    project = _researcher_project(request, slug)
    default_week = last_completed_week(timezone.now(), project.time_zone)
    if request.method == "POST":
        form = ReportWeekForm(request.POST)
        if form.is_valid():
            try:
                report = report_enqueue(project=project, week=form.cleaned_data["week"])
            except WeekError as exc:
                messages.error(request, f"Week: {exc}")
                return redirect("weekly-reports", slug=project.slug)
            if report.status == JobStatus.SUCCEEDED:
                messages.success(request, f"Report {report.week} generated.")
            elif report.status == JobStatus.FAILED:
                messages.error(request, f"Report {report.week} failed: {report.error}")
            else:
                messages.info(request, f"Report {report.week} is being generated.")
            return redirect("weekly-reports", slug=project.slug)
        messages.error(request, "Week: " + "; ".join(form.errors.get("week", [])))
        return redirect("weekly-reports", slug=project.slug)
    reports = list(project.reports.order_by("-period_start")[:REPORTS_LISTED])
    schedule = report_schedule(project=project)
    context = {
        "project": project,
        "reports": reports,
        "form": ReportWeekForm(initial={"week": default_week}),
        "default_week": default_week,
        "schedule": schedule,
        "schedule_text": _schedule_text(schedule),
        "in_progress": any(r.status in (JobStatus.PENDING, JobStatus.RUNNING) for r in reports),
    }
    return render(request, "analysis/reports.html", context)


@csp_replace(REPORT_CSP)
@login_required
@require_GET
def report_page(request: HttpRequest, slug: str, week: str) -> HttpResponse:
    """One week's report: the stored self-contained document itself."""
    project = _researcher_project(request, slug)
    report = _report(project, week)
    if not report.html:
        raise Http404("This report is still being generated.")
    return HttpResponse(report.html, content_type="text/html; charset=utf-8")


@login_required
@require_GET
def report_download(request: HttpRequest, slug: str, week: str) -> HttpResponse:
    """The stored document as a file download (to keep, print or forward)."""
    project = _researcher_project(request, slug)
    report = _report(project, week)
    if not report.html:
        raise Http404("This report is still being generated.")
    response = HttpResponse(report.html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{project.slug}-report-{report.week}.html"'
    )
    return response
