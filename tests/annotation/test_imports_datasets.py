"""The two public data sets in shared/datasets import completely, judgments included."""

from __future__ import annotations

import pytest

from annotation.models import Comparison, Judgment, Response
from annotation.services.imports import import_file
from tests.annotation.test_imports_helpers import assert_judgment_counts_consistent
from tests.datasets import HH_RLHF, PANDALM

pytestmark = pytest.mark.django_db


def test_hh_rlhf_harmless_base_test(project):
    result = import_file(project=project, path_or_fileobj=HH_RLHF, start_features=False)

    assert result.format == "hh-rlhf"
    assert result.n_records == 2312
    assert result.n_comparisons_created == 2307
    assert result.n_judgments_created == 2307
    assert result.n_skipped == 5
    skipped = [(w.line, w.message) for w in result.warnings]
    assert [line for line, _ in skipped] == [1255, 1689, 1951, 1953, 2037]
    assert all("earlier turns differ" in message for _, message in skipped)
    assert result.import_run.n_skipped == 5

    assert Comparison.objects.filter(project=project).count() == 2307
    judgments = Judgment.objects.filter(comparison__project=project)
    assert judgments.count() == 2307
    assert set(judgments.values_list("external_annotator", flat=True)) == {"hh-rlhf"}
    chosen_a = judgments.filter(choice="a").count()
    assert 0.4 < chosen_a / 2307 < 0.6  # the chosen response is a about half the time
    assert_judgment_counts_consistent()


def test_pandalm_testset(project):
    result = import_file(project=project, path_or_fileobj=PANDALM, start_features=False)

    assert result.format == "pandalm"
    assert result.n_records == 999
    assert result.n_comparisons_created == 999
    assert result.n_judgments_created == 2997
    assert result.n_skipped == 0
    assert [(w.record, w.field) for w in result.warnings] == [
        (157, "response1"),
        (158, "response1"),
        (159, "response1"),
        (161, "response2"),
        (162, "response2"),
        (164, "response1"),
    ]
    assert Judgment.objects.filter(comparison__project=project).count() == 2997
    models = set(Response.objects.filter(project=project).values_list("model", flat=True))
    assert models == {"bloom-7b", "cerebras-gpt-6.7B", "llama-7b", "opt-7b", "pythia-6.9b"}
    assert Comparison.objects.get(project=project, external_id="pandalm-157").response_a.text in (
        "True",
        "False",
    )
    assert_judgment_counts_consistent()


def test_reimporting_a_data_set_adds_nothing(project):
    import_file(project=project, path_or_fileobj=PANDALM, start_features=False)
    again = import_file(project=project, path_or_fileobj=PANDALM, start_features=False)
    assert (again.n_comparisons_created, again.n_comparisons_existing) == (0, 999)
    assert (again.n_judgments_created, again.n_judgments_existing) == (0, 2997)
    assert Comparison.objects.filter(project=project).count() == 999
