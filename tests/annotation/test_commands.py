"""create_project, add_member and create_token."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from annotation.models import Membership, Project


@pytest.fixture
def rubric_file(tmp_path):
    path = tmp_path / "rubric.json"
    path.write_text(
        json.dumps(
            {
                "name": "helpfulness-v1",
                "criteria": [
                    {"key": "correctness", "label": "Correctness", "kind": "compare"},
                    {"key": "clarity", "label": "Clarity", "kind": "rating", "scale": [1, 5]},
                ],
            }
        )
    )
    return path


@pytest.mark.django_db
def test_create_project_add_member_create_token(rubric_file, capsys):
    call_command(
        "create_project", "demo", "--rubric", str(rubric_file), "--name", "Demo", "--overlap", "3"
    )
    project = Project.objects.get(slug="demo")
    assert (project.name, project.overlap, project.rubric.criteria.count()) == ("Demo", 3, 2)

    call_command("add_member", "demo", "alice", "--role", "annotator", "--password", "s3cret-pass")
    call_command("add_member", "demo", "alice", "--role", "researcher")
    alice = get_user_model().objects.get(username="alice")
    assert alice.check_password("s3cret-pass")
    assert set(Membership.objects.filter(user=alice).values_list("role", flat=True)) == {
        "annotator",
        "researcher",
    }

    capsys.readouterr()
    call_command("create_token", "alice")
    printed = capsys.readouterr().out.strip()
    assert printed == Token.objects.get(user=alice).key
    call_command("create_token", "alice")
    assert capsys.readouterr().out.strip() == printed


@pytest.mark.django_db
def test_command_errors(rubric_file, tmp_path):
    with pytest.raises(CommandError, match="rubric"):
        call_command("create_project", "x", "--rubric", str(tmp_path / "missing.json"))
    call_command("create_project", "demo", "--rubric", str(rubric_file))
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_project", "demo", "--rubric", str(rubric_file))
    with pytest.raises(CommandError, match="overlap"):
        call_command("create_project", "other", "--rubric", str(rubric_file), "--overlap", "0")
    with pytest.raises(CommandError, match="no project"):
        call_command("add_member", "nope", "bob", "--role", "annotator")
    with pytest.raises(CommandError, match="No user"):
        call_command("create_token", "nobody")
