"""Bulk writes of checked comparisons, one batch at a time, inside the import's transaction.

Per batch: records sharing an id are merged (a CSV file has one row per judgment),
existing comparisons are found with one query, prompts are resolved by content hash in
bulk, and responses, comparisons, judgments and criterion answers are inserted with
``COPY`` on PostgreSQL and ``bulk_create`` elsewhere (see ``store``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import F, Max

from annotation.models import (
    Comparison,
    CriterionAnswer,
    Judgment,
    JudgmentSource,
    Project,
    Response,
)
from annotation.services.imports.errors import ImportErrorItem, Problems
from annotation.services.imports.records import ComparisonIn, JudgmentIn
from annotation.services.imports.store import store_for_connection

RESPONSE_FIELDS = ("project_id", "prompt_id", "text", "model", "external_id")
COMPARISON_FIELDS = (
    "project_id",
    "external_id",
    "prompt_id",
    "response_a_id",
    "response_b_id",
    "metadata",
    "n_judgments",
    "n_reserved",
)
JUDGMENT_FIELDS = (
    "comparison_id",
    "assignment_id",
    "annotator_id",
    "external_annotator",
    "rubric_id",
    "choice",
    "strength",
    "rationale",
    "shown_left",
    "seconds",
    "source",
    "idempotency_key",
    "created_at",
)
ANSWER_FIELDS = (
    "judgment_id",
    "criterion_id",
    "choice",
    "score_a",
    "score_b",
    "scale_min",
    "scale_max",
)


class BatchWriter:
    """Writes batches for one import. Call inside ``transaction.atomic()``."""

    def __init__(self, *, project: Project, problems: Problems, now: datetime):
        self.project = project
        self.problems = problems
        self.now = now
        self.store = store_for_connection(now)
        # Comparisons above this id were written by this import: a repeated id there is a
        # conflict inside the file (an error), below it a comparison that existed before
        # (a warning).
        self.last_old_id = Comparison.objects.aggregate(last=Max("id"))["last"] or 0
        self.n_comparisons_created = 0
        self.n_comparisons_existing = 0
        self.n_judgments_created = 0
        self.n_judgments_existing = 0
        self.n_skipped = 0

    def _error(self, item: ComparisonIn, field: str, message: str) -> None:
        self.problems.error(ImportErrorItem(item.line, field, message, item.record))

    def _warn(self, item: ComparisonIn, field: str, message: str) -> None:
        self.problems.warn(ImportErrorItem(item.line, field, message, item.record))

    def _warn_judged_earlier(self, item: ComparisonIn, judgment: JudgmentIn) -> None:
        self._warn(
            item,
            "annotator",
            f"{judgment.annotator!r} already judged {item.external_id!r} earlier in the file; "
            "kept the first judgment",
        )

    def write(self, batch: list[ComparisonIn]) -> None:
        groups = self._merge(batch)
        existing = self._existing(groups)
        new = [item for key, item in groups.items() if key not in existing]
        created = self._create(new)
        self._judgments(created, existing)

    def _merge(self, batch: list[ComparisonIn]) -> dict[str, ComparisonIn]:
        groups: dict[str, ComparisonIn] = {}
        for item in batch:
            first = groups.get(item.external_id)
            if first is None:
                groups[item.external_id] = item
            elif first.content() != item.content():
                where = f"line {first.line}" if first.record is None else f"record {first.record}"
                self._error(
                    item,
                    "id",
                    f"{item.external_id!r} is also the id of {where}, "
                    "which has a different prompt or responses",
                )
            else:
                self._add_judgments(first, item)
        return groups

    def _add_judgments(self, first: ComparisonIn, item: ComparisonIn) -> None:
        known = {j.annotator: j for j in first.judgments}
        for judgment in item.judgments:
            if judgment.annotator in known:
                self._warn_judged_earlier(item, judgment)
            else:
                first.judgments.append(judgment)
                known[judgment.annotator] = judgment

    def _existing(self, groups: dict[str, ComparisonIn]) -> dict[str, tuple[int, ComparisonIn]]:
        """Comparisons of the batch that exist already, with the records to attach to them."""
        rows = self.store.existing_comparisons(self.project.pk, list(groups))
        existing = {}
        for external_id, pk, *content in rows:
            item = groups[external_id]
            if tuple(content) == item.content():
                existing[external_id] = (pk, item)
                if pk <= self.last_old_id:
                    self.n_comparisons_existing += 1
            elif pk > self.last_old_id:
                self._error(
                    item,
                    "id",
                    f"{external_id!r} is also the id of an earlier record in the file, "
                    "which has a different prompt or responses",
                )
                existing[external_id] = (pk, None)
            else:
                self._warn(
                    item,
                    "id",
                    f"comparison {external_id!r} already exists with a different prompt or "
                    "responses; record skipped, the existing comparison is kept",
                )
                self.n_skipped += 1
                existing[external_id] = (pk, None)
        return existing

    def _prompt_ids(self, new: list[ComparisonIn]) -> dict[str, int]:
        wanted = {item.prompt_hash: item for item in new}
        found = self.store.prompt_ids(self.project.pk, list(wanted))
        missing = [
            (item.messages, item.is_conversation, digest)
            for digest, item in wanted.items()
            if digest not in found
        ]
        if missing:
            found.update(self.store.insert_prompts(self.project.pk, missing))
        return found

    def _create(self, new: list[ComparisonIn]) -> list[tuple[int, ComparisonIn]]:
        if not new:
            return []
        prompt_ids = self._prompt_ids(new)
        project_id = self.project.pk
        responses = []
        for item in new:
            prompt_id = prompt_ids[item.prompt_hash]
            responses.append((project_id, prompt_id, item.a_text, item.a_model, item.a_external_id))
            responses.append((project_id, prompt_id, item.b_text, item.b_model, item.b_external_id))
        response_ids = self.store.insert(Response, RESPONSE_FIELDS, responses)
        comparison_ids = self.store.insert(
            Comparison,
            COMPARISON_FIELDS,
            [
                (
                    project_id,
                    item.external_id,
                    prompt_ids[item.prompt_hash],
                    response_ids[2 * i],
                    response_ids[2 * i + 1],
                    item.metadata,
                    len(item.judgments),
                    0,
                )
                for i, item in enumerate(new)
            ],
        )
        self.n_comparisons_created += len(comparison_ids)
        return list(zip(comparison_ids, new, strict=True))

    def _judgments(
        self,
        created: list[tuple[int, ComparisonIn]],
        existing: dict[str, tuple[int, ComparisonIn | None]],
    ) -> None:
        attach = [(pk, item) for pk, item in existing.values() if item is not None]
        already: set[tuple[int, str]] = set()
        if attach:
            already = set(
                Judgment.objects.filter(comparison_id__in=[pk for pk, _ in attach])
                .exclude(external_annotator="")
                .values_list("comparison_id", "external_annotator")
            )
        judgments: list[tuple] = []
        sources: list[JudgmentIn] = []
        added: dict[int, int] = defaultdict(int)
        for pk, item in created:
            for judgment in item.judgments:
                judgments.append(self._judgment(pk, judgment))
                sources.append(judgment)
        for pk, item in attach:
            for judgment in item.judgments:
                if (pk, judgment.annotator) in already:
                    if pk > self.last_old_id:  # written from an earlier batch of this file
                        self._warn_judged_earlier(item, judgment)
                    else:
                        self.n_judgments_existing += 1
                    continue
                judgments.append(self._judgment(pk, judgment))
                sources.append(judgment)
                added[pk] += 1
        if not judgments:
            return
        judgment_ids = self.store.insert(Judgment, JUDGMENT_FIELDS, judgments)
        self.n_judgments_created += len(judgment_ids)
        answers = [
            (
                judgment_id,
                answer.criterion_id,
                answer.choice,
                answer.score_a,
                answer.score_b,
                answer.scale_min,
                answer.scale_max,
            )
            for judgment_id, source in zip(judgment_ids, sources, strict=True)
            for answer in source.answers
        ]
        if answers:
            self.store.insert(CriterionAnswer, ANSWER_FIELDS, answers)
        # Judgments added to comparisons that existed before this batch: keep the count.
        by_increment: dict[int, list[int]] = defaultdict(list)
        for pk, increment in added.items():
            by_increment[increment].append(pk)
        for increment, pks in by_increment.items():
            Comparison.objects.filter(id__in=pks).update(
                n_judgments=F("n_judgments") + increment, updated_at=self.now
            )

    def _judgment(self, comparison_id: int, judgment: JudgmentIn) -> tuple:
        return (
            comparison_id,
            None,
            None,
            judgment.annotator,
            self.project.rubric_id,
            judgment.choice,
            judgment.strength,
            judgment.rationale,
            judgment.shown_left,
            judgment.seconds,
            JudgmentSource.IMPORT.value,
            "",
            judgment.created_at or self.now,
        )
