"""Anthropic hh-rlhf: ``{"chosen", "rejected"}`` pairs of ``\\n\\nHuman: … \\n\\nAssistant: …``.

The two transcripts share every turn but the last assistant turn: the shared turns
become the prompt (roles user/assistant) and the two final assistant turns the
responses. A record whose earlier turns differ is skipped and reported, never mangled.
Which of chosen/rejected becomes ``a`` is decided by a hash of the record, so the order
is deterministic (a re-import finds the same comparison) yet "a wins" is not always
true; the judgment says which side was chosen, by the external annotator ``hh-rlhf``.
"""

from __future__ import annotations

import hashlib
import re

from annotation.services.imports import records as r
from annotation.services.imports.base import Format
from annotation.services.imports.readers import RawRecord

ANNOTATOR = "hh-rlhf"
KEYS = frozenset({"chosen", "rejected"})
# A turn starts at the beginning of the transcript or after a blank line; "Human:" inside
# a turn's text (which happens in this data) is not a turn boundary.
_TURN = re.compile(r"(?:\A|\n\n)(Human|Assistant): ?")
_ROLES = {"Human": "user", "Assistant": "assistant"}


def split_transcript(transcript: str) -> list[tuple[str, str]] | str:
    """The turns as (role, content), or the reason the transcript cannot be split."""
    parts = _TURN.split(transcript)
    if parts[0].strip():
        return "text before the first 'Human:' or 'Assistant:' turn"
    return [(_ROLES[role], content) for role, content in zip(parts[1::2], parts[2::2], strict=True)]


class HhRlhf(Format):
    name = "hh-rlhf"
    signature = KEYS

    def parse(self, raw: RawRecord) -> r.ComparisonIn | r.Skipped | None:
        loc, data = self.object_record(raw)
        if data is None or not self.required(loc, data, "chosen", "rejected"):
            return None
        self.ignore_unknown(loc, data, KEYS)
        chosen = r.text(loc, data["chosen"], "chosen")
        rejected = r.text(loc, data["rejected"], "rejected")
        if loc.failed:
            return None
        turns = {}
        for name, transcript in (("chosen", chosen), ("rejected", rejected)):
            split = split_transcript(transcript)  # type: ignore[arg-type]
            if isinstance(split, str):
                return r.Skipped(f"{name}: {split}")
            if not split or split[-1][0] != "assistant":
                return r.Skipped(f"{name}: the last turn is not an Assistant turn")
            turns[name] = split
        earlier = turns["chosen"][:-1]
        if earlier != turns["rejected"][:-1]:
            return r.Skipped(f"earlier turns differ between chosen and rejected ({_where(turns)})")
        if not any(role == "user" for role, _ in earlier):
            return r.Skipped("no Human turn before the final Assistant turns")
        prompt = [{"role": role, "content": content} for role, content in earlier]
        chosen_text, rejected_text = turns["chosen"][-1][1], turns["rejected"][-1][1]
        digest = hashlib.sha256(f"{chosen}\x1f{rejected}".encode()).digest()
        chosen_side = "a" if digest[0] % 2 == 0 else "b"
        a, b = (chosen_text, rejected_text) if chosen_side == "a" else (rejected_text, chosen_text)
        return r.comparison(
            loc,
            external_id="",
            prompt=(prompt, len(prompt) > 1),
            a=(a, "", ""),
            b=(b, "", ""),
            meta={"source": "hh-rlhf", "chosen": chosen_side},
            judgments=[r.JudgmentIn(annotator=ANNOTATOR, choice=chosen_side)],
            id_prefix="hh-rlhf-",
        )


def _where(turns: dict[str, list[tuple[str, str]]]) -> str:
    chosen, rejected = turns["chosen"], turns["rejected"]
    if len(chosen) != len(rejected):
        return f"chosen has {len(chosen)} turns, rejected {len(rejected)}"
    first = next(i for i, (x, y) in enumerate(zip(chosen, rejected, strict=True)) if x != y)
    return f"first difference in turn {first + 1}"
