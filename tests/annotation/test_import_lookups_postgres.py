"""The import's per-batch lookups stay index probes inside a large import's transaction.

The planner's statistics do not know the rows the import has written so far, and once
chose to scan every comparison of the project for each batch: a 1M import took 760 s
instead of 150 s (bench/bench_import.py). These tests pin the plan's shape, not a time.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotation.services.imports import import_file
from annotation.services.imports.store import PostgresStore

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def big_import(project, tmp_path):
    assert connection.vendor == "postgresql", "this test must run on the real PostgreSQL"
    path = tmp_path / "big.jsonl"
    with path.open("w") as out:
        for i in range(6000):
            record = {"id": f"c-{i}", "prompt": f"Q{i // 2}?", "response_a": "a", "response_b": "b"}
            out.write(json.dumps(record) + "\n")
    import_file(project=project, path_or_fileobj=path, start_features=False)
    return project


def _plan_of_last_query(run) -> str:
    with CaptureQueriesContext(connection) as queries:
        run()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


def _index_conditions(plan: str) -> str:
    return "\n".join(line for line in plan.splitlines() if "Index Cond" in line)


def test_existing_comparisons_probe_the_unique_index(big_import):
    store = PostgresStore(timezone.now())
    ids = [f"c-{i}" for i in range(5000)] + [f"new-{i}" for i in range(5000)]
    plan = _plan_of_last_query(lambda: store.existing_comparisons(big_import.pk, ids))
    # One probe of the unique index per id, not a scan of the project's rows and a join.
    assert "comparison_external_id_unique" in plan, plan
    assert "(external_id)::text = k.external_id" in _index_conditions(plan), plan
    rows = store.existing_comparisons(big_import.pk, ids)
    assert sorted(r[0] for r in rows) == sorted(f"c-{i}" for i in range(5000))


def test_prompt_lookup_probes_the_unique_index(big_import):
    store = PostgresStore(timezone.now())
    hashes = list(big_import.prompts.values_list("content_hash", flat=True)[:2000])
    plan = _plan_of_last_query(lambda: store.prompt_ids(big_import.pk, [*hashes, "x" * 64]))
    assert "prompt_unique_per_project" in plan, plan
    assert "(content_hash)::text = k.content_hash" in _index_conditions(plan), plan
    assert len(store.prompt_ids(big_import.pk, hashes)) == 2000
