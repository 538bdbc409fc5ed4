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

from annotation.models import Prompt


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
        return dict(
            Prompt.objects.filter(
                project_id=project_id, content_hash__in=[h for _, _, h in rows]
            ).values_list("content_hash", "id")
        )


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
            cursor.execute(
                f"SELECT content_hash, id FROM {table} "
                "WHERE project_id = %s AND content_hash = ANY(%s)",
                [project_id, hashes],
            )
            return dict(cursor.fetchall())


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
