"""Web routes for annotators and researchers."""

from django.contrib.auth import views as auth_views
from django.urls import path

from annotation.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("p/<slug:slug>/guidelines/", views.guidelines, name="guidelines"),
    path("p/<slug:slug>/annotate/", views.annotate, name="annotate"),
    path(
        "p/<slug:slug>/annotate/<int:assignment_id>/judgment/",
        views.annotate_submit,
        name="annotate-submit",
    ),
    path(
        "p/<slug:slug>/annotate/<int:assignment_id>/skip/",
        views.annotate_skip,
        name="annotate-skip",
    ),
    path("p/<slug:slug>/dashboard/", views.dashboard, name="dashboard"),
]
