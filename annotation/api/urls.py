"""API routes for annotation."""

from django.urls import path

from annotation.api import views
from annotation.api.imports import ImportRunView, ImportView

urlpatterns = [
    path("projects/", views.ProjectListView.as_view(), name="api-projects"),
    path("projects/<slug:slug>/", views.ProjectDetailView.as_view(), name="api-project"),
    path(
        "projects/<slug:slug>/next-assignment/",
        views.NextAssignmentView.as_view(),
        name="api-next-assignment",
    ),
    path("projects/<slug:slug>/progress/", views.ProgressView.as_view(), name="api-progress"),
    path(
        "assignments/<int:assignment_id>/judgment/",
        views.JudgmentView.as_view(),
        name="api-judgment",
    ),
    path("assignments/<int:assignment_id>/skip/", views.SkipView.as_view(), name="api-skip"),
    path("projects/<slug:slug>/imports/", ImportView.as_view(), name="api-imports"),
    path(
        "projects/<slug:slug>/imports/<int:run_id>/",
        ImportRunView.as_view(),
        name="api-import",
    ),
]
