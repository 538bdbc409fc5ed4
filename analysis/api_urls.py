"""API routes for analysis (feature progress, analysis runs)."""

from django.urls import path, re_path

from analysis.api.analyses import AnalysisRunDetailView, ProjectAnalysesView
from analysis.api.exports import ExportDetailView, ExportDownloadView, ProjectExportsView
from analysis.api.features import FeatureProgressView
from analysis.api.reports import ProjectReportsView, ReportDetailView

urlpatterns = [
    path(
        "projects/<slug:slug>/features/progress/",
        FeatureProgressView.as_view(),
        name="api-feature-progress",
    ),
    path(
        "projects/<slug:slug>/analyses/",
        ProjectAnalysesView.as_view(),
        name="api-project-analyses",
    ),
    path("analyses/<int:run_id>/", AnalysisRunDetailView.as_view(), name="api-analysis-detail"),
    path("projects/<slug:slug>/exports/", ProjectExportsView.as_view(), name="api-project-exports"),
    path(
        "projects/<slug:slug>/exports/<int:export_id>/",
        ExportDetailView.as_view(),
        name="api-export-detail",
    ),
    path(
        "projects/<slug:slug>/exports/<int:export_id>/download/",
        ExportDownloadView.as_view(),
        name="api-export-download",
    ),
]

# Weekly bias reports (the week is an ISO week label such as 2026-W47).
urlpatterns += [
    path(
        "projects/<slug:slug>/reports/",
        ProjectReportsView.as_view(),
        name="api-project-reports",
    ),
    re_path(
        r"^projects/(?P<slug>[-a-zA-Z0-9_]+)/reports/(?P<week>\d{4}-W\d{2})/$",
        ReportDetailView.as_view(),
        name="api-report-detail",
    ),
]
