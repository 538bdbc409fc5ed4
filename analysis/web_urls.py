"""Web routes for analysis pages."""

from django.urls import path

from analysis import web

urlpatterns = [
    path("p/<slug:slug>/analysis/", web.analysis_page, name="analysis-page"),
    path("p/<slug:slug>/analysis/<int:run_id>/", web.analysis_run_page, name="analysis-run-page"),
    path(
        "p/<slug:slug>/analysis/<int:run_id>.json", web.analysis_run_json, name="analysis-run-json"
    ),
    path(
        "p/<slug:slug>/analysis/<int:run_id>.html", web.analysis_run_html, name="analysis-run-html"
    ),
]
