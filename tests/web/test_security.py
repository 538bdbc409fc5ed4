"""Who may open which page, and the security headers every page carries."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from annotation.models import Assignment, Judgment, Role
from annotation.services.assignment import assignment_next
from tests.factories import ComparisonFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _project_pages(slug):
    return [
        reverse("annotate", args=[slug]),
        reverse("guidelines", args=[slug]),
        reverse("dashboard", args=[slug]),
    ]


def test_anonymous_users_are_sent_to_login(client, project):
    for url in [reverse("home"), *_project_pages(project.slug)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_annotator_of_another_project_gets_404_everywhere(
    login, outsider, project, annotator, comparisons
):
    client = login(outsider)
    for url in _project_pages(project.slug):
        assert client.get(url).status_code == 404, url
    # Nor can they act on an assignment of that project, even one they guess.
    assignment = assignment_next(project=project, annotator=annotator)
    for name in ("annotate-submit", "annotate-skip"):
        url = reverse(name, args=[project.slug, assignment.pk])
        assert client.post(url, {"choice": "tie"}).status_code == 404
    assert not Judgment.objects.exists()


def test_unknown_project_is_404(annotator_client):
    for url in _project_pages("no-such-project"):
        assert annotator_client.get(url).status_code == 404


def test_annotator_cannot_open_the_dashboard(annotator_client, project):
    assert annotator_client.get(reverse("dashboard", args=[project.slug])).status_code == 404


def test_researcher_without_annotator_role_cannot_annotate(researcher_client, project):
    assert researcher_client.get(reverse("annotate", args=[project.slug])).status_code == 404
    assert researcher_client.get(reverse("dashboard", args=[project.slug])).status_code == 200
    assert researcher_client.get(reverse("guidelines", args=[project.slug])).status_code == 200


def test_someone_elses_assignment_is_404(login, project, annotator, comparisons):
    other = UserFactory(username="other-annotator")
    MembershipFactory(project=project, user=other, role=Role.ANNOTATOR)
    theirs = assignment_next(project=project, annotator=other)
    client = login(annotator)
    url = reverse("annotate-submit", args=[project.slug, theirs.pk])
    assert client.post(url, {"choice": "tie"}).status_code == 404
    url = reverse("annotate-skip", args=[project.slug, theirs.pk])
    assert client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "reserved"


def test_assignment_under_the_wrong_project_slug_is_404(
    login, project, other_project, annotator, comparisons
):
    MembershipFactory(project=other_project, user=annotator, role=Role.ANNOTATOR)
    ComparisonFactory(project=other_project)
    mine_in_beta = assignment_next(project=other_project, annotator=annotator)
    client = login(annotator)
    url = reverse("annotate-submit", args=[project.slug, mine_in_beta.pk])
    assert client.post(url, {"choice": "tie"}).status_code == 404


def test_submit_and_skip_refuse_get(annotator_client, annotator, project, comparisons):
    assignment = assignment_next(project=project, annotator=annotator)
    for name in ("annotate-submit", "annotate-skip"):
        url = reverse(name, args=[project.slug, assignment.pk])
        assert annotator_client.get(url).status_code == 405
    assert Assignment.objects.get(pk=assignment.pk).status == "reserved"


def test_home_shows_only_my_projects(login, outsider, project, other_project):
    html = login(outsider).get(reverse("home")).content.decode()
    assert other_project.name in html
    assert project.name not in html


# --- Headers ------------------------------------------------------------------------------


@pytest.fixture
def pages(annotator_client, researcher_client, client, project, annotator, researcher, comparisons):
    return [
        (client, reverse("login")),
        (annotator_client, reverse("home")),
        (annotator_client, reverse("annotate", args=[project.slug])),
        (annotator_client, reverse("guidelines", args=[project.slug])),
        (researcher_client, reverse("dashboard", args=[project.slug])),
    ]


def _directives(header: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in header.split(";")
        if part.strip()
    }


def test_csp_is_enforced_and_forbids_inline_script_and_style(pages):
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Content-Security-Policy-Report-Only" not in response.headers
        directives = _directives(response["Content-Security-Policy"])
        assert directives["script-src"] == "'self'", url
        assert directives["style-src"] == "'self'", url
        assert directives["default-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_framing_and_sniffing_are_forbidden(pages):
    for client, url in pages:
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url


class _InlineFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name in names:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"{tag} {name}=")


def test_templates_have_no_inline_script_style_or_handlers(pages):
    for client, url in pages:
        finder = _InlineFinder()
        finder.feed(client.get(url).content.decode())
        assert finder.problems == [], (url, finder.problems)


def test_every_post_form_carries_a_csrf_token(pages):
    for client, url in pages:
        html = client.get(url).content.decode()
        forms = re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S)
        for form in forms:
            if re.search(r'method="post"', form, flags=re.I):
                assert 'name="csrfmiddlewaretoken"' in form, (url, form[:200])


def test_production_settings_make_cookies_secure():
    from django.conf import settings

    source = (settings.BASE_DIR / "platform/config/settings/production.py").read_text()
    assert "SESSION_COOKIE_SECURE = True" in source
    assert "CSRF_COOKIE_SECURE = True" in source
