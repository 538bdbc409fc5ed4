"""Web routes for analysis pages."""

from django.urls import path, re_path

from analysis import web, web_exports

urlpatterns = [
    path("p/<slug:slug>/analysis/", web.analysis_page, name="analysis-page"),
    path("p/<slug:slug>/analysis/<int:run_id>/", web.analysis_run_page, name="analysis-run-page"),
    path(
        "p/<slug:slug>/analysis/<int:run_id>.json", web.analysis_run_json, name="analysis-run-json"
    ),
    path(
        "p/<slug:slug>/analysis/<int:run_id>.html", web.analysis_run_html, name="analysis-run-html"
    ),
    path("p/<slug:slug>/exports/", web_exports.export_page, name="export-page"),
    path(
        "p/<slug:slug>/exports/<int:export_id>/download/",
        web_exports.export_download,
        name="export-download",
    ),
]

# Weekly bias reports (the week is an ISO week label such as 2026-W47).
urlpatterns += [
    path("p/<slug:slug>/reports/", web.reports_page, name="weekly-reports"),
    re_path(
        r"^p/(?P<slug>[-a-zA-Z0-9_]+)/reports/(?P<week>\d{4}-W\d{2})/$",
        web.report_page,
        name="weekly-report",
    ),
    re_path(
        r"^p/(?P<slug>[-a-zA-Z0-9_]+)/reports/(?P<week>\d{4}-W\d{2})\.html$",
        web.report_download,
        name="weekly-report-download",
    ),
]
