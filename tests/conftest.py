"""Shared fixtures: users, projects with members, API clients."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotation.models import Role
from tests.factories import ComparisonFactory, MembershipFactory, ProjectFactory, UserFactory


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
