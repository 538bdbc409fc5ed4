"""``import_file``: read, check and write a whole file in one transaction."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from annotation.models import ImportRun, Project
from annotation.services.imports.detect import FORMAT_CHOICES, FORMATS, detect
from annotation.services.imports.errors import (
    FileInvalid,
    ImportErrorItem,
    ImportFailed,
    Problems,
)
from annotation.services.imports.readers import RawRecord, Source, first_char, source_name
from annotation.services.imports.records import ComparisonIn, CriterionSpec, Skipped
from annotation.services.imports.writer import BatchWriter

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000


@dataclass
class ImportResult:
    format: str
    n_records: int
    n_comparisons_created: int
    n_comparisons_existing: int
    n_judgments_created: int
    n_judgments_existing: int
    n_skipped: int
    seconds: float
    warnings: list[ImportErrorItem] = field(default_factory=list)
    n_warnings: int = 0
    import_run: ImportRun | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_run": self.import_run.pk if self.import_run else None,
            "format": self.format,
            "n_records": self.n_records,
            "n_comparisons_created": self.n_comparisons_created,
            "n_comparisons_existing": self.n_comparisons_existing,
            "n_judgments_created": self.n_judgments_created,
            "n_judgments_existing": self.n_judgments_existing,
            "n_skipped": self.n_skipped,
            "n_warnings": self.n_warnings,
            "warnings": [w.as_dict() for w in self.warnings],
        }


class _Rollback(Exception):
    pass


@dataclass
class _Counts:
    records: int = 0
    skipped: int = 0


def import_file(
    *,
    project: Project,
    path_or_fileobj: Any,
    format: str = "auto",
    user=None,
    filename: str | None = None,
    start_features: bool = True,
    batch_size: int = BATCH_SIZE,
    import_run: ImportRun | None = None,
) -> ImportResult:
    """Import comparisons (and their judgments) from a file into ``project``.

    All or nothing: everything is written in one transaction, and any error rolls it
    back; the errors (up to 20, each with its line or record and field) are raised as
    ``ImportFailed``, after a failed ``ImportRun`` has been saved outside the rolled-back
    transaction. Re-importing a file adds nothing twice: comparisons are keyed by
    (project, id) and judgments by (comparison, external annotator). Gzip-compressed
    input is read transparently. With ``start_features`` a feature extraction job for
    the project is enqueued once the import has committed. ``import_run``, a queued
    upload's run, is updated with the outcome instead of a new run being recorded.
    """
    if format not in FORMAT_CHOICES:
        raise ValueError(f"unknown format {format!r}; expected one of {FORMAT_CHOICES}")
    name = source_name(path_or_fileobj, filename)
    # Who imported what, on the ImportRun whatever the outcome.
    recorded = {"project": project, "user": user, "filename": name[:500]}
    problems = Problems()
    started = time.monotonic()
    resolved = format
    n_records = 0
    try:
        with Source(path_or_fileobj) as source:
            if not first_char(source.head()):
                raise FileInvalid(ImportErrorItem(None, "", "the file is empty"))
            records: Iterable[RawRecord] | None = None
            if format == "auto":
                resolved, records = detect(name, source)
            adapter = FORMATS[resolved](problems=problems, criteria=_criteria(project))
            if records is None:
                records = adapter.records(source)
            with transaction.atomic():
                writer = BatchWriter(project=project, problems=problems, now=timezone.now())
                counts = _Counts()
                # Reading and checking (Python) overlaps with writing (the database).
                with _Prefetch(
                    partial(_batches, records, adapter, problems, counts, batch_size)
                ) as batches:
                    for batch in batches:
                        if not problems.errors:
                            writer.write(batch)
                        if problems.full:
                            break
                n_records = counts.records
                problems.sort()
                if problems.errors:
                    raise _Rollback
                if not n_records:
                    problems.error(ImportErrorItem(None, "", "the file holds no records"))
                    raise _Rollback
                run = _record_run(
                    import_run,
                    recorded,
                    format=resolved,
                    status=ImportRun.Status.SUCCEEDED,
                    n_comparisons_created=writer.n_comparisons_created,
                    n_comparisons_existing=writer.n_comparisons_existing,
                    n_judgments_created=writer.n_judgments_created,
                    n_skipped=writer.n_skipped + counts.skipped,
                    warnings=problems.warnings_for_storage(),
                )
                # The import's own time ends at its commit, before the feature job (which
                # runs in-process on the embedded default) starts.
                committed: list[float] = []
                transaction.on_commit(lambda: committed.append(time.monotonic()))
                if start_features and writer.n_comparisons_created:
                    _start_features(project)
    except FileInvalid as exc:
        for item in exc.items:
            problems.error(item)
        problems.sort()
    except _Rollback:
        pass
    except (IntegrityError, DatabaseError) as exc:
        # Checks above should leave nothing for the database to reject; a concurrent
        # import of the same ids can, though.
        logger.exception("import into %s failed in the database", project.slug)
        problems.error(ImportErrorItem(None, "", f"the database rejected the import: {exc}"))
    else:
        return ImportResult(
            format=resolved,
            n_records=n_records,
            n_comparisons_created=writer.n_comparisons_created,
            n_comparisons_existing=writer.n_comparisons_existing,
            n_judgments_created=writer.n_judgments_created,
            n_judgments_existing=writer.n_judgments_existing,
            n_skipped=writer.n_skipped + counts.skipped,
            seconds=(committed[0] if committed else time.monotonic()) - started,
            warnings=problems.warnings,
            n_warnings=problems.n_warnings,
            import_run=run,
        )
    # Written after the rollback: the one row a failed import leaves, for the UI.
    run = _record_run(
        import_run,
        recorded,
        format=resolved,
        status=ImportRun.Status.FAILED,
        errors=[e.as_dict() for e in problems.errors],
        warnings=problems.warnings_for_storage(),
    )
    raise ImportFailed(problems.errors, import_run=run)


def _record_run(run: ImportRun | None, recorded: dict[str, Any], **fields) -> ImportRun:
    """Save the outcome on ``run`` (a queued upload's), or record a new run."""
    fields = {**recorded, **fields}
    if run is None:
        return ImportRun.objects.create(**fields)
    for name, value in fields.items():
        setattr(run, name, value)
    run.save()
    return run


def _criteria(project: Project) -> dict[str, CriterionSpec]:
    return {
        c.key: CriterionSpec(c.pk, c.key, c.kind, c.scale_min, c.scale_max)
        for c in project.rubric.criteria.all()
    }


def _batches(
    records: Iterable[RawRecord],
    adapter,
    problems: Problems,
    counts: _Counts,
    size: int,
) -> Iterator[list[ComparisonIn]]:
    """Checked comparisons in batches; invalid records are reported, skipped ones counted."""
    batch: list[ComparisonIn] = []
    for raw in records:
        counts.records += 1
        if raw.error is not None:
            problems.error(raw.error)
        else:
            parsed = adapter.parse(raw)
            if isinstance(parsed, Skipped):
                counts.skipped += 1
                problems.warn(
                    ImportErrorItem(raw.line, "", f"skipped: {parsed.reason}", raw.record)
                )
            elif parsed is not None:
                batch.append(parsed)
        if problems.full:
            break
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Prefetch:
    """Run a generator in a thread, at most ``depth`` items ahead of the consumer.

    The generator must not use the database connection (it belongs to the consumer's
    thread). Its exceptions are re-raised in the consumer; leaving the ``with`` block
    early stops it.
    """

    def __init__(self, factory: Callable[[], Iterator[Any]], depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(factory,), name="import-reader", daemon=True
        )

    def _run(self, factory: Callable[[], Iterator[Any]]) -> None:
        try:
            for item in factory():
                if not self._put((True, item)):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put((False, exc))
        else:
            self._put((False, None))

    def _put(self, message: tuple[bool, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def __enter__(self) -> Iterator[Any]:
        self._thread.start()
        return self._items()

    def _items(self) -> Iterator[Any]:
        while True:
            is_item, value = self._queue.get()
            if is_item:
                yield value
            elif value is None:
                return
            else:
                raise value

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


def _start_features(project: Project) -> None:
    """Enqueue feature extraction for the project once the import has committed."""
    # Imported here: the analysis app builds on annotation, not the other way round.
    from analysis.services.features import feature_job_enqueue

    # robust: the import has committed; a failure to enqueue must not turn it into an error
    # (the researcher can start extraction again from the command or the dashboard).
    transaction.on_commit(lambda: feature_job_enqueue(project=project), robust=True)
