"""``manage.py import_comparisons``: a thin wrapper over the import service."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotation.models import Comparison, ImportRun
from tests.annotation.test_imports_helpers import row_counts

pytestmark = pytest.mark.django_db

GOOD = {"id": "c-1", "prompt": "Q?", "response_a": "a", "response_b": "b"}


def test_command_imports_and_reports(project, tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "id": 2, "response_a": 1}))
    out, err = StringIO(), StringIO()
    call_command("import_comparisons", "alpha", str(path), "--no-features", stdout=out, stderr=err)
    assert "2 records, 2 comparisons created" in out.getvalue()
    assert "warning: line 2: response_a: expected a string, got a number" in err.getvalue()
    assert Comparison.objects.filter(project=project).count() == 2


def test_command_fails_with_line_numbers_and_writes_nothing(project, tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "response_b": {"text": {}}}))
    before = row_counts()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_comparisons", "alpha", str(path), "--format", "jsonl")
    message = str(excinfo.value)
    assert "nothing was written" in message
    assert "line 2: response_b.text: expected a string, got an object" in message
    assert row_counts() == before
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED


def test_command_exits_non_zero(project, tmp_path, capsys):
    path = tmp_path / "data.jsonl"
    path.write_text("{oops\n")
    with pytest.raises(SystemExit) as excinfo:
        from django.core.management import ManagementUtility

        ManagementUtility(["manage.py", "import_comparisons", "alpha", str(path)]).execute()
    assert excinfo.value.code != 0
    assert "line 1: invalid JSON" in capsys.readouterr().err


def test_command_rejects_unknown_project_file_and_format(project, tmp_path):
    with pytest.raises(CommandError, match="No project with slug 'nope'"):
        call_command("import_comparisons", "nope", str(tmp_path / "x.jsonl"))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_comparisons", "alpha", str(tmp_path / "x.jsonl"))
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_comparisons", "alpha", str(tmp_path / "x.jsonl"), "--format", "xml")
