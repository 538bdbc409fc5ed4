"""The normalised comparison every format is turned into, and the checks they share.

Validation helpers take a ``Located`` (the record's line, index and the import's
``Problems``), report errors and warnings there, and return the cleaned value, or
``INVALID`` when the value is unusable. Deliberate choices for odd but valid data:

* a number or boolean where text is expected becomes its string form (``True``/``False``
  for booleans, as PandaLM's records need), with a warning naming the field;
* NUL characters (PostgreSQL text cannot store them) are removed, and unpaired UTF-16
  surrogates (which UTF-8 cannot encode) become U+FFFD, each with a warning;
* an empty response text is allowed; an empty prompt is an error.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from django.utils.dateparse import parse_datetime

from annotation.services.imports.errors import ImportErrorItem, Problems


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: Returned by a helper when the value is unusable (its error has been reported).
INVALID: Final = _Invalid()

ROLES = ("system", "user", "assistant")
CHOICES = ("a", "b", "tie")
MAX_SHORT = 200  # CharField(max_length=200): ids, model and annotator names
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(slots=True)
class Answer:
    criterion_id: int
    choice: str = ""
    score_a: int | None = None
    score_b: int | None = None
    scale_min: int | None = None
    scale_max: int | None = None


@dataclass(slots=True)
class JudgmentIn:
    annotator: str
    choice: str
    strength: int | None = None
    shown_left: str = ""
    seconds: float | None = None
    rationale: str = ""
    created_at: datetime | None = None
    answers: list[Answer] = field(default_factory=list)


@dataclass(slots=True)
class ComparisonIn:
    """One comparison ready to write, with where it came from."""

    line: int
    record: int | None
    external_id: str
    messages: list[dict[str, str]]
    is_conversation: bool
    prompt_hash: str
    a_text: str
    a_model: str
    b_text: str
    b_model: str
    a_external_id: str = ""
    b_external_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    judgments: list[JudgmentIn] = field(default_factory=list)

    def content(self) -> tuple[str, str, str, str, str]:
        return (self.prompt_hash, self.a_text, self.a_model, self.b_text, self.b_model)


@dataclass(slots=True)
class Skipped:
    """A record deliberately not imported; the reason is reported as a warning."""

    reason: str


@dataclass(frozen=True, slots=True)
class CriterionSpec:
    id: int
    key: str
    kind: str
    scale_min: int | None
    scale_max: int | None


def prompt_hash(messages: list[dict[str, str]]) -> str:
    """sha256 of the canonical JSON of the messages: the prompt's dedupe key."""
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def derived_id(prefix: str, messages, a_text: str, a_model: str, b_text: str, b_model: str) -> str:
    """A deterministic id for a record without one, from its content."""
    content = json.dumps([messages, a_text, a_model, b_text, b_model], ensure_ascii=False)
    return prefix + hashlib.sha256(content.encode()).hexdigest()[:32]


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Located:
    """Reports problems of one record at its line (and index in a JSON array)."""

    __slots__ = ("failed", "line", "problems", "record")

    def __init__(self, problems: Problems, line: int, record: int | None):
        self.problems, self.line, self.record = problems, line, record
        self.failed = False

    def error(self, field_name: str, message: str) -> _Invalid:
        self.failed = True
        self.problems.error(ImportErrorItem(self.line, field_name, message, self.record))
        return INVALID

    def warn(self, field_name: str, message: str, *, once: str | None = None) -> None:
        self.problems.warn(ImportErrorItem(self.line, field_name, message, self.record), once=once)


def clean(loc: Located, value: str, field_name: str) -> str:
    """Remove what PostgreSQL cannot store: NUL characters and unpaired surrogates."""
    if value.isascii():
        if "\x00" not in value:
            return value
    elif _BAD_CHARS.search(value) is None:
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
        loc.warn(field_name, "NUL characters removed (the database cannot store them)")
    if _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
        loc.warn(field_name, "unpaired UTF-16 surrogates replaced by U+FFFD")
    return value


def text(loc: Located, value: Any, field_name: str, *, required: bool = True) -> str | _Invalid:
    """A text field; numbers and booleans become strings with a warning."""
    if isinstance(value, str):
        return clean(loc, value, field_name)
    if isinstance(value, bool):
        converted = "True" if value else "False"
    elif isinstance(value, int | float):
        converted = json.dumps(value)
    elif value is None and not required:
        return ""
    elif value is None:
        return loc.error(field_name, "expected a string, got null")
    else:
        return loc.error(field_name, f"expected a string, got {type_name(value)}")
    loc.warn(field_name, f"expected a string, got {type_name(value)}; stored as {converted!r}")
    return converted


def short_text(
    loc: Located, value: Any, field_name: str, *, required: bool = False
) -> str | _Invalid:
    """A name or id: text of at most 200 characters, surrounding blanks removed."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # numeric ids and names are common and unambiguous
    result = text(loc, value, field_name, required=required)
    if result is INVALID:
        return result
    result = result.strip()
    if len(result) > MAX_SHORT:
        return loc.error(field_name, f"longer than {MAX_SHORT} characters ({len(result)})")
    if required and not result:
        return loc.error(field_name, "must not be empty")
    return result


def messages(loc: Located, value: Any, field_name: str) -> tuple[list[dict], bool] | _Invalid:
    """A prompt: a string (one user turn) or a list of {role, content} messages."""
    if isinstance(value, list):
        result = []
        for i, message in enumerate(value):
            where = f"{field_name}[{i}]"
            if not isinstance(message, dict):
                return loc.error(where, f"expected an object, got {type_name(message)}")
            role = message.get("role")
            if role not in ROLES:
                return loc.error(
                    f"{where}.role", f"expected one of {', '.join(ROLES)}, got {role!r}"
                )
            if "content" not in message:
                return loc.error(f"{where}.content", "required")
            content = text(loc, message["content"], f"{where}.content")
            if content is INVALID:
                return content
            extra = set(message) - {"role", "content"}
            if extra:
                loc.warn(
                    where,
                    f"keys ignored: {', '.join(sorted(extra))}",
                    once=f"message-keys:{sorted(extra)}",
                )
            result.append({"role": role, "content": content})
        is_conversation = True
    else:
        content = text(loc, value, field_name)
        if content is INVALID:
            return content
        result = [{"role": "user", "content": content}]
        is_conversation = False
    if not any(m["content"].strip() for m in result):
        return loc.error(field_name, "empty prompt")
    return result, is_conversation


def response(loc: Located, value: Any, field_name: str) -> tuple[str, str, str] | _Invalid:
    """A response: a bare string, or {"text", "model"?, "id"?}; (text, model, external id)."""
    if isinstance(value, dict):
        if "text" not in value:
            return loc.error(f"{field_name}.text", "required")
        body = text(loc, value["text"], f"{field_name}.text")
        model = short_text(loc, value.get("model"), f"{field_name}.model")
        external_id = short_text(loc, value.get("id"), f"{field_name}.id")
        if INVALID in (body, model, external_id):
            return INVALID
        return body, model, external_id  # type: ignore[return-value]
    if value is None:
        return loc.error(field_name, "required")
    body = text(loc, value, field_name)
    return INVALID if body is INVALID else (body, "", "")  # type: ignore[return-value]


def metadata(loc: Located, value: Any, field_name: str) -> dict | _Invalid:
    if value is None:
        return {}
    if not isinstance(value, dict):
        return loc.error(field_name, f"expected an object, got {type_name(value)}")
    return _clean_json(loc, value, field_name) if value else value


def _clean_json(loc: Located, value: Any, field_name: str) -> Any:
    if isinstance(value, str):
        return clean(loc, value, field_name)
    if isinstance(value, dict):
        return {
            clean(loc, k, field_name): _clean_json(loc, v, f"{field_name}.{k}")
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_clean_json(loc, v, f"{field_name}[{i}]") for i, v in enumerate(value)]
    return value


def choice(loc: Located, value: Any, field_name: str) -> str | _Invalid:
    if value in CHOICES:
        return value
    return loc.error(field_name, f"expected one of a, b, tie, got {json.dumps(value)}")


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def answers(
    loc: Located, value: Any, field_name: str, criteria: dict[str, CriterionSpec]
) -> list[Answer] | _Invalid:
    """Per-criterion answers, checked against the project's rubric."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return loc.error(field_name, f"expected an object, got {type_name(value)}")
    result: list[Answer] = []
    for key, answer in value.items():
        where = f"{field_name}.{key}"
        spec = criteria.get(key)
        if spec is None:
            known = ", ".join(sorted(criteria)) or "none"
            loc.error(where, f"unknown criterion {key!r} (the project's rubric has: {known})")
            continue
        if spec.kind == "compare":
            if choice(loc, answer, where) is not INVALID:
                result.append(Answer(spec.id, choice=answer))
            continue
        if not isinstance(answer, dict) or set(answer) != {"a", "b"}:
            loc.error(where, f'expected {{"a": score, "b": score}}, got {json.dumps(answer)}')
            continue
        scores = []
        for side in ("a", "b"):
            score = _integer(answer[side])
            if score is None:
                loc.error(f"{where}.{side}", f"expected an integer, got {json.dumps(answer[side])}")
            elif not spec.scale_min <= score <= spec.scale_max:  # type: ignore[operator]
                loc.error(
                    f"{where}.{side}",
                    f"{score} is outside the criterion's scale {spec.scale_min}–{spec.scale_max}",
                )
            else:
                scores.append(score)
        if len(scores) == 2:
            result.append(Answer(spec.id, "", scores[0], scores[1], spec.scale_min, spec.scale_max))
    return INVALID if loc.failed else result


def strength(loc: Located, value: Any, field_name: str, the_choice: Any) -> int | _Invalid | None:
    if value is None or value == "":
        return None
    number = _integer(value)
    if number is None or not 1 <= number <= 3:
        return loc.error(field_name, f"expected 1, 2, 3 or null, got {json.dumps(value)}")
    if the_choice == "tie":
        loc.warn(field_name, "a tie has no strength; ignored", once="tie-strength")
        return None
    return number


def shown_left(loc: Located, value: Any, field_name: str) -> str | _Invalid:
    if value in (None, ""):
        return ""
    if value in ("a", "b"):
        return value
    return loc.error(field_name, f"expected a, b or null, got {json.dumps(value)}")


def seconds(loc: Located, value: Any, field_name: str) -> float | _Invalid | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return loc.error(field_name, f"expected a non-negative number, got {json.dumps(value)}")
    return float(value)


def timestamp(loc: Located, value: Any, field_name: str) -> datetime | _Invalid | None:
    """An ISO 8601 date-time (UTC when it has no offset), or Unix seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return loc.error(field_name, f"not a valid Unix time: {value}")
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        return loc.error(field_name, f"expected an ISO 8601 date-time, got {json.dumps(value)}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def judgment(
    loc: Located, value: Any, field_name: str, criteria: dict[str, CriterionSpec]
) -> JudgmentIn | _Invalid:
    """One judgment in the canonical shape (also used by the CSV format)."""
    if not isinstance(value, dict):
        return loc.error(field_name, f"expected an object, got {type_name(value)}")

    def at(key: str) -> str:
        return f"{field_name}.{key}" if field_name else key

    the_choice = choice(loc, value.get("choice"), at("choice"))
    result = JudgmentIn(
        annotator=short_text(loc, value.get("annotator"), at("annotator"), required=True),  # type: ignore[arg-type]
        choice=the_choice,  # type: ignore[arg-type]
        strength=strength(loc, value.get("strength"), at("strength"), the_choice),  # type: ignore[arg-type]
        shown_left=shown_left(loc, value.get("shown_left"), at("shown_left")),  # type: ignore[arg-type]
        seconds=seconds(loc, value.get("seconds"), at("seconds")),  # type: ignore[arg-type]
        rationale=text(loc, value.get("rationale"), at("rationale"), required=False),  # type: ignore[arg-type]
        created_at=timestamp(loc, value.get("created_at"), at("created_at")),  # type: ignore[arg-type]
        answers=answers(loc, value.get("criteria"), at("criteria"), criteria),  # type: ignore[arg-type]
    )
    extra = set(value) - JUDGMENT_KEYS
    if extra and field_name:
        loc.warn(
            field_name,
            f"keys ignored: {', '.join(sorted(extra))}",
            once=f"judgment-keys:{sorted(extra)}",
        )
    return INVALID if loc.failed else result


JUDGMENT_KEYS = frozenset(
    {
        "annotator",
        "choice",
        "strength",
        "criteria",
        "shown_left",
        "seconds",
        "rationale",
        "created_at",
    }
)


def unique_annotators(loc: Located, judgments: list[JudgmentIn], field_name: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(judgments):
        if item.annotator in seen:
            loc.error(
                f"{field_name}[{i}].annotator",
                f"{item.annotator!r} judges this comparison twice",
            )
        seen.add(item.annotator)


def comparison(
    loc: Located,
    *,
    external_id: Any,
    prompt: tuple[list[dict], bool] | _Invalid,
    a: tuple[str, str, str] | _Invalid,
    b: tuple[str, str, str] | _Invalid,
    meta: dict | _Invalid,
    judgments: list[JudgmentIn],
    id_prefix: str = "auto-",
) -> ComparisonIn | None:
    """Assemble a checked comparison, or None if any part failed (errors are reported)."""
    if loc.failed or INVALID in (external_id, prompt, a, b, meta):
        return None
    messages_, is_conversation = prompt  # type: ignore[misc]
    a_text, a_model, a_id = a  # type: ignore[misc]
    b_text, b_model, b_id = b  # type: ignore[misc]
    if not external_id:
        external_id = derived_id(id_prefix, messages_, a_text, a_model, b_text, b_model)
    return ComparisonIn(
        line=loc.line,
        record=loc.record,
        external_id=external_id,  # type: ignore[arg-type]
        messages=messages_,
        is_conversation=is_conversation,
        prompt_hash=prompt_hash(messages_),
        a_text=a_text,
        a_model=a_model,
        b_text=b_text,
        b_model=b_model,
        a_external_id=a_id,
        b_external_id=b_id,
        metadata=meta,  # type: ignore[arg-type]
        judgments=judgments,
    )
