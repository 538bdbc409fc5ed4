"""The ``tone`` extractor: exclamations, hedges, confident assertions, apologies and refusals."""

from __future__ import annotations

import re
from collections.abc import Sequence

from analysis.features._text import Message, own_voice, phrase_groups, strip_code, vocabulary
from analysis.features.registry import Extractor

# Phrase lists: {anchor: [template, ...]}. A template may hold {a|b} alternatives and
# contains its anchor once; every occurrence of an anchor counts at most once. All
# matching is on whole words of the lower-cased response outside code, blockquotes and
# double quotes (quoting someone else's "I'm sorry" is not an apology).

_I_AM = "{i'm|i am}"

HEDGES = phrase_groups(
    {
        "might": ["might"],
        "perhaps": ["perhaps"],
        "possibly": ["possibly"],
        "maybe": ["maybe"],
        "probably": ["probably"],
        "seems": ["seems"],
        "seem": ["seem"],
        "seemingly": ["seemingly"],
        "apparently": ["apparently"],
        "appears": ["it appears"],
        "sure": [f"{_I_AM} not {{entirely |completely |totally |100% |quite |}}sure", "not sure"],
        "certain": [f"{_I_AM} not {{entirely |completely |totally |100% |}}certain"],
        "unsure": ["unsure"],
        "think": ["i think"],
        "believe": ["i believe"],
        "suspect": ["i suspect"],
        "guess": ["i guess"],
        "possible": ["{it's|it is} possible"],
        "knowledge": ["to my knowledge", "to the best of my knowledge"],
        "know": ["as far as i know"],
        "mistaken": ["if i'm not mistaken", "if i am not mistaken"],
        "wrong": ["i {could|may} be wrong"],
    }
)
"""Uncertainty markers. A phrase never contains another group's anchor word ("I might be
wrong" is counted once, by "might"). Deliberately absent: "may" and "could", which are mostly about
permission and ability ("you may use", "this could be done with"), and "likely"."""

CONFIDENT = phrase_groups(
    {
        "definitely": ["definitely"],
        "certainly": ["certainly"],
        "undoubtedly": ["undoubtedly"],
        "unquestionably": ["unquestionably"],
        "doubt": ["without a doubt", "without any doubt", "no doubt", "beyond doubt"],
        "question": ["without question"],
        "absolutely": ["absolutely"],
        "obviously": ["obviously"],
        "course": ["of course"],
        "sure": ["for sure", f"{_I_AM} {{completely |}}sure"],
        "certain": [f"{_I_AM} {{completely |}}certain"],
        "confident": [f"{_I_AM} {{completely |}}confident"],
        "guaranteed": ["guaranteed"],
    }
)
"""Certainty markers. Not "clearly", mostly a manner adverb in answers ("explain it
clearly"). "I'm sure" is confident but "I'm not sure" is a hedge: phrases are
matched as whole strings, so the one never matches inside the other."""

APOLOGIES = phrase_groups(
    {
        "sorry": ["sorry"],
        "apologize": ["i {sincerely |do |truly |}apologize"],
        "apologise": ["i {sincerely |do |truly |}apologise"],
        "apologies": ["{my |}apologies"],
        "apology": ["my apology", "my sincere apology"],
    }
)
"""Apology markers, including sympathetic "I'm sorry to hear that"."""

_REFUSE_VERBS = (
    "{help with|help you with|help you|help that|help here|help in|assist|provide|do that"
    "|do this|comply|fulfill|fulfil|create|write|generate|share|give|engage|support|answer"
    "|continue|participate|produce|offer|recommend|endorse}"
)
REFUSALS = phrase_groups(
    {
        "can't": [f"i can't {_REFUSE_VERBS}"],
        "cannot": [f"i cannot {_REFUSE_VERBS}"],
        "won't": [f"i won't {{be able to |}}{_REFUSE_VERBS}"],
        "will": [f"i will not {{be able to |}}{_REFUSE_VERBS}"],
        "unable": [f"{_I_AM} unable to {_REFUSE_VERBS}"],
        "able": [f"{_I_AM} not able to {_REFUSE_VERBS}"],
        "going": [f"{_I_AM} not going to {_REFUSE_VERBS}"],
        "decline": ["i {must|have to|need to|will have to|'ll have to|'m going to} decline"],
        "comfortable": [f"{_I_AM} not comfortable"],
    }
)
"""Refusal markers: the first person saying it cannot or will not do the task. "I can't help
but notice" does not count (no refusal verb follows), nor "you can't do that"."""


_NOT_EXCLAMATION = re.compile(r"!(?=[\[=])")


def count_exclamations(text: str) -> int:
    """Return the number of ``!`` outside code, not counting ``![alt](…)`` images or ``!=``."""
    prose = strip_code(text)
    n = prose.count("!")
    if n:
        n -= len(_NOT_EXCLAMATION.findall(prose))
    return n


def tone_features(text: str, messages: Sequence[Message] = ()) -> tuple[float, ...]:
    """Return ``(exclamations, hedges, confident, apologies, refusals)`` counts.

    Examples (each line counts 1 in its column unless it says 0):

    * exclamations: ``Great!``; ``Wow!!`` is 2. 0: ``print("hi!")`` inside code,
      ``x != y``, ``![logo](logo.png)``.
    * hedges: ``might``, ``perhaps``, ``possibly``, ``maybe``, ``probably``, ``it seems``,
      ``it appears``, ``I'm not sure``, ``I'm not certain``, ``I think``, ``I believe``,
      ``if I'm not mistaken``, ``I could be wrong``. 0: ``mighty``, ``you may``, ``it
      could``, ``the window appears``.
    * confident: ``definitely``, ``certainly``, ``undoubtedly``, ``without a doubt``,
      ``no doubt``, ``absolutely``, ``obviously``, ``of course``, ``for sure``,
      ``I'm sure``, ``I'm certain``, ``I'm confident``, ``guaranteed``. 0: ``I'm not sure``
      (a hedge), ``make sure``, ``certain people``.
    * apologies: ``I'm sorry``, ``Sorry for the confusion``, ``I apologize``, ``my
      apologies``, ``Apologies for the delay``. 0: ``he apologized``, a quoted
      ``"I'm sorry"``.
    * refusals: ``I can't help with that``, ``I cannot assist``, ``I won't be able to
      provide``, ``I'm unable to comply``, ``I'm not able to share``, ``I must decline``,
      ``I'm not comfortable``. 0: ``I can't help but notice``, ``you can't do that``,
      ``I can't believe``.

    Hedges, confident assertions, apologies and refusals are whole-word, case-insensitive
    matches in the response's own voice (outside code, blockquotes and double quotes);
    each occurrence counts, negation is not analysed ("certainly not" is confident).
    """
    voice = own_voice(text)
    vocab = vocabulary(text)
    return (
        float(count_exclamations(text)),
        float(HEDGES.count(voice, vocab)),
        float(CONFIDENT.count(voice, vocab)),
        float(APOLOGIES.count(voice, vocab)),
        float(REFUSALS.count(voice, vocab)),
    )


EXTRACTOR = Extractor(
    name="tone",
    version=1,
    description="Exclamations, hedges, confident assertions, apologies and refusals.",
    unit="count",
    columns=("exclamations", "hedges", "confident", "apologies", "refusals"),
    func=tone_features,
)
