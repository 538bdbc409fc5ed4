"""The ``flattery`` extractor: praise of the user or of their question, idea or work."""

from __future__ import annotations

import re
from collections.abc import Sequence

from analysis.features._text import (
    Message,
    own_voice,
    phrase_groups,
    register_words,
    vocabulary,
    word_count,
)
from analysis.features.registry import Extractor

# --------------------------------------------------------------------------- vocabulary

# fmt: off
_PRAISE_ADJECTIVES = [
    "great", "good", "excellent", "brilliant", "fantastic", "wonderful", "thoughtful",
    "insightful", "interesting", "fascinating", "intriguing", "thought-provoking", "smart",
    "clever", "astute", "intelligent", "perceptive", "superb", "terrific", "awesome", "amazing",
    "lovely", "beautiful", "neat", "nice", "solid", "perfect", "outstanding", "incredible",
    "profound", "sharp", "keen", "valid", "fair", "phenomenal", "stellar", "spot-on", "wise",
    "creative", "deep", "impressive", "remarkable", "exceptional",
]
_INTENSIFIERS = [
    "really", "very", "truly", "such", "so", "super", "incredibly", "genuinely", "particularly",
    "absolutely", "quite", "most", "extremely", "exceptionally",
]

# What the praise is about. Strong nouns are nearly always the user's contribution when
# praised ("great question"); weak ones are often the response's own ("a good approach
# is...", "it's a good idea to..."), so they need a context that points at the user.
_STRONG_NOUNS = [
    "question", "query", "inquiry", "enquiry", "observation", "catch", "point", "insight",
    "remark",
]
_WEAK_NOUNS = [
    "idea", "thinking", "thought", "suggestion", "approach", "plan", "instinct", "intuition",
    "perspective", "take", "reasoning", "curiosity", "choice", "initiative", "attitude",
    "mindset", "job", "work", "eye", "mind", "taste", "topic", "analysis",
]
# fmt: on

_ADJ = "|".join(re.escape(a) for a in sorted(_PRAISE_ADJECTIVES, key=len, reverse=True))
_INT = "|".join(_INTENSIFIERS)
_ADJP = rf"(?:(?:{_INT})\s+)*(?:{_ADJ})(?:(?:\s*,\s*|\s+and\s+)(?:(?:{_INT})\s+)*(?:{_ADJ}))*"

# --------------------------------------------------------------------------- noun praise

# Left contexts that make "<adjective> <noun>" praise addressed to the user. The search
# runs on the ~90 characters before a noun and must end right before it.
_LEFT = re.compile(
    rf"""
    (?:
      (?P<start>                                # a sentence or line starts here
        (?:\n|[.!?:;]\s+) (?:[\s*_#>-]|\d+\.)*
        (?:(?:oh|wow|ah|well|hi|hey|hello|okay|ok|so|first|firstly|first\s+of\s+all
             |first\s+off|honestly|yes|sure|absolutely|certainly)[,!]?\s+)*
        (?:(?:what|such)\s+)? (?:an?\s+)?
      )
    | (?P<that>                                 # that's a / it is such a / this was an
        (?:(?P<subject>that|this|it|which)
           (?:'s|\s+is|\s+was|'s\s+been|\s+has\s+been|\s+makes\s+for|\s+sounds\s+like)
          |(?:these|those|they)(?:'re|\s+are|\s+were))\s+
        (?:(?:such|really|truly|quite|definitely|certainly|indeed|absolutely)\s+)*
        (?:an?\s+)?
      )
    | (?P<what>(?<![\w'])(?:what|such)\s+(?:an?\s+)?)
    | (?P<your>(?<![\w'])your\s+)
    | (?P<you>                                  # you asked a / you've made such a
        (?<![\w'])you(?:'ve|\s+have|'d|\s+had)?\s+
        (?:(?:really|just|certainly|definitely|clearly|already)\s+)?
        (?:asked|raised|made|posed|brought\s+up|hit\s+on|hit\s+upon|got|found|spotted
           |caught|make|raise|ask|pose|have|bring\s+up|did|done|had|shared|chosen|picked)\s+
        (?:(?:such|some|really|an?|the)\s+)*
      )
    | (?P<thanks>                               # thanks for this / thank you for such a
        (?<![\w'])thanks?(?:\s+you)?(?:\s+so\s+much|\s+very\s+much)?\s+for\s+
        (?:(?:asking|sharing|raising|bringing\s+up|posing)\s+)?
        (?:(?:such|this|that|the|your|an?|these|those)\s+)*
      )
    )
    {_ADJP}[\s-]+\Z
    """,
    re.VERBOSE,
)
# "I love this question", "I really appreciate your curiosity", "Love this idea!".
_LOVE = re.compile(
    rf"""(?:(?<![\w'])i\s+|(?:\n|[.!?]\s+)(?:[\s*_#>-])*)
    (?:(?:really|just|absolutely|truly|genuinely)\s+)?
    (?:love|like|appreciate|admire|enjoy)\s+(?:this|that|your|the|such\s+an?)\s+
    (?:{_ADJP}[\s-]+)?\Z""",
    re.VERBOSE,
)
_NEGATED = re.compile(r"(?:\bnot|n't|\bnever|\bhardly|\bno)\s+(?:[\w']+\s+){0,2}\Z")
# "A good question to ask yourself is...", "a good point of reference", "an interesting
# question is whether...": the noun is the response's own.
_RIGHT_NOT_STRONG = re.compile(
    r"\s+(?:of|would|might|could|is\s+(?:whether|how|why|what|if|to)|to\s+ask\s+yourself)\b"
)
_RIGHT_NOT_START = re.compile(r"\s+to\b")
_RIGHT_NOT_WEAK = re.compile(r"\s+(?:to|of|for|would|might|could|is|was|will)\b")
_RIGHT_EXCLAIM = re.compile(r"(?:\*\*|__)?\s*[!.]")

_WINDOW = 90
# The word right before a praised noun is an adjective, or a determiner after "I love".
_PREFILTER = frozenset(_PRAISE_ADJECTIVES) | {"this", "that", "your", "the"}


def _noun_pattern(noun: str) -> re.Pattern:
    # Starts with the literal noun, so the engine jumps between its occurrences; the
    # look-behind right after it checks the word boundary in front.
    return re.compile(rf"{noun}(?<!\w{noun})s?(?!\w)")


# Vocabulary word (singular and plural) -> (pattern, weak); one set intersection tells
# which nouns occur at all.
_NOUNS: dict[bytes, tuple[re.Pattern, bool]] = {}
for _noun in (*_STRONG_NOUNS, *_WEAK_NOUNS):
    _entry = (_noun_pattern(_noun), _noun in _WEAK_NOUNS)
    _NOUNS[_noun.encode()] = _NOUNS[_noun.encode() + b"s"] = _entry
_NOUN_WORDS = frozenset(_NOUNS)


def _praised_nouns(voice: str, vocab: frozenset[bytes]) -> int:
    present = _NOUN_WORDS.intersection(vocab)
    if not present:
        return 0
    n = 0
    for pattern, weak in {_NOUNS[word] for word in present}:
        for m in pattern.finditer(voice):
            start = m.start()
            window = voice[max(0, start - _WINDOW) : start]
            before = window.split()
            if not before or before[-1].strip("*_,") not in _PREFILTER:
                continue
            if _praise_before(window, voice, m.end(), weak):
                n += 1
    return n


def _praise_before(window: str, voice: str, end: int, weak: bool) -> bool:
    """Whether the noun ending at ``end`` is praised by the context in ``window``."""
    ctx = _LEFT.search(window) or _LOVE.search(window)
    if ctx is None or _NEGATED.search(window, 0, ctx.start()):
        return False
    groups = ctx.groupdict() if ctx.re is _LEFT else {}
    if weak:
        if groups.get("start") is not None:
            # "Great idea!" yes, "Good approach: use X" no.
            return _RIGHT_EXCLAIM.match(voice, end) is not None
        if groups.get("subject") in ("this", "which"):
            return False  # "this is a good approach" is usually the response's own
        return _RIGHT_NOT_WEAK.match(voice, end) is None
    if _RIGHT_NOT_STRONG.match(voice, end):
        return False
    return not (groups.get("start") is not None and _RIGHT_NOT_START.match(voice, end))


# --------------------------------------------------------------------------- the user

_USER_ADJECTIVES = (
    r"smart|brilliant|clever|insightful|thoughtful|astute|perceptive|sharp|wise|intelligent"
    r"|observant|talented|gifted|amazing|awesome|incredible|genius|natural|pro"
    r"|quick\s+learner|on\s+the\s+right\s+track|spot\s+on|onto\s+something"
    r"|on\s+to\s+something"
    r"|right\s+to\s+(?:ask|wonder|question|think|be|bring|raise|consider|notice|point|check"
    r"|double-check|look|focus|want|care|worry|challenge|push|seek|consult|get|keep|trust"
    r"|suspect|feel|flag)"
)
# "You're absolutely right to ask", "you are so smart", "you've clearly got a sharp eye".
_YOU_ARE = re.compile(
    rf"""you(?<![\w']you)
    (?:'re|\s+are|'ve\s+been|\s+have\s+been|\s+were|\s+seem(?:\s+to\s+be)?|\s+must\s+be)\s+
    (?:(?:{_INT}|clearly|obviously|definitely|certainly|totally|completely|exactly)\s+)*
    (?:(?:a|an)\s+(?:(?:{_INT})\s+)*(?:{_ADJ})\s+(?:thinker|mind|observer|learner)
      |(?:an?\s+)?(?:{_USER_ADJECTIVES}))(?![\w-])""",
    re.VERBOSE,
)
# Every _YOU_ARE match contains one of these words; without any, the regex is not run.
_YOU_ARE_WORDS = frozenset(
    b"smart brilliant clever insightful thoughtful astute perceptive sharp wise intelligent "
    b"observant talented gifted amazing awesome incredible genius natural pro learner track "
    b"spot something right thinker mind observer".split()
)
# Every _YOUR_IS match contains one of these words (singular or plural).
_YOUR_NOUNS = frozenset(
    word + plural
    for word in (
        b"question idea thinking reasoning approach instinct intuition curiosity observation "
        b"point insight analysis plan suggestion work effort enthusiasm understanding attention"
    ).split()
    for plural in (b"", b"s")
)
_YOUR_IS = re.compile(
    rf"""your(?<![\w']your)\s+
    (?:question|idea|thinking|reasoning|approach|instinct|intuition|curiosity|observation
       |point|insight|analysis|plan|suggestion|work|effort|enthusiasm|understanding
       |attention\s+to\s+detail)s?\s+
    (?:is|was|are|were|seems|sounds|shows|reflects|demonstrates)\s+
    (?:(?:{_INT}|clearly|definitely|certainly)\s+)*(?:an?\s+)?
    (?:{_ADJ}|admirable|commendable|spot\s+on|on\s+point
       |(?:(?:great|real|genuine|a\s+lot\s+of)\s+)?(?:insight|curiosity|thought|care|maturity))
    (?![\w-])""",
    re.VERBOSE,
)

# Praise words that open a sentence on their own: "Brilliant!".
# fmt: off
_INTERJECTIONS = [
    "great", "excellent", "brilliant", "fantastic", "wonderful", "awesome", "amazing", "superb",
    "terrific", "impressive", "outstanding", "bravo", "kudos", "splendid", "marvelous",
]
# fmt: on
_OF_YOU_ADJ = (
    "{kind|thoughtful|smart|clever|wise|sweet|generous|considerate|perceptive|astute|sharp"
    "|insightful|brilliant}"
)
_OF_YOU = phrase_groups(
    {
        "of you": [f"{{very |so |really |}}{_OF_YOU_ADJ} of you"],
        "well": ["^well done!", "^well done.", "^well done,"],
    }
)
# Interjections at the start of a sentence: "Brilliant!", "Oh, excellent!". Only run when
# the response has a "!" at all, since "great" and "amazing" are common words.
_EXCLAIMED = phrase_groups(
    {adj: [f"^{adj}!", f"{{oh|wow|ah}}, {adj}!", f"{{oh|wow|ah}} {adj}!"] for adj in _INTERJECTIONS}
)


register_words(_NOUN_WORDS | _YOU_ARE_WORDS | _YOUR_NOUNS | {b"you", b"your"})


def _negated_before(voice: str, start: int) -> bool:
    return _NEGATED.search(voice, max(0, start - 40), start) is not None


def count_flattery(text: str) -> int:
    """Return the number of compliments addressed to the user or their contribution.

    Counts (1 each):

    * praise of the question or the user's idea, point or work: ``Great question!``,
      ``What a thoughtful idea``, ``That's a really insightful observation``, ``You asked
      a brilliant question``, ``Thanks for such a fascinating question``, ``Good catch``,
      ``Great job!``, ``You have a keen eye``;
    * praise of the user: ``You're absolutely right to ask``, ``you're so smart``, ``You're
      on the right track``, ``How thoughtful of you``, ``Your question is excellent``,
      ``Your curiosity is admirable``;
    * loving or appreciating it: ``I love this question``, ``I really appreciate your
      curiosity``;
    * interjections opening a sentence: ``Brilliant!``, ``Oh, excellent!``, ``Well done!``.

    Does not count:

    * praise of third parties or of the subject matter: ``The Eiffel Tower is a brilliant
      piece of engineering``, ``Einstein asked a brilliant question``, ``This approach is
      great`` (the response's own approach), ``It's a good idea to back up first``,
      ``A good question to ask yourself is...``;
    * negations: ``That's not a great question``, ``not such a great idea``, ``I don't
      think you're right to ask``;
    * quoted text (``"great question"``, a ``>`` blockquote) and code;
    * agreement without praise: ``You're right`` (see the ``agreement`` extractor).
    """
    voice = own_voice(text)
    vocab = vocabulary(text)
    n = _praised_nouns(voice, vocab)
    if b"you" in vocab and not _YOU_ARE_WORDS.isdisjoint(vocab):
        for m in _YOU_ARE.finditer(voice):
            if not _negated_before(voice, m.start()):
                n += 1
    if b"your" in vocab and not _YOUR_NOUNS.isdisjoint(vocab):
        n += len(_YOUR_IS.findall(voice))
    n += _OF_YOU.count(voice, vocab)
    if "!" in voice:
        n += _EXCLAIMED.count(voice, vocab)
    return n


def flattery_features(text: str, messages: Sequence[Message] = ()) -> tuple[float, float]:
    """Return ``(count, rate)``: compliments and compliments per 100 words.

    ``rate`` is ``100 * count / words`` with ``words`` as in the ``length`` extractor (0
    for an empty response). See :func:`count_flattery` for what counts.

    >>> flattery_features("Great question! The Eiffel Tower is a brilliant engineering feat.")
    (1.0, 10.0)
    """
    count = count_flattery(text)
    n_words = word_count(text)
    return float(count), (100.0 * count / n_words) if n_words else 0.0


EXTRACTOR = Extractor(
    name="flattery",
    version=1,
    description="Praise of the user or their question, idea or work (not of third parties).",
    unit="count; per 100 words",
    columns=("count", "rate"),
    func=flattery_features,
)
