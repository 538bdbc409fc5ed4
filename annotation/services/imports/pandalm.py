"""PandaLM-style files: a JSON array of pairs judged by several annotators.

``instruction`` + ``input`` is the prompt, ``response1``/``response2`` are ``a``/``b``,
``cmp_key`` is ``modelA_modelB`` and ``annotatorN`` is 0 (tie), 1 (response1 better) or
2 (response2 better); each annotator becomes the external annotator ``pandalm-annotatorN``.
"""

from __future__ import annotations

import re

from annotation.services.imports import records as r
from annotation.services.imports.base import Format
from annotation.services.imports.readers import RawRecord

_ANNOTATOR = re.compile(r"annotator\d+")
_CHOICES = {0: "tie", 1: "a", 2: "b"}
KEYS = frozenset({"idx", "cmp_key", "instruction", "input", "response1", "response2"})


def split_cmp_key(value: str) -> tuple[str, str] | None:
    """``modelA_modelB`` → (modelA, modelB); None unless exactly one underscore splits it.

    Model names contain ``-`` and ``.`` but no ``_``; with more than one underscore the
    split point is ambiguous and guessing would mislabel the models.
    """
    parts = value.split("_")
    if len(parts) != 2 or not all(part.strip() for part in parts):
        return None
    return parts[0].strip(), parts[1].strip()


class PandaLM(Format):
    name = "pandalm"
    signature = frozenset({"cmp_key", "response1", "response2"})

    def parse(self, raw: RawRecord) -> r.ComparisonIn | None:
        loc, data = self.object_record(raw)
        if data is None or not self.required(
            loc, data, "instruction", "response1", "response2", "cmp_key"
        ):
            return None
        instruction = r.text(loc, data["instruction"], "instruction")
        extra_input = r.text(loc, data.get("input"), "input", required=False)
        prompt: tuple | r._Invalid = r.INVALID
        if instruction is not r.INVALID and extra_input is not r.INVALID:
            body = f"{instruction}\n\n{extra_input}" if extra_input.strip() else instruction  # type: ignore[union-attr]
            prompt = r.messages(loc, body, "instruction")
        models = self._models(loc, data["cmp_key"])
        a = r.text(loc, data["response1"], "response1")
        b = r.text(loc, data["response2"], "response2")
        judgments = []
        for key in sorted((k for k in data if _ANNOTATOR.fullmatch(k)), key=lambda k: int(k[9:])):
            label = data[key]
            if isinstance(label, bool) or label not in _CHOICES:
                loc.error(key, f"expected 0 (tie), 1 or 2, got {label!r}")
                continue
            judgments.append(r.JudgmentIn(annotator=f"pandalm-{key}", choice=_CHOICES[label]))
        meta = {"source": "pandalm"}
        for key, value in data.items():
            if key not in KEYS and not _ANNOTATOR.fullmatch(key):
                meta[key] = value
        if "idx" in data:
            meta["idx"] = data["idx"]
        external_id = r.short_text(loc, data.get("idx"), "idx")
        if external_id not in (r.INVALID, ""):
            external_id = f"pandalm-{external_id}"
        meta = r.metadata(loc, meta, "metadata")
        if loc.failed:
            return None
        return r.comparison(
            loc,
            external_id=external_id,
            prompt=prompt,
            a=(a, models[0], ""),  # type: ignore[index]
            b=(b, models[1], ""),  # type: ignore[index]
            meta=meta,
            judgments=judgments,
            id_prefix="pandalm-",
        )

    @staticmethod
    def _models(loc: r.Located, value) -> tuple[str, str] | r._Invalid:
        key = r.short_text(loc, value, "cmp_key", required=True)
        if key is r.INVALID:
            return key
        models = split_cmp_key(key)  # type: ignore[arg-type]
        if models is None:
            return loc.error(
                "cmp_key",
                f"cannot split {key!r} into two model names: expected exactly one '_' "
                "between them (model names must not contain '_')",
            )
        return models
