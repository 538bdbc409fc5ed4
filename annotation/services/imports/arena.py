"""Chatbot Arena battles (also MT-Bench human judgments): two conversations and a winner.

The prompt is the conversation up to the final assistant turns: every user (and system)
turn, and earlier assistant turns where both sides are identical. Earlier assistant
turns that differ between the sides (each model answered earlier user turns itself) are
kept in the comparison's metadata as ``earlier_turns_a`` / ``earlier_turns_b``. With
``turn`` = n, each conversation is cut after its n-th answer first (MT-Bench judges turn
1 and turn 2 of the same two-turn conversation separately). The winner is judged by
``judge``, or by ``arena`` when the record names no judge.
"""

from __future__ import annotations

from typing import Any

from annotation.services.imports import records as r
from annotation.services.imports.base import Format
from annotation.services.imports.readers import RawRecord

WINNERS = {
    "model_a": "a",
    "model_b": "b",
    "tie": "tie",
    "tie (bothbad)": "tie",
    "tie (both bad)": "tie",
}
DEFAULT_JUDGE = "arena"
# Fields of one battle's verdict, not of the comparison, so not copied to its metadata.
_VERDICT = frozenset({"winner", "judge", "tstamp"})
_STRUCTURE = frozenset({"model_a", "model_b", "conversation_a", "conversation_b"})


def _cut(conversation: list[dict[str, str]], turn: int) -> list[dict[str, str]] | None:
    """The conversation up to the assistant's answer to the ``turn``-th user message."""
    users = 0
    for i, message in enumerate(conversation):
        if message["role"] == "user":
            users += 1
        elif message["role"] == "assistant" and users == turn:
            return conversation[: i + 1]
    return None


class Arena(Format):
    name = "arena"
    signature = frozenset({"conversation_a", "conversation_b", "winner"})

    def parse(self, raw: RawRecord) -> r.ComparisonIn | r.Skipped | None:
        loc, data = self.object_record(raw)
        if data is None or not self.required(
            loc, data, "model_a", "model_b", "winner", "conversation_a", "conversation_b"
        ):
            return None
        model_a = r.short_text(loc, data["model_a"], "model_a", required=True)
        model_b = r.short_text(loc, data["model_b"], "model_b", required=True)
        winner = data["winner"]
        if not isinstance(winner, str) or winner not in WINNERS:
            loc.error("winner", f"expected one of {', '.join(WINNERS)}, got {winner!r}")
        judge = r.short_text(loc, data.get("judge"), "judge") or DEFAULT_JUDGE
        created_at = r.timestamp(loc, data.get("tstamp"), "tstamp")
        question_id = r.short_text(loc, data.get("question_id"), "question_id")
        turn = data.get("turn")
        if turn is not None and (isinstance(turn, bool) or not isinstance(turn, int) or turn < 1):
            loc.error("turn", f"expected a positive integer, got {turn!r}")
        conversations = []
        for side in ("a", "b"):
            name = f"conversation_{side}"
            value = data[name]
            if not isinstance(value, list) or not value:
                loc.error(name, f"expected a non-empty array of messages, got {r.type_name(value)}")
                continue
            checked = r.messages(loc, value, name)
            if checked is r.INVALID:
                continue
            messages = checked[0]  # type: ignore[index]
            if turn is not None and not loc.failed:
                messages = _cut(messages, turn)
                if messages is None:
                    loc.error(name, f"has no answer to user turn {turn}")
                    continue
            conversations.append(messages)
        if loc.failed:
            return None
        split = self._split(*conversations)
        if isinstance(split, r.Skipped):
            return split
        prompt, text_a, text_b, earlier = split

        meta: dict[str, Any] = {"source": "arena"}
        meta.update((k, v) for k, v in data.items() if k not in _VERDICT | _STRUCTURE)
        if earlier:
            meta["earlier_turns_a"], meta["earlier_turns_b"] = earlier
            loc.warn(
                "",
                "multi-turn battles: earlier assistant turns that differ between the sides "
                "are kept in the comparison's metadata, not in the prompt",
                once="arena-earlier-turns",
            )
        external_id = ""
        if question_id:
            external_id = f"arena-{question_id}-{model_a}-{model_b}"
            if turn is not None:
                external_id += f"-turn{turn}"
            if len(external_id) > r.MAX_SHORT:
                external_id = ""
        return r.comparison(
            loc,
            external_id=external_id,
            prompt=(prompt, len(prompt) > 1),
            a=(text_a, model_a, ""),  # type: ignore[arg-type]
            b=(text_b, model_b, ""),  # type: ignore[arg-type]
            meta=r.metadata(loc, meta, "metadata"),
            judgments=[
                r.JudgmentIn(
                    annotator=judge,  # type: ignore[arg-type]
                    choice=WINNERS[winner],
                    created_at=created_at,  # type: ignore[arg-type]
                )
            ],
            id_prefix="arena-",
        )

    @staticmethod
    def _split(conversation_a: list[dict], conversation_b: list[dict]):
        """(prompt messages, final text a, final text b, (earlier a, earlier b) or None)."""
        for name, conversation in (("a", conversation_a), ("b", conversation_b)):
            if conversation[-1]["role"] != "assistant":
                return r.Skipped(f"conversation_{name} does not end with an assistant turn")
        roles_a = [m["role"] for m in conversation_a]
        if roles_a != [m["role"] for m in conversation_b]:
            return r.Skipped("the two conversations have different turn structures")
        prompt, earlier_a, earlier_b = [], [], []
        for message_a, message_b in zip(conversation_a[:-1], conversation_b[:-1], strict=True):
            if message_a == message_b:
                prompt.append(message_a)
            elif message_a["role"] == "assistant":
                earlier_a.append(message_a["content"])
                earlier_b.append(message_b["content"])
            else:
                return r.Skipped(f"the {message_a['role']} turns differ between the conversations")
        if not any(m["role"] == "user" for m in prompt):
            return r.Skipped("no user turn before the final assistant turns")
        earlier = (earlier_a, earlier_b) if earlier_a else None
        return prompt, conversation_a[-1]["content"], conversation_b[-1]["content"], earlier
