"""API routes for analysis (feature progress, analysis runs)."""

from django.urls import path

from analysis.api.analyses import AnalysisRunDetailView, ProjectAnalysesView
from analysis.api.features import FeatureProgressView

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
]
