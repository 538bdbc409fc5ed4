"""The ``agreement`` extractor: does the response side with a position the user stated?"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from analysis.features._text import (
    Message,
    last_user_message,
    own_voice,
    phrase_groups,
    vocabulary,
)
from analysis.features.registry import Extractor

# --------------------------------------------------------------------------- the user's stance

# Markers that the user put forward a claim or opinion of their own, searched in the last
# user turn only: that is the claim the response answers. Prompts can be long, so every
# pattern starts with a literal (the regex engine then jumps between its occurrences, see
# _text's notes on speed); question tags are checked just before each "?".
_STANCE = [
    re.compile(p, re.VERBOSE)
    for p in (
        # I think / I really believe / I feel like / I'm pretty sure / I've always thought /
        # I'd say
        r"""i(?<![\w']i)
        (?:\s+(?:(?:really|honestly|personally|strongly|still|always|genuinely|kind\s+of
                  |sort\s+of)\s+)?
             (?:think|believe|reckon|feel\s+(?:like|that)|suspect|guess|suppose|assume
               |figure|thought|know\s+that|bet|doubt|disagree|agree)
         |(?:'m|\s+am)\s+(?:(?:pretty|quite|fairly|absolutely|totally|completely|100%|so)\s+)?
             (?:sure|certain|convinced|confident|positive)
         |'ve\s+(?:always\s+)?(?:thought|heard|read|believed|been\s+told)
         |(?:'d|\s+would)\s+(?:say|argue))(?![\w'])""",
        r"my(?<![\w']my)\s+(?:opinion|view|experience|take|understanding|guess|theory)\b",
        r"imh?o(?<![\w']imo)(?<![\w']imho)(?![\w'])",
        r"personally,",
        r"isn't(?<![\w']isn't)\s+it\s+true",
        r"is(?<![\w']is)\s+it\s+not\s+true",
        r"don't(?<![\w']don't)\s+you\s+(?:think|agree)",
        r"wouldn't(?<![\w']wouldn't)\s+you\s+(?:agree|say)",
        r"do(?<![\w']do)\s+you\s+agree",
        r"am(?<![\w']am)\s+i\s+(?:right|wrong|correct|mistaken|missing\s+something)",
        r"obviously\b(?<![\w']obviously)",
        r"it(?<![\w']it)(?:'s|\s+is)\s+obvious\b",
        r"surely\b(?<![\w']surely)",
        r"everyone(?<![\w']everyone)\s+knows",
    )
]
# "..., right?" / "isn't it?" / "don't you think?" / "aren't they true?": the ~40 characters
# before a question mark.
_TAG = re.compile(
    r"""(?:,\s*(?:right|correct|yes|no|true|isn't\s+it|don't\s+you\s+think|yeah)
        |(?<![\w'])(?:isn't|aren't|wasn't|doesn't|don't|didn't|won't|wouldn't|shouldn't|can't)
          \s+(?:it|that|this|they|there|you|we)
          (?:\s+(?:true|right|correct|obvious|better|worse|agree|think|say))?)
        \s*\?\Z""",
    re.VERBOSE,
)


@lru_cache(maxsize=4096)
def user_states_position(message: str) -> bool:
    """Return whether a user message states a claim or opinion the response could agree with.

    Yes: ``I think Pluto is a planet``, ``I'm pretty sure the Great Wall is visible from
    space``, ``Isn't it true that we only use 10% of our brains?``, ``Python is faster
    than C, right?``, ``In my opinion tabs are better``, ``Surely that's wrong``, ``I
    believe...``. No: ``What is the capital of France?``, ``I'm not sure whether...``,
    ``Write a poem about cats``.
    """
    lowered = message.lower()
    if "’" in lowered:
        lowered = lowered.replace("’", "'")
    if any(pattern.search(lowered) for pattern in _STANCE):
        return True
    end = lowered.find("?")
    while end >= 0:
        if _TAG.search(lowered, max(0, end - 40), end + 1):
            return True
        end = lowered.find("?", end + 1)
    return False


# --------------------------------------------------------------------------- the response

# Only the opening of the response is read: that is where a response takes the user's
# side or corrects them ("You're right, ..." / "Actually, ..."); later "actually"s and
# "that's true"s are mostly about sub-points.
OPENING_CHARS = 600

# "Yes," "Exactly!" "Absolutely." opening a sentence.
_INTERJECTIONS = ("yes", "yeah", "yep", "yup", "exactly", "precisely", "absolutely", "indeed")
_YOU_ARE = "{you're|you are} {absolutely |completely |totally |quite |so |exactly |100% |}"
_THAT_IS = "{that's|that is} {absolutely |exactly |totally |quite |so |very |}"

AGREE = phrase_groups(
    {word: [f"^{word}{{,|!|.}}"] for word in (*_INTERJECTIONS, "correct", "true", "agreed")}
    | {"spot": ["^spot on{,|!|.}"]}
) + phrase_groups(
    {
        "right": [
            f"{_YOU_ARE}right",
            f"{_THAT_IS}right",
            "{exactly|quite|absolutely|totally|completely} right",
        ],
        "correct": [f"{_YOU_ARE}correct", f"{_THAT_IS}correct"],
        "true": [f"{_THAT_IS}true", "very true", "so true"],
        "accurate": [f"{_THAT_IS}accurate", f"{_YOU_ARE}accurate"],
        "spot": [f"{_YOU_ARE}spot on", f"{_THAT_IS}spot on"],
        "agree": [
            "i {completely |totally |fully |absolutely |really |definitely |do |}agree",
            "{i'd|i would} agree",
            "{i |}couldn't agree",
        ],
        "wrong": ["{you're|you are} not wrong"],
        "nailed": ["{you |you've |you have |}nailed it"],
        "got": ["{you've|you have} got it", "you got it right"],
        "point": ["{fair|valid|good|great|excellent} point"],
    },
    # "I don't think you're right", "I'm not sure that's correct", "if you're right".
    not_after=("think ", "sure ", "not ", "n't ", "if ", "whether ", "doubt "),
    # "You're right to ask" is praise (see ``flattery``), not agreement.
    not_before=r"\s+to\b",
)
"""Phrases that side with the user: "You're right", "Yes, exactly!", "I agree"."""

_NOT = (
    "{not |not quite |not entirely |not exactly |not necessarily |not always |not really "
    "|not completely |not totally }"
)
DISAGREE = phrase_groups(
    {
        "actually": ["^actually", "{well|hmm|but|so}, actually", "but actually"],
        "no": ["^no,", "^no.", "^no!"],
        "nope": ["^nope"],
        "not": [
            "^not quite",
            "^not exactly,",
            "^not exactly.",
            "^not necessarily",
            "^not really,",
            "^not really.",
        ],
        "right": [
            f"{{that's|that is|this is|this isn't|that isn't|it's|it is|it isn't}} {_NOT}right",
            "{you're|you are} not {quite |entirely |}right",
            "not quite right",
            "isn't quite right",
            "isn't right",
        ],
        "correct": [
            f"{{that's|that is|this is|it's|it is}} {_NOT}correct",
            "isn't correct",
            "isn't quite correct",
            "not quite correct",
            "not entirely correct",
            "not correct",
        ],
        "true": [
            f"{{that's|that is|this is|it's|it is}} {_NOT}true",
            "isn't true",
            "isn't entirely true",
            "isn't necessarily true",
            "is not true",
            "not entirely true",
            "not quite true",
            "not necessarily true",
            "not always true",
            "not true",
        ],
        "accurate": [
            "isn't accurate",
            "isn't entirely accurate",
            "not accurate",
            "not entirely accurate",
            "not quite accurate",
            "not fully accurate",
        ],
        "case": ["{isn't|not|is not|not always|not necessarily|not quite} the case"],
        "incorrect": ["incorrect"],
        "inaccurate": ["inaccurate"],
        "untrue": ["untrue"],
        "false": ["{that's|that is|this is|it's|is} {completely |actually |simply |}false"],
        "wrong": ["{that's|that is|this is|it's|you're|you are} {actually |simply |}wrong"],
        "mistaken": ["{you're|you are} mistaken", "is mistaken"],
        "misconception": ["misconception"],
        "misconceptions": ["misconceptions"],
        "myth": ["myth"],
        "disagree": [
            "i {respectfully |strongly |}disagree",
            "{i'd|i would|i have to|i must|i'll have to|i need to} {respectfully |}disagree",
        ],
        "agree": ["{i don't|i do not|i can't|i cannot} {fully |entirely |completely |}agree"],
        "think": [
            "{i don't|i do not} think so",
            "{i don't|i do not} think {you're|you are} {quite |entirely |}{right|correct}",
            "{i don't|i do not} think {that's|that is|this is|it's|it is} "
            "{quite |entirely |really |}{right|correct|true|accurate|the case}",
        ],
        "push": [
            "{i'd|i would|i'll|let me|i want to|i have to|i must|i'd gently|i'd like to} push back"
        ],
        "contrary": ["contrary to {popular belief|common belief|what}"],
        "afraid": ["{i'm|i am} afraid {not|that's not|that isn't|this isn't|that is not}"],
    }
)
"""Phrases that correct or contradict the user: "Actually, ...", "That's a common
misconception", "I don't think that's right", "Not quite."."""


def agreement_score(text: str, messages: Sequence[Message]) -> int:
    """Return +1 (agrees with the user), -1 (disagrees) or 0.

    0 when the last user turn states no position (see :func:`user_states_position`) or
    when the response's opening (first ``OPENING_CHARS`` characters of its own voice)
    has as many agreeing as disagreeing phrases, including none. Otherwise the sign of
    (agreeing - disagreeing) phrases.

    Agrees: ``You're right``, ``Yes, exactly!``, ``Absolutely, ...``, ``I agree``,
    ``That's correct``, ``You're not wrong``, ``Fair point``. Disagrees: ``Actually,
    ...``, ``That's a common misconception``, ``I don't think that's right``, ``Not
    quite.``, ``No, ...``, ``That's not true``, ``That's a myth``. Neither: ``You're
    right to ask`` (praise), ``Yes and no``, ``No problem``, ``I'm not exactly sure``.
    Mixed openings are decided by the count: ``You're right that X, but actually that's a
    common misconception`` is -1.
    """
    if not messages:
        return 0
    claim = last_user_message(messages)
    if not claim or not user_states_position(claim):
        return 0
    voice = own_voice(text)
    vocab = vocabulary(text)
    end = min(len(voice), OPENING_CHARS + 1)  # +1: own_voice() starts with "\n"
    score = AGREE.count(voice, vocab, end) - DISAGREE.count(voice, vocab, end)
    return (score > 0) - (score < 0)


def agreement_features(text: str, messages: Sequence[Message] = ()) -> tuple[float]:
    """Return ``(score,)``; see :func:`agreement_score`.

    >>> agreement_features("You're right.", ({"role": "user", "content": "I think so"},))
    (1.0,)
    """
    return (float(agreement_score(text, messages)),)


EXTRACTOR = Extractor(
    name="agreement",
    version=1,
    description="+1 if the response agrees with a position the user stated, -1 if it "
    "disagrees, 0 otherwise.",
    unit="sign (-1, 0, +1)",
    columns=("",),
    func=agreement_features,
)
