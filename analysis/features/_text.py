"""Shared text preparation for the extractors: prompt normalisation, prose views, phrase regexes.

The extractors run one after another on the same response, so the expensive views of a
text (code removed, quotes removed, lower-cased, its word set) are computed once and kept
in small LRU caches keyed by the text itself. Everything here is pure Python with no
Django import.

Speed notes (why the code looks the way it does): CPython's regex engine tries a pattern at
every position of the subject unless the pattern starts with a literal string, in which
case it jumps between occurrences of that literal with a fast substring search. A single
alternation of 50 phrases costs ~25 µs on a 1,300-character response; the same phrases
split into groups that each *start* with an anchor word (the rest checked with look-behind
assertions) cost well under 1 µs per group, and a group is skipped entirely when its anchor
word is not in the response's word set.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

Message = dict[str, str]
Prompt = str | Sequence[Mapping[str, Any]] | None

# Big enough that extract() over one registry never evicts the response it is working on,
# and that both responses of a comparison stay cached while it is being processed.
_CACHE_SIZE = 64


# --------------------------------------------------------------------------- prompt


def normalize_prompt(prompt: Prompt) -> tuple[Message, ...]:
    """Return ``prompt`` as a tuple of ``{"role", "content"}`` messages.

    ``None`` is an empty conversation, a string is one user message, a single mapping is
    one message, and a sequence of mappings is taken as is. Missing roles default to
    ``"user"``, non-string contents are converted with ``str()`` and non-mapping items are
    skipped, so a malformed prompt degrades to fewer messages rather than an exception.
    """
    if prompt is None:
        return ()
    if isinstance(prompt, str):
        return ({"role": "user", "content": prompt},)
    if isinstance(prompt, Mapping):
        prompt = (prompt,)
    messages: list[Message] = []
    for item in prompt:
        if not isinstance(item, Mapping):
            continue
        role = item.get("role")
        content = item.get("content")
        messages.append(
            {
                "role": role.strip().lower() if isinstance(role, str) else "user",
                "content": content if isinstance(content, str) else _to_str(content),
            }
        )
    return tuple(messages)


def _to_str(value: object) -> str:
    if value is None:
        return ""
    # Multi-part contents (OpenAI style [{"type": "text", "text": ...}]) keep their text.
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        parts = [p.get("text", "") for p in value if isinstance(p, Mapping)]
        return "\n".join(p for p in parts if isinstance(p, str) and p)
    return str(value)


def last_user_message(messages: Sequence[Message]) -> str:
    """Return the content of the last user turn of a normalised conversation, or ``""``."""
    for message in reversed(messages):
        if message["role"] == "user":
            return message["content"]
    return ""


# --------------------------------------------------------------------------- prose views

# Fenced code blocks; an unclosed fence runs to the end of the text, as Markdown renderers
# treat it. Every pattern here starts with a literal (see the module notes on speed), and
# is guarded by a one-character `in` test (a memchr; a multi-character `in` costs more than
# the regex's own search).
_BACKTICK_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_TILDE_FENCE = re.compile(r"~~~.*?(?:~~~|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
# Run on own_voice()'s "\n" + text, so a blockquote on the first line is found too.
_BLOCKQUOTE = re.compile(r"\n[ \t]*>[^\n]*")
_QUOTED_SPANS = (
    ('"', re.compile(r'"[^"\n]*"')),
    ("“", re.compile(r"“[^”\n]*”")),
    ("„", re.compile(r"„[^“”\n]*[“”]")),
    ("«", re.compile(r"«[^»\n]*»")),
)
# Words for the vocabulary are runs of ASCII letters, digits and "_" (a word character
# for regexes too). Every other byte becomes a space, those of non-ASCII characters
# included: every phrase the extractors look for is ASCII, and an emoji or curly quote
# glued to a word ("sorry😔") must not hide it. Done on the UTF-8 encoding because
# bytes.translate is a plain 256-entry table lookup, where str.translate on a non-ASCII
# string looks every character up in a dict (~70 µs per response instead of ~1 µs).
_SEPARATORS = bytes(b for b in range(256) if not (b < 128 and (chr(b).isalnum() or b == 95)))
_PUNCT_TO_SPACE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))


# ASCII whitespace as str.split() sees it (which includes \x1c-\x1f) -> " ", the rest
# -> "x": a word then starts wherever " x" occurs.
_WORD_STARTS = bytes.maketrans(
    bytes(range(128)),
    bytes(32 if chr(b).isspace() else 120 for b in range(128)),
)


@lru_cache(maxsize=_CACHE_SIZE)
def word_count(text: str) -> int:
    """Return the number of whitespace-separated words in ``text`` (``len(text.split())``)."""
    if text.isascii():
        # Same count without creating a string per word: ~1 µs instead of ~5 µs.
        marks = b" " + text.encode("ascii").translate(_WORD_STARTS)
        return marks.count(b" x")
    return len(text.split())


@lru_cache(maxsize=_CACHE_SIZE)
def strip_code(text: str) -> str:
    """Return ``text`` without fenced code blocks and inline code spans.

    Fenced blocks become a newline and inline spans a space, so the surrounding words and
    lines stay apart. Indented (four-space) code blocks are kept: telling them from
    indented list continuations needs a Markdown parser, and LLM responses fence code.
    """
    if "`" in text:
        text = _INLINE_CODE.sub(" ", _BACKTICK_FENCE.sub("\n", text))
    if "~" in text:
        text = _TILDE_FENCE.sub("\n", text)
    return text


@lru_cache(maxsize=_CACHE_SIZE)
def own_voice(text: str) -> str:
    """Return the lower-cased text the response says in its own voice.

    Code (see :func:`strip_code`), Markdown blockquote lines and double-quoted spans
    (``"…"``, ``“…”``, ``„…“``, ``«…»``, within one line) are removed; curly apostrophes
    become ``'``. The result always starts with ``"\\n"``, so "start of a line" and "start
    of the text" are the same thing for the patterns that run on it.
    """
    voice = "\n" + strip_code(text).lower()
    if not voice.isascii():
        voice = voice.replace("’", "'").replace("‘", "'")
    if ">" in voice:
        voice = _BLOCKQUOTE.sub("\n", voice)
    for mark, pattern in _QUOTED_SPANS:
        if mark in voice:
            voice = pattern.sub('""', voice)
    return voice


# The words some extractor asks about (see register_words). Keeping only those makes the
# vocabulary a handful of words instead of ~75, so every later "which of my triggers
# occur?" intersection is nearly free; and intersecting with the token list directly
# skips building a set of all tokens (~3 µs instead of ~4 µs, then ~0.2 µs per check
# instead of ~1.5 µs).
_REGISTERED: frozenset[bytes] = frozenset()


def register_words(words: Iterable[bytes]) -> None:
    """Make :func:`vocabulary` report these words when they occur.

    :class:`PhraseGroups` registers its trigger words itself; an extractor that checks
    other words against the vocabulary registers them at import time.
    """
    global _REGISTERED
    new = frozenset(words) - _REGISTERED
    if new:
        _REGISTERED |= new
        vocabulary.cache_clear()  # cached vocabularies could lack the new words


@lru_cache(maxsize=_CACHE_SIZE)
def vocabulary(text: str) -> frozenset[bytes]:
    """Return the registered words (see :func:`register_words`) in :func:`own_voice`.

    Words are ``bytes``: runs of ASCII letters, digits and ``_``. Everything else
    separates words, apostrophes included (``you're`` gives ``b"you"`` and ``b"re"``),
    and so do non-ASCII characters: ``sorry😔`` gives ``b"sorry"`` and ``café`` gives
    ``b"caf"``, harmless since every phrase the extractors look for is ASCII. Use it as a
    cheap "could this phrase occur?" filter: ``b"sorry" in vocabulary(text)``.
    """
    encoded = own_voice(text).encode("utf-8", "surrogatepass")
    return _REGISTERED.intersection(encoded.translate(_PUNCT_TO_SPACE).split())


# --------------------------------------------------------------------------- phrase regexes

SENTENCE_START = "^"
"""Pseudo left context: the phrase starts a line or follows ``.``, ``!``, ``?`` or ``:``.

Markdown emphasis or a list bullet in front (``**Yes**,``, ``- No,``) is allowed.
"""

# Fixed-width look-behind contexts for SENTENCE_START (Python look-behinds must have a
# fixed width, so each context is one alternative). Texts passed to anchored patterns come
# from own_voice(), which starts with "\n".
_SENTENCE_CONTEXTS = (
    "\n",
    "\n**",
    "\n__",
    "\n*",
    "\n- ",
    "\n* ",
    "\n- **",
    "\n# ",
    "\n## ",
    "\n### ",
    ". ",
    "! ",
    "? ",
    ": ",
    ".\n",
    ". **",
    "! **",
    "? **",
    "!\n",
    "?\n",
)


def expand(template: str) -> list[str]:
    """Expand ``{a|b}`` alternatives in a phrase template into every combination.

    >>> expand("i{'m| am} {so |}sorry")
    ["i'm so sorry", "i'm sorry", 'i am so sorry', 'i am sorry']
    """
    parts = re.split(r"\{([^{}]*)\}", template)
    choices = [[part] if i % 2 == 0 else part.split("|") for i, part in enumerate(parts)]
    return ["".join(combo) for combo in itertools.product(*choices)]


def anchored_pattern(
    anchor: str,
    contexts: Iterable[tuple[str, str]] = (("", ""),),
    *,
    not_after: Iterable[str] = (),
    not_before: str = "",
) -> re.Pattern:
    """Compile a regex for ``<left><anchor><right>`` that starts with the literal ``anchor``.

    Parameters
    ----------
    anchor : str
        Literal text every match contains (usually one word); the regex engine jumps
        between its occurrences.
    contexts : iterable of (left, right)
        ``left`` is a literal left context (``"i'm "``, ``"not "``, ``""`` for none) or
        :data:`SENTENCE_START`, checked with a look-behind assertion; a literal left
        context must itself start at a word boundary. ``right`` is a regular expression
        (not a literal) that must follow the anchor; a word boundary is required after it
        unless it ends with punctuation.
    not_after : iterable of str
        Literal texts that must not come right before a literal left context (``"not "``
        turns "not you're right" away); not applied to :data:`SENTENCE_START`.
    not_before : str
        A regular expression that must not follow the phrase (``r"\\s+to\\b"``).

    Returns
    -------
    re.Pattern
        A pattern whose ``findall`` count is the number of phrase occurrences. All contexts
        share one pattern, so each occurrence of the anchor is counted at most once.
    """
    esc = re.escape(anchor)
    excluded = tuple(not_after)
    by_right: dict[str, set[str]] = {}
    for left, right in contexts:
        by_right.setdefault(right, set()).add(left)
    branches: list[str] = []
    # Longer right contexts first, so the most specific phrase is the one that matches.
    for right in sorted(by_right, key=len, reverse=True):
        behind: list[str] = []
        for left in sorted(by_right[right], key=len, reverse=True):
            if left == SENTENCE_START:
                behind.extend(f"(?<={re.escape(ctx)}{esc})" for ctx in _SENTENCE_CONTEXTS)
                continue
            whole = re.escape(left) + esc
            checks = f"(?<={whole})" if left else ""
            if (left or anchor)[0].isalnum():
                checks += f"(?<!\\w{whole})"
            checks += "".join(f"(?<!{re.escape(x)}{whole})" for x in excluded)
            behind.append(checks)
        tail = right
        if not right or right[-1].isalnum() or right.endswith((")", "?", "*", "+")):
            tail += r"(?!\w)"
        if not_before:
            tail += f"(?!{not_before})"
        branches.append(f"(?:{'|'.join(behind)}){tail}")
    return re.compile(f"{esc}(?:{'|'.join(branches)})")


class PhraseGroups:
    """Counts occurrences of a family of phrases, each group keyed by a trigger word.

    A group runs only when its trigger word is in the response's vocabulary (see
    :func:`vocabulary`; the triggers are registered there on construction); which groups
    run is one C-level set intersection. (Counting a
    bare word with ``bytes.count(b" word ")`` on a space-separated copy was tried: it is
    slower than the regex, because a needle ending in a space defeats the substring
    search's skip table on text full of spaces.) Groups combine with ``+``.
    """

    __slots__ = ("_by_trigger", "_triggers")

    def __init__(self, groups: Iterable[tuple[bytes, re.Pattern]]) -> None:
        by_trigger: dict[bytes, tuple[re.Pattern, ...]] = {}
        for trigger, pattern in groups:
            by_trigger[trigger] = (*by_trigger.get(trigger, ()), pattern)
        self._by_trigger = by_trigger
        self._triggers = frozenset(by_trigger)
        register_words(self._triggers)

    def __add__(self, other: PhraseGroups) -> PhraseGroups:
        return PhraseGroups([*self._pairs(), *other._pairs()])

    def _pairs(self) -> list[tuple[bytes, re.Pattern]]:
        return [(t, p) for t, patterns in self._by_trigger.items() for p in patterns]

    def count(self, voice: str, vocab: frozenset[bytes], end: int | None = None) -> int:
        """Return the number of phrase occurrences in ``voice[:end]``.

        ``voice`` and ``vocab`` are :func:`own_voice` and :func:`vocabulary` of one text.
        """
        present = self._triggers.intersection(vocab)
        if not present:
            return 0
        n = 0
        stop = len(voice) if end is None else end
        for trigger in present:
            for pattern in self._by_trigger[trigger]:
                n += len(pattern.findall(voice, 0, stop))
        return n

    def triggers(self) -> frozenset[bytes]:
        """Return every trigger word (for tests and documentation)."""
        return self._triggers


def phrase_groups(
    phrases: Mapping[str, Iterable[str]],
    *,
    not_after: Iterable[str] = (),
    not_before: str = "",
) -> PhraseGroups:
    """Build :class:`PhraseGroups` from ``{anchor: [template, ...]}``.

    Each template (``{a|b}`` alternatives allowed, see :func:`expand`) must contain its
    anchor; the text before the anchor's first occurrence becomes a look-behind context
    (``^`` at the start of a template means :data:`SENTENCE_START`, and the anchor must
    then come first) and the text after it a literal right context. The trigger word is
    the anchor's first word-piece (``"can't"`` is triggered by ``"can"``), matching how
    :func:`vocabulary` splits words. ``not_after`` and ``not_before`` apply to every
    phrase, see :func:`anchored_pattern`.
    """
    excluded = tuple(not_after)
    groups: list[tuple[bytes, re.Pattern]] = []
    for anchor, templates in phrases.items():
        contexts: list[tuple[str, str]] = []
        for template in templates:
            for phrase in expand(template):
                start = phrase.startswith(SENTENCE_START)
                body = phrase[1:] if start else phrase
                idx = body.find(anchor)
                if idx < 0:
                    raise ValueError(f"phrase {phrase!r} does not contain anchor {anchor!r}")
                if start and idx:
                    raise ValueError(f"sentence-start phrase {phrase!r} must begin with anchor")
                left = SENTENCE_START if start else body[:idx]
                contexts.append((left, _literal_right(body[idx + len(anchor) :])))
        trigger = anchor.encode().translate(_PUNCT_TO_SPACE).split()[0]
        pattern = anchored_pattern(anchor, contexts, not_after=excluded, not_before=not_before)
        groups.append((trigger, pattern))
    return PhraseGroups(groups)


def _literal_right(right: str) -> str:
    if not right:
        return ""
    # A right context ending in punctuation ("yes,") needs no word boundary after it, and
    # Markdown emphasis may close before the punctuation ("**yes**,").
    if right[-1].isalnum():
        return re.escape(right)
    head, mark = right[:-1], right[-1]
    return re.escape(head) + r"(?:\*\*|__)?\s*" + re.escape(mark)


# --------------------------------------------------------------------------- trie regexes


def trie_regex(strings: Iterable[str]) -> str:
    """Return a regex source matching any of ``strings``, preferring the longest.

    Strings are merged into a character trie, so alternatives that share a prefix share
    the work of matching it, and the top level is an alternation of single literal
    characters, which the regex engine turns into a fast first-character filter.
    """
    trie: dict[str, Any] = {}
    for s in strings:
        if not s:
            continue
        node = trie
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}
    # The top level stays a bare alternation of literal-led branches (no group, no
    # character class): that is the shape for which the regex compiler builds the
    # first-character filter, and without it every position of the subject would walk
    # every branch (a 5,000-emoji trie then costs ~2 ms per response instead of ~2 µs).
    return "|".join(re.escape(ch) + _trie_source(trie[ch]) for ch in sorted(trie) if ch)


def _trie_source(node: dict[str, Any]) -> str:
    terminal = "" in node
    leaves: list[str] = []
    branches: list[str] = []
    for ch in sorted(k for k in node if k):
        sub = _trie_source(node[ch])
        if sub:
            branches.append(re.escape(ch) + sub)
        else:
            leaves.append(ch)
    if len(leaves) == 1:
        branches.append(re.escape(leaves[0]))
    elif leaves:
        branches.append("[" + "".join(_class_escape(ch) for ch in leaves) + "]")
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if terminal:
        # Greedy optional: try the longer string first, fall back to the shorter one.
        return body + "?" if len(branches) == 1 and len(body) == 1 else f"(?:{body})?"
    return body


def _class_escape(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else ch
