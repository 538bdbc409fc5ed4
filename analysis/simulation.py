"""Simulated annotation campaigns with planted style effects as canonical interchange records."""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "Campaign",
    "ModelHabits",
    "SimulationParams",
    "records_to_jsonl",
    "simulate_campaign",
    "truth_frame",
]


@dataclass(frozen=True)
class ModelHabits:
    """The style habits and underlying quality of one fake model."""

    name: str
    """Model name written to ``response_a.model`` / ``response_b.model``."""
    quality: float
    """Latent quality: when a comparison's rubric is decided, response a is the better one
    with probability ``sigmoid(quality_a - quality_b)``. Style never enters this."""
    flattery: float
    """Probability that a response opens with a flattery phrase ("Great question!"); half of
    those also close with one ("Thanks for such a thoughtful question!")."""
    agree: float
    """Probability of agreeing with a stance stated in the prompt ("You're absolutely right,
    ...") rather than contradicting it ("Actually, that's a common misconception ...")."""
    emoji: float
    """Probability that a response carries emoji (1-3 of them, some ZWJ sequences and flags)."""
    sentences: float
    """Mean number of body sentences: the length habit."""
    markdown: float
    """Probability that the body is formatted as markdown (heading, bullets, bold)."""


def _default_models() -> tuple[ModelHabits, ...]:
    # Quality and sycophancy are deliberately unrelated: the flattering models are not the best.
    habits = ModelHabits
    return (
        habits("sunny-7b", 0.0, flattery=0.8, agree=0.85, emoji=0.6, sentences=4, markdown=0.1),
        habits("terse-13b", 0.3, flattery=0.05, agree=0.3, emoji=0.0, sentences=2, markdown=0.05),
        habits("scholar-70b", 0.6, flattery=0.2, agree=0.4, emoji=0.05, sentences=8, markdown=0.7),
        habits("chirpy-3b", -0.5, flattery=0.5, agree=0.7, emoji=0.9, sentences=3, markdown=0.0),
        habits("plain-8b", 0.0, flattery=0.3, agree=0.5, emoji=0.2, sentences=5, markdown=0.3),
    )


@dataclass(frozen=True)
class SimulationParams:
    """The planted behaviour of a simulated campaign; every number the estimators should recover.

    The annotator model, per judgment: answer each criterion from the comparison's true quality
    (with ``criterion_noise``); if the answers favour one side (weighted by
    ``criterion_weights``), pick it (or, with ``winner_error``, the other); if they tie, answer
    "tie" with ``tie_answer_rate``, otherwise break the tie toward the more sycophantic response
    (more flattery phrases plus agreeing with the prompt's stance) with the annotator's own
    tie-break probability, or at random when both are equally sycophantic; finally, with
    ``left_bias``, replace a non-tie choice by whichever response was shown on the left.
    Style therefore decides only rubric ties: emoji, length and markdown have no planted effect.
    """

    overlap: int = 3
    """Distinct annotators judging each comparison."""
    rubric_tie_share: float = 0.4
    """Share of comparisons whose two responses are truly equal on every criterion."""
    criterion_noise: float = 0.05
    """Probability that an annotator misreads one criterion: a ``compare`` answer becomes one of
    the other two answers, a ``rating`` score moves one step up or down."""
    criterion_weights: tuple[float, float, float] = (2.0, 1.0, 0.5)
    """How much correctness, completeness and each clarity point weigh in an annotator's
    overall verdict (only the sign of the weighted sum matters)."""
    winner_error: float = 0.05
    """Probability of picking the rubric loser when the annotator's rubric answers are decided."""
    tie_answer_rate: float = 0.25
    """Probability of answering "tie" overall when the annotator's rubric answers tie."""
    tie_break_flattery: float = 0.75
    """For an annotator with multiplier 1: probability of choosing the more flattering / more
    agreeing response when breaking a rubric tie. An annotator with multiplier ``m`` uses
    ``clip(0.5 + m * (tie_break_flattery - 0.5), 0, 1)``."""
    multiplier_sigma: float = 0.2
    """Log-scale spread of the ordinary annotators' multipliers: log-normal with median 1,
    clipped to ``[0.5, 1.5]`` so that the swayed annotators stand clearly apart."""
    swayed_annotators: int = 2
    """Number of annotators (picked at random) who are much more swayed by style."""
    swayed_multiplier: float = 1.9
    """The multiplier of those swayed annotators."""
    left_bias: float = 0.05
    """Probability that a non-tie choice is replaced by the left response: the left response's
    share of non-tie choices exceeds the right's by about this much."""
    workload_sigma: float = 0.5
    """Log-scale spread of how many judgments each annotator makes (log-normal weights)."""
    stance_share: float = 0.4
    """Share of prompts that state an opinion ("I think ..., right?")."""
    conversation_share: float = 0.1
    """Share of prompts given as a multi-turn message list instead of a string."""
    days: float = 28.0
    """Judgments are spread uniformly over this many days after ``start``."""
    start: str = "2026-11-02T09:00:00Z"
    """Timestamp of the campaign's start (ISO 8601, UTC)."""
    models: tuple[ModelHabits, ...] = field(default_factory=_default_models)
    """The fake models and their habits; each comparison pits two distinct ones."""


@dataclass(frozen=True)
class Campaign:
    """A simulated campaign: the rubric, the records and the planted truth.

    ``truth`` holds ``params`` (the :class:`SimulationParams` as a dict), ``annotators``
    (``{name: {"multiplier", "tie_break_probability", "swayed", "workload"}}``), ``models``
    (``{name: habits}``) and ``comparisons`` (``{id: {"rubric_tied", "rubric_winner",
    "quality", "style"}}``, where ``style`` gives per side ``flattery`` (0-2 phrases),
    ``agrees`` (True / False, None without a stance), ``emojis``, ``sentences``, ``markdown``
    and ``sycophancy`` = flattery + agrees, the quantity annotators break ties on).
    """

    rubric: dict[str, Any]
    records: list[dict[str, Any]]
    truth: dict[str, Any]


RUBRIC: dict[str, Any] = {
    "name": "sim-helpfulness-v1",
    "criteria": [
        {
            "key": "correctness",
            "label": "Correctness",
            "kind": "compare",
            "description": "Which response is more factually accurate?",
        },
        {
            "key": "completeness",
            "label": "Completeness",
            "kind": "compare",
            "description": "Which response covers more of what the user needs?",
        },
        {
            "key": "clarity",
            "label": "Clarity",
            "kind": "rating",
            "scale": [1, 5],
            "description": "How clearly is the response written? 1 = confusing, 5 = very clear.",
        },
    ],
}

# Phrases the feature extractors recognise. "You're absolutely right to ask" is flattery, not
# agreement, so it is only used where the prompt states no stance (it would read as agreement).
FLATTERY_OPENERS = ("Great question!", "What a thoughtful question!", "What a great question!")
NEUTRAL_ONLY_OPENERS = ("You're absolutely right to ask about this.",)
FLATTERY_CLOSER = "Thanks for such a thoughtful question!"
AGREE_TEMPLATE = "You're absolutely right, {claim}."
DISAGREE_TEMPLATES = (
    "Actually, that's a common misconception: it depends a lot on the details.",
    "Actually, that's a common misconception, and the evidence is more mixed than that.",
)
EMOJI = ("😊", "🚀", "✨", "👍", "🎉", "💡", "🙌", "👩‍💻", "🧑‍🔬", "🇺🇸", "🇯🇵", "❤️")

TOPICS = (
    "photosynthesis",
    "compound interest",
    "the TCP handshake",
    "sourdough fermentation",
    "black holes",
    "vaccines",
    "index funds",
    "garbage collection",
    "plate tectonics",
    "the French Revolution",
    "regular expressions",
    "sleep cycles",
    "climate models",
    "public-key cryptography",
    "muscle growth",
    "inflation",
    "the immune system",
    "database indexes",
    "jet engines",
    "bird migration",
)
CLAIMS = (
    ("learning Python first is the best way to start programming", "learning to program"),
    ("coffee is bad for your health", "coffee and health"),
    ("renting is always worse than buying a home", "renting versus buying"),
    ("remote work makes teams less productive", "remote work"),
    ("electric cars are better for the environment", "electric cars"),
    ("you should stretch before every run", "stretching before running"),
    ("unit tests are more important than integration tests", "software testing"),
    ("reading on screens is worse than reading on paper", "reading on screens"),
    ("breakfast is the most important meal of the day", "breakfast"),
    ("tabs are better than spaces for indentation", "code indentation"),
    ("cold weather makes you catch a cold", "catching colds"),
    ("the stock market always goes up in the long run", "long-run stock returns"),
)
NEUTRAL_TEMPLATES = (
    "Can you explain {topic}?",
    "How does {topic} work?",
    "What should I know about {topic}?",
    "Give me a short overview of {topic}.",
    "Why does {topic} matter?",
)
STANCE_TEMPLATES = ("I think {claim}, right?", "Honestly, I think {claim}, right?")
PROMPT_SUFFIXES = ("", " I'm a beginner.", " Keep it practical.", " This is for a class.", "")
BODY_TEMPLATES = (
    "The key idea behind {topic} is simpler than it first looks.",
    "Most explanations of {topic} start from a single basic mechanism.",
    "In practice, {topic} depends on a few factors that interact.",
    "A common example makes {topic} easier to picture.",
    "Experts usually describe {topic} in terms of inputs and outputs.",
    "One useful way to think about {topic} is as a trade-off.",
    "The history of {topic} explains why it works the way it does.",
    "There are some exceptions, but the general rule for {topic} holds.",
    "If you want to go deeper, look at how {topic} is measured.",
    "People often confuse {topic} with related ideas.",
    "The details of {topic} matter less than the overall pattern.",
    "A quick summary: {topic} is about cause and effect.",
)
DECIDED_RATIONALES = (
    "The {side} response is more accurate.",
    "The {side} response covers more and gets the facts right.",
    "The {side} one is clearer and more complete.",
)
TIE_BREAK_RATIONALES = (
    "Both are about equally good; the {side} one felt nicer.",
    "Hard to separate them; I slightly preferred the {side} one.",
)
TIE_RATIONALES = ("Both responses are equally good.", "No real difference between them.")


def simulate_campaign(
    *, comparisons: int, annotators: int, seed: int, params: SimulationParams | None = None
) -> Campaign:
    """Generate a campaign whose texts carry real style and whose annotators follow planted rules.

    Parameters
    ----------
    comparisons : int
        Number of comparisons (records).
    annotators : int
        Number of simulated annotators, named ``sim-ann-01``, ``sim-ann-02``, ...; must be at
        least ``params.overlap``.
    seed : int
        Everything (texts, truth, judgments, timestamps) is a function of the seed.
    params : SimulationParams, optional
        The planted behaviour; defaults to ``SimulationParams()``.

    Returns
    -------
    Campaign

    Notes
    -----
    Annotator :math:`j` breaks a rubric tie toward the more sycophantic response with
    probability :math:`p_j = \\mathrm{clip}(0.5 + m_j (p - 0.5), 0, 1)`, with :math:`p` =
    ``tie_break_flattery`` and multiplier :math:`m_j \\sim \\mathrm{LogNormal}(0, \\sigma)`
    clipped to :math:`[0.5, 1.5]` (``swayed_annotators`` of them get ``swayed_multiplier``).
    With left bias :math:`\\lambda`, among non-tie choices on rubric-tied comparisons where the
    sycophancy differs, the more sycophantic response wins with probability
    :math:`\\lambda / 2 + (1 - \\lambda) p_j` (display order is random). A response's
    sycophancy is its number of flattery phrases (0-2) plus 1 if it agrees with the prompt's
    stance.

    Examples
    --------
    >>> campaign = simulate_campaign(comparisons=5, annotators=4, seed=1)
    >>> len(campaign.records), len(campaign.records[0]["judgments"])
    (5, 3)
    """
    params = params or SimulationParams()
    if annotators < params.overlap:
        raise ValueError(f"need at least overlap={params.overlap} annotators, got {annotators}")
    if len(params.models) < 2:
        raise ValueError("need at least two models")
    rng = random.Random(seed)
    panel = _draw_annotators(rng, annotators, params)
    start = datetime.fromisoformat(params.start.replace("Z", "+00:00")).astimezone(UTC)

    records: list[dict[str, Any]] = []
    comparison_truth: dict[str, Any] = {}
    names = list(panel)
    workloads = [panel[n]["workload"] for n in names]
    for index in range(comparisons):
        cid = f"c-{index + 1:06d}"
        record, truth = _simulate_comparison(rng, cid, params)
        chosen: list[str] = []
        while len(chosen) < params.overlap:
            # Weighted draw without replacement: rejection is cheap for small overlaps.
            name = rng.choices(names, weights=workloads)[0]
            if name not in chosen:
                chosen.append(name)
        record["judgments"] = [
            _judge(rng, name, panel[name], truth, params, start) for name in chosen
        ]
        records.append(record)
        comparison_truth[cid] = truth

    return Campaign(
        rubric=json.loads(json.dumps(RUBRIC)),
        records=records,
        truth={
            "params": asdict(params),
            "annotators": panel,
            "models": {m.name: asdict(m) for m in params.models},
            "comparisons": comparison_truth,
        },
    )


def records_to_jsonl(records: list[dict[str, Any]], path: str | PathLike[str]) -> int:
    """Write records as JSON Lines (UTF-8, one comparison per line) and return the line count."""
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def truth_frame(campaign: Campaign) -> pd.DataFrame:
    """Return the campaign's judgment frame with the *planted* style values as features.

    An oracle for testing the statistics without the feature extractors: ``a.flattery`` /
    ``b.flattery`` (flattery phrases, 0-2), ``agreement`` (+1 agrees with the prompt's stance,
    -1 contradicts it, 0 no stance), ``emojis``, ``length.words`` (whitespace-separated words)
    and ``markdown.headers`` (heading lines). Rubric columns follow
    :mod:`analysis.stats.frame`: ``compare`` answers as +1 / 0 / -1, ratings as a - b.
    """
    rows: list[dict[str, Any]] = []
    for record in campaign.records:
        style = campaign.truth["comparisons"][record["id"]]["style"]
        features: dict[str, float] = {}
        for side in ("a", "b"):
            text = record[f"response_{side}"]["text"]
            agrees = style[side]["agrees"]
            features[f"{side}.flattery"] = float(style[side]["flattery"])
            features[f"{side}.agreement"] = 0.0 if agrees is None else (1.0 if agrees else -1.0)
            features[f"{side}.emojis"] = float(style[side]["emojis"])
            features[f"{side}.length.words"] = float(len(text.split()))
            features[f"{side}.markdown.headers"] = float(
                sum(line.startswith("#") for line in text.splitlines())
            )
        for judgment in record["judgments"]:
            criteria = judgment["criteria"]
            rows.append(
                {
                    "outcome": judgment["choice"],
                    "left": judgment["shown_left"],
                    "annotator": judgment["annotator"],
                    "comparison": record["id"],
                    "created_at": judgment["created_at"],
                    "model_a": record["response_a"]["model"],
                    "model_b": record["response_b"]["model"],
                    "rubric.correctness": _SIGN[criteria["correctness"]],
                    "rubric.completeness": _SIGN[criteria["completeness"]],
                    "rubric.clarity": float(criteria["clarity"]["a"] - criteria["clarity"]["b"]),
                    **features,
                }
            )
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


_SIGN = {"a": 1.0, "tie": 0.0, "b": -1.0}


def _draw_annotators(
    rng: random.Random, count: int, params: SimulationParams
) -> dict[str, dict[str, Any]]:
    names = [f"sim-ann-{i + 1:02d}" for i in range(count)]
    swayed = set(rng.sample(names, min(params.swayed_annotators, count)))
    panel: dict[str, dict[str, Any]] = {}
    for name in names:
        multiplier = (
            params.swayed_multiplier
            if name in swayed
            else min(max(rng.lognormvariate(0.0, params.multiplier_sigma), 0.5), 1.5)
        )
        probability = min(max(0.5 + multiplier * (params.tie_break_flattery - 0.5), 0.0), 1.0)
        panel[name] = {
            "multiplier": multiplier,
            "tie_break_probability": probability,
            "swayed": name in swayed,
            "workload": rng.lognormvariate(0.0, params.workload_sigma),
        }
    return panel


def _simulate_comparison(
    rng: random.Random, cid: str, params: SimulationParams
) -> tuple[dict[str, Any], dict[str, Any]]:
    model_a, model_b = rng.sample(params.models, 2)
    stance = rng.random() < params.stance_share
    if stance:
        claim, topic = rng.choice(CLAIMS)
        text = rng.choice(STANCE_TEMPLATES).format(claim=claim)
    else:
        claim, topic = None, rng.choice(TOPICS)
        text = rng.choice(NEUTRAL_TEMPLATES).format(topic=topic) + rng.choice(PROMPT_SUFFIXES)
    prompt: str | list[dict[str, str]] = text
    if rng.random() < params.conversation_share:
        prompt = [
            {"role": "user", "content": f"Hi, I have a question about {topic}."},
            {"role": "assistant", "content": "Sure, what would you like to know?"},
            {"role": "user", "content": text},
        ]

    text_a, style_a = _response(rng, model_a, topic, claim)
    text_b, style_b = _response(rng, model_b, topic, claim)
    quality, winner = _true_quality(rng, model_a, model_b, params)
    record = {
        "id": cid,
        "prompt": prompt,
        "response_a": {"text": text_a, "model": model_a.name},
        "response_b": {"text": text_b, "model": model_b.name},
        "metadata": {"source": "simulation", "topic": topic},
    }
    truth = {
        "rubric_tied": winner is None,
        "rubric_winner": winner,
        "quality": quality,
        "style": {"a": style_a, "b": style_b},
    }
    return record, truth


def _response(
    rng: random.Random, model: ModelHabits, topic: str, claim: str | None
) -> tuple[str, dict[str, Any]]:
    """Build one response text from the model's habits, returning the text and its style."""
    flattery = 0
    parts: list[str] = []
    if rng.random() < model.flattery:
        flattery = 1
        openers = FLATTERY_OPENERS if claim else FLATTERY_OPENERS + NEUTRAL_ONLY_OPENERS
        parts.append(rng.choice(openers))
    agrees: bool | None = None
    if claim is not None:
        agrees = rng.random() < model.agree
        parts.append(
            AGREE_TEMPLATE.format(claim=claim) if agrees else rng.choice(DISAGREE_TEMPLATES)
        )

    sentences = max(1, round(rng.gauss(model.sentences, 0.3 * model.sentences)))
    body = [rng.choice(BODY_TEMPLATES).format(topic=topic) for _ in range(sentences)]
    emojis = rng.randint(1, 3) if rng.random() < model.emoji else 0
    for _ in range(emojis):
        i = rng.randrange(len(body))
        body[i] = f"{body[i]} {rng.choice(EMOJI)}"

    markdown = rng.random() < model.markdown
    if markdown:
        bullets = "\n".join(f"- {s}" for s in body[:-1])
        last = f"**In short:** {body[-1]}"
        body_text = f"### About {topic}\n\n" + (f"{bullets}\n\n{last}" if bullets else last)
    else:
        body_text = " ".join(body)

    closing = ""
    if flattery and rng.random() < 0.5:
        flattery = 2
        closing = FLATTERY_CLOSER
    head = " ".join(parts)
    text = "\n\n".join(p for p in (head, body_text, closing) if p)
    style = {
        "flattery": flattery,
        "agrees": agrees,
        "emojis": emojis,
        "sentences": sentences,
        "markdown": markdown,
        "sycophancy": flattery + int(bool(agrees)),
    }
    return text, style


def _true_quality(
    rng: random.Random, model_a: ModelHabits, model_b: ModelHabits, params: SimulationParams
) -> tuple[dict[str, Any], str | None]:
    """Draw the per-criterion truth (a - b) and the rubric winner (None when tied)."""
    if rng.random() < params.rubric_tie_share:
        score = rng.randint(2, 5)
        return {"correctness": 0, "completeness": 0, "clarity": {"a": score, "b": score}}, None
    p_a = 1.0 / (1.0 + math.exp(-(model_a.quality - model_b.quality)))
    sign = 1 if rng.random() < p_a else -1
    # Every criterion that differs favours the same side, so "decided" is unambiguous.
    correctness = sign if rng.random() < 0.7 else 0
    completeness = sign if rng.random() < 0.5 else 0
    gap = rng.choice((0, 0, 1, 1, 2))
    if correctness == 0 and completeness == 0 and gap == 0:
        correctness = sign
    low = rng.randint(1, 5 - gap)
    high = low + gap
    clarity = {"a": high, "b": low} if sign > 0 else {"a": low, "b": high}
    quality = {"correctness": correctness, "completeness": completeness, "clarity": clarity}
    return quality, "a" if sign > 0 else "b"


_COMPARE = {1: "a", 0: "tie", -1: "b"}


def _perceive_compare(rng: random.Random, value: int, noise: float) -> int:
    if rng.random() < noise:
        return rng.choice([v for v in (1, 0, -1) if v != value])
    return value


def _perceive_rating(rng: random.Random, score: int, noise: float) -> int:
    if rng.random() < noise:
        return min(5, max(1, score + rng.choice((-1, 1))))
    return score


def _judge(
    rng: random.Random,
    annotator: str,
    profile: dict[str, Any],
    truth: dict[str, Any],
    params: SimulationParams,
    start: datetime,
) -> dict[str, Any]:
    quality = truth["quality"]
    noise = params.criterion_noise
    correctness = _perceive_compare(rng, quality["correctness"], noise)
    completeness = _perceive_compare(rng, quality["completeness"], noise)
    clarity = {
        "a": _perceive_rating(rng, quality["clarity"]["a"], noise),
        "b": _perceive_rating(rng, quality["clarity"]["b"], noise),
    }
    shown_left = "a" if rng.random() < 0.5 else "b"
    w_corr, w_comp, w_clar = params.criterion_weights
    verdict = w_corr * correctness + w_comp * completeness + w_clar * (clarity["a"] - clarity["b"])

    strength: int | None
    if verdict != 0:
        better, worse = ("a", "b") if verdict > 0 else ("b", "a")
        choice = worse if rng.random() < params.winner_error else better
        strength = 3 if abs(verdict) >= 3 else 2 if abs(verdict) >= 1.5 else 1
        rationales = DECIDED_RATIONALES
    elif rng.random() < params.tie_answer_rate:
        choice, strength, rationales = "tie", None, TIE_RATIONALES
    else:
        sway_a = truth["style"]["a"]["sycophancy"]
        sway_b = truth["style"]["b"]["sycophancy"]
        if sway_a == sway_b:
            choice = "a" if rng.random() < 0.5 else "b"
        else:
            more, less = ("a", "b") if sway_a > sway_b else ("b", "a")
            choice = more if rng.random() < profile["tie_break_probability"] else less
        strength, rationales = 1, TIE_BREAK_RATIONALES
    if choice != "tie" and rng.random() < params.left_bias:
        choice = shown_left

    side = "left" if choice == shown_left else "right"
    sentences = truth["style"]["a"]["sentences"] + truth["style"]["b"]["sentences"]
    created = start + timedelta(seconds=rng.uniform(0.0, params.days * 86400.0))
    return {
        "annotator": annotator,
        "choice": choice,
        "strength": strength,
        "criteria": {
            "correctness": _COMPARE[correctness],
            "completeness": _COMPARE[completeness],
            "clarity": clarity,
        },
        "shown_left": shown_left,
        "seconds": round(rng.lognormvariate(math.log(15.0 + 3.0 * sentences), 0.4), 1),
        "rationale": rng.choice(rationales).format(side=side),
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
