"""Shared fixtures: users, projects with members, API clients."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotation.models import Role
from tests.factories import ComparisonFactory, MembershipFactory, ProjectFactory, UserFactory

# The broker, workers and beat fixtures for the tests that run real Celery processes.
pytest_plugins = ["tests.celery_processes"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads and export files of a test go to its own folder, not the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def project(db):
    return ProjectFactory(slug="alpha", overlap=2)


@pytest.fixture
def other_project(db):
    return ProjectFactory(slug="beta", overlap=1)


@pytest.fixture
def annotator(project):
    user = UserFactory(username="ann")
    MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)
    return user


@pytest.fixture
def researcher(project):
    user = UserFactory(username="res")
    MembershipFactory(project=project, user=user, role=Role.RESEARCHER)
    return user


@pytest.fixture
def outsider(other_project):
    """An annotator of another project."""
    user = UserFactory(username="outsider")
    MembershipFactory(project=other_project, user=user, role=Role.ANNOTATOR)
    return user


@pytest.fixture
def comparisons(project):
    return [ComparisonFactory(project=project) for _ in range(5)]


def _client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_client_for():
    """Build a token-authenticated API client for a user."""
    return _client_for


DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test that reaches the database through a fixture as ``django_db``.

    The PostgreSQL pass of ``make test`` selects tests with ``-m django_db``; a test that
    only asks for ``db`` through a fixture (e.g. ``project``) must be selected too.
    """
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker(
            "django_db"
        ):
            item.add_marker(pytest.mark.django_db)
