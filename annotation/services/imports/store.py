"""Row inserts for the import writer: ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

On PostgreSQL, Django's ``bulk_create`` spends most of an import building model
instances and quoting parameters; a binary ``COPY`` with ids taken from the table's
sequence beforehand writes the same rows several times faster (bench/bench_import.py).
Both run inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

from annotation.models import Comparison, Prompt, Response

# What the import compares to tell a repeated comparison from a conflicting one.
_COMPARISON_CONTENT = (
    "external_id",
    "id",
    "prompt__content_hash",
    "response_a__text",
    "response_a__model",
    "response_b__text",
    "response_b__model",
)


def _timestamp_fields(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add)
    ]


class DjangoStore:
    """Portable inserts through ``bulk_create`` (primary keys come back on PostgreSQL and
    SQLite ≥ 3.35)."""

    def __init__(self, now: datetime):
        self.now = now

    def insert(
        self, model: type[models.Model], fields: Sequence[str], rows: list[tuple]
    ) -> list[int]:
        objects = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects)
        return [obj.pk for obj in objects]

    def existing_comparisons(self, project_id: int, external_ids: list[str]) -> list[tuple]:
        """``(external_id, id, prompt hash, a text, a model, b text, b model)`` of the
        project's comparisons with these ids."""
        return list(
            Comparison.objects.filter(
                project_id=project_id, external_id__in=external_ids
            ).values_list(*_COMPARISON_CONTENT)
        )

    def prompt_ids(self, project_id: int, hashes: list[str]) -> dict[str, int]:
        """The ids of the project's prompts with these content hashes."""
        return dict(
            Prompt.objects.filter(project_id=project_id, content_hash__in=hashes).values_list(
                "content_hash", "id"
            )
        )

    def insert_prompts(self, project_id: int, rows: list[tuple[Any, bool, str]]) -> dict[str, int]:
        """Insert prompts (messages, is_conversation, content_hash) that may exist already
        (a concurrent import); return every hash's id."""
        Prompt.objects.bulk_create(
            [
                Prompt(project_id=project_id, messages=m, is_conversation=c, content_hash=h)
                for m, c, h in rows
            ],
            ignore_conflicts=True,
        )
        return self.prompt_ids(project_id, [h for _, _, h in rows])


class PostgresStore(DjangoStore):
    """Binary ``COPY`` into the tables, with primary keys drawn from their sequences first.

    Every NOT NULL column without a database default must be among the fields given
    (Django keeps defaults in Python), and texts must be free of NUL characters.
    """

    def __init__(self, now: datetime):
        super().__init__(now)
        self._sequences: dict[str, str] = {}

    def _ids(self, cursor, table: str, n: int) -> list[int]:
        sequence = self._sequences.get(table)
        if sequence is None:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = self._sequences[table] = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, n])
        return [row[0] for row in cursor.fetchall()]

    def _columns(self, model: type[models.Model], fields: Sequence[str]):
        meta = model._meta
        return [meta.get_field(name) for name in fields]

    def _copy(self, cursor, table: str, columns: list[str], types: list[str], rows) -> None:
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        sql = f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN (FORMAT BINARY)"
        with cursor.cursor.copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def insert(
        self, model: type[models.Model], fields: Sequence[str], rows: list[tuple]
    ) -> list[int]:
        if not rows:
            return []
        table = model._meta.db_table
        stamps = _timestamp_fields(model)
        stamp_values = (self.now,) * len(stamps)
        meta = model._meta
        all_fields = [meta.pk, *(meta.get_field(f) for f in (*fields, *stamps))]
        columns = [f.column for f in all_fields]
        types = [_binary_type(f) for f in all_fields]
        with connection.cursor() as cursor:
            ids = self._ids(cursor, table, len(rows))
            values = ((pk, *row, *stamp_values) for pk, row in zip(ids, rows, strict=True))
            self._copy(cursor, table, columns, types, values)
        return ids

    # Lookups probe the (project, key) unique index once per key: a LATERAL subquery per
    # key, kept from being flattened into a join by its LIMIT 1 (the key is unique). The
    # planner's statistics predate the rows this import's transaction has written, so with
    # "project_id = %s AND key = ANY(%s)", or a join, it scans every row of the project
    # written so far and filters, and each batch costs more than the one before.

    def existing_comparisons(self, project_id: int, external_ids: list[str]) -> list[tuple]:
        comparison = connection.ops.quote_name(Comparison._meta.db_table)
        response = connection.ops.quote_name(Response._meta.db_table)
        prompt = connection.ops.quote_name(Prompt._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.external_id, c.id, p.content_hash, a.text, a.model, b.text, b.model "
                "FROM unnest(%s::text[]) AS k(external_id) "
                f"CROSS JOIN LATERAL (SELECT * FROM {comparison} "
                "  WHERE project_id = %s AND external_id = k.external_id LIMIT 1) AS c "
                f"JOIN {prompt} p ON p.id = c.prompt_id "
                f"JOIN {response} a ON a.id = c.response_a_id "
                f"JOIN {response} b ON b.id = c.response_b_id",
                [external_ids, project_id],
            )
            return cursor.fetchall()

    def prompt_ids(self, project_id: int, hashes: list[str]) -> dict[str, int]:
        with connection.cursor() as cursor:
            return dict(self._prompt_ids(cursor, project_id, hashes))

    def _prompt_ids(self, cursor, project_id: int, hashes: list[str]) -> list[tuple[str, int]]:
        prompt = connection.ops.quote_name(Prompt._meta.db_table)
        cursor.execute(
            "SELECT p.content_hash, p.id FROM unnest(%s::text[]) AS k(content_hash) "
            f"CROSS JOIN LATERAL (SELECT content_hash, id FROM {prompt} "
            "  WHERE project_id = %s AND content_hash = k.content_hash LIMIT 1) AS p",
            [hashes, project_id],
        )
        return cursor.fetchall()

    def insert_prompts(self, project_id: int, rows: list[tuple[Any, bool, str]]) -> dict[str, int]:
        # ON CONFLICT lets a concurrent import's identical prompt win quietly, which a COPY
        # cannot. The rows travel as three arrays: a staging table would need a TRUNCATE
        # per batch, and TRUNCATE scans the transaction's whole queue of pending foreign-key
        # checks (one per row written so far), which made large imports quadratic.
        table = connection.ops.quote_name(Prompt._meta.db_table)
        hashes = [h for _, _, h in rows]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (project_id, messages, is_conversation, content_hash, "
                "created_at, updated_at) "
                "SELECT %s, m::jsonb, c, h, %s, %s "
                "FROM unnest(%s::text[], %s::boolean[], %s::text[]) AS s(m, c, h) "
                "ON CONFLICT DO NOTHING",
                [
                    project_id,
                    self.now,
                    self.now,
                    [json.dumps(m) for m, _, _ in rows],
                    [c for _, c, _ in rows],
                    hashes,
                ],
            )
            return dict(self._prompt_ids(cursor, project_id, hashes))


_TYPE_NAMES = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "double precision": "float8",
    "timestamp with time zone": "timestamptz",
}


def _binary_type(field: models.Field) -> str:
    """The PostgreSQL type name psycopg's binary COPY dumps a field's values as."""
    if field.is_relation:
        field = field.target_field
    db_type = field.rel_db_type(connection) if field.primary_key else field.db_type(connection)
    db_type = db_type.split("(")[0].strip()
    return _TYPE_NAMES.get(db_type, db_type)


def store_for_connection(now: datetime) -> DjangoStore:
    return PostgresStore(now) if connection.vendor == "postgresql" else DjangoStore(now)
