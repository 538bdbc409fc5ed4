"""The canonical interchange format: JSON Lines, one comparison per line (see docs)."""

from __future__ import annotations

from annotation.services.imports import records as r
from annotation.services.imports.base import Format
from annotation.services.imports.readers import RawRecord

KEYS = frozenset({"id", "prompt", "response_a", "response_b", "metadata", "judgments"})


class Canonical(Format):
    name = "jsonl"
    signature = frozenset({"prompt", "response_a", "response_b"})

    def parse(self, raw: RawRecord) -> r.ComparisonIn | None:
        loc, data = self.object_record(raw)
        if data is None or not self.required(loc, data, "prompt", "response_a", "response_b"):
            return None
        self.ignore_unknown(loc, data, KEYS)
        external_id = r.short_text(loc, data.get("id"), "id")
        prompt = r.messages(loc, data["prompt"], "prompt")
        a = r.response(loc, data["response_a"], "response_a")
        b = r.response(loc, data["response_b"], "response_b")
        meta = r.metadata(loc, data.get("metadata"), "metadata")
        judgments = []
        raw_judgments = data.get("judgments")
        if raw_judgments is not None and not isinstance(raw_judgments, list):
            loc.error("judgments", f"expected an array, got {r.type_name(raw_judgments)}")
        for i, item in enumerate(raw_judgments or ()):
            judgment = r.judgment(loc, item, f"judgments[{i}]", self.criteria)
            if judgment is not r.INVALID:
                judgments.append(judgment)
        r.unique_annotators(loc, judgments, "judgments")
        return r.comparison(
            loc, external_id=external_id, prompt=prompt, a=a, b=b, meta=meta, judgments=judgments
        )
