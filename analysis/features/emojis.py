"""The ``emojis`` extractor: how many emoji a response contains, counted as users see them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import emoji

from analysis.features._text import Message, trie_regex
from analysis.features.registry import Extractor

# Every emoji's first code point is ©, ® or in one of these ranges (checked when the
# tables are built). The class is a superset, but a compact one: the regex engine tests it
# at ~5 ns per character, where the exact set of 1,400 first characters (60 ranges above
# the BMP) costs ~100 ns per character. Everyday non-ASCII punctuation (’ “ ” — … •) lies
# below U+203C and CJK text above U+2BFF, so neither stops the scan.
_CANDIDATE = re.compile(r"[\u00a9\u00ae\u203c-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]")
# Keycaps are the only emoji that start with an ASCII character.
_KEYCAP = re.compile(r"[#*0-9]\ufe0f?\u20e3")
_SINGLE = object()  # the first character alone is the whole emoji


@cache
def _tails() -> dict[str, object]:
    """Map each emoji's first character to a matcher for what may follow it.

    The value is ``_SINGLE`` when only the character itself is an emoji, otherwise a
    compiled pattern for the possible continuations (longest first), plus whether the
    character alone is an emoji. Built on first use (~20 ms) from the ``emoji`` package's
    table of RGI emoji and their unqualified variants, so a new release of the package
    brings new emoji without code changes.
    """
    continuations: dict[str, set[str]] = {}
    for emj in emoji.EMOJI_DATA:
        if emj[0].isascii():
            if not _KEYCAP.fullmatch(emj):
                raise AssertionError(f"unexpected ASCII-led emoji {emj!r}")
            continue
        if not _CANDIDATE.match(emj):
            raise AssertionError(f"emoji {emj!r} starts outside the candidate class")
        continuations.setdefault(emj[0], set()).add(emj[1:])
    compiled: dict[frozenset[str], re.Pattern] = {}
    table: dict[str, object] = {}
    for first, rests in continuations.items():
        alone = "" in rests
        rests = frozenset(rests - {""})
        if not rests:
            table[first] = _SINGLE
            continue
        if rests not in compiled:
            compiled[rests] = re.compile(trie_regex(rests))
        table[first] = (compiled[rests], alone)
    return table


def count_emojis(text: str) -> int:
    """Return the number of emoji in ``text``.

    Counts what a reader sees as one emoji once: a ZWJ sequence (👨‍👩‍👧‍👦), a skin-tone
    modified emoji (👍🏽), a flag (🇫🇷, 🏴󠁧󠁢󠁳󠁣󠁴󠁿), a keycap (1️⃣) and an emoji with its
    variation selector (❤️) are each 1. Emoji-capable symbols that ``emoji.EMOJI_DATA``
    lists count too, with or without the emoji variation selector: ©, ®, ™, ❤, ☺.

    Does not count: ASCII emoticons (``:-)``), text-style shortcodes (``:smile:``), a lone
    regional indicator letter (🇫), a keycap base without its combining mark (``1️``).

    Agrees with ``emoji.emoji_count`` except on malformed sequences, where a zero-width
    joiner dangles after a complete emoji (``"❤️\\u200dx"``, ``"🚶🏼‍♀️\\u200db"``): the
    ``emoji`` package then drops or splits the emoji before it, this function counts what
    is displayed (one emoji). A ZWJ sequence that Unicode does not recommend (👨‍🦰‍👧) is
    displayed as its parts and counted as its parts, like the ``emoji`` package does.

    Plain ASCII text returns at once: every emoji contains a non-ASCII code point (a keycap
    ``1️⃣`` is ``1`` + U+FE0F + U+20E3). Other text is scanned once for possible first
    characters, and only those are looked at in Python; the longest emoji starting there
    wins (the continuation patterns are character tries with greedy optional groups).
    """
    if text.isascii():
        return 0
    n = len(_KEYCAP.findall(text)) if "\u20e3" in text else 0
    tails = _tails()
    search = _CANDIDATE.search
    pos = 0
    while (m := search(text, pos)) is not None:
        start = m.start()
        pos = start + 1
        tail = tails.get(text[start])
        if tail is None:  # in the candidate class but not an emoji
            continue
        if tail is _SINGLE:
            n += 1
            continue
        pattern, alone = tail
        if (rest := pattern.match(text, pos)) is not None:
            pos = rest.end()
            n += 1
        elif alone:
            n += 1
    return n


def emoji_features(text: str, messages: Sequence[Message] = ()) -> tuple[float]:
    """Return ``(count,)``; see :func:`count_emojis`.

    >>> emoji_features("Done 👍🏽 🇫🇷 👨‍👩‍👧‍👦!")
    (3.0,)
    """
    return (float(count_emojis(text)),)


EXTRACTOR = Extractor(
    name="emojis",
    version=1,
    description="Number of emoji, counting ZWJ sequences, skin tones, flags and keycaps once.",
    unit="count",
    columns=("",),
    func=emoji_features,
)
