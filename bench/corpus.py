"""Deterministic synthetic LLM responses and prompts for benchmarks and load tests.

The texts imitate chat-assistant answers: mean length about 1,300 characters (log-normal),
about half with Markdown (headers, bold, lists), some with fenced code, some with emoji
(including ZWJ sequences, skin tones, flags and keycaps), curly quotes and dashes,
flattering or agreeing openers, hedges, and the occasional apology or refusal. They are
not meant to be read, only to exercise the feature extractors like real responses do.

Usage::

    import random
    from bench.corpus import realistic_comparison, realistic_response

    rng = random.Random(0)
    texts = [realistic_response(rng) for _ in range(1000)]
    prompt, a, b = realistic_comparison(rng)
"""

from __future__ import annotations

import math
import random

__all__ = [
    "EMOJI",
    "realistic_comparison",
    "realistic_pair",
    "realistic_prompt",
    "realistic_response",
]

EMOJI = [
    "😊", "👍", "🚀", "✅", "⚠️", "✨", "🎉", "💡", "🔥", "❤️", "⭐", "📌", "🙂", "😅", "🤔",
    "👍🏽", "👋🏻", "💪🏿",                       # skin-tone modifiers
    "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏽‍🚀", "🏳️‍🌈", "❤️‍🔥",  # ZWJ sequences
    "🇫🇷", "🇯🇵", "🇺🇸", "🏴󠁧󠁢󠁳󠁣󠁴󠁿",                 # flags (the last one is a tag sequence)
    "1️⃣", "2️⃣", "#️⃣",                         # keycaps
]  # fmt: skip

_TOPICS = [
    "cache", "database index", "neural network", "budget", "garden", "sourdough starter",
    "marathon plan", "API", "mortgage", "compiler", "photosynthesis", "essay", "resume",
    "microservice", "battery", "vaccine", "telescope", "spreadsheet", "recipe", "contract",
]  # fmt: skip
_VERBS = [
    "improves", "reduces", "depends on", "affects", "controls", "stores", "balances",
    "changes", "limits", "speeds up", "protects", "complicates",
]  # fmt: skip
_OBJECTS = [
    "performance", "the overall cost", "long-term reliability", "memory use", "the result",
    "your options", "the schedule", "accuracy", "readability", "the risk", "throughput",
    "the first step", "maintenance",
]  # fmt: skip
_CLAUSES = [
    "the load is high", "you start small", "the inputs change", "you measure carefully",
    "the team grows", "conditions are stable", "you revisit it weekly", "data is missing",
    "the deadline is close", "you follow the guidelines",
]  # fmt: skip
_HEDGES = [
    "It might", "Perhaps it", "It possibly", "Maybe it", "It seems it", "It probably",
    "I think it",
]  # fmt: skip
_CONFIDENT = ["It definitely", "It certainly", "Without a doubt, it", "It clearly", "It"]
_OPENERS = [
    ("Great question! ", 0.10),
    ("What a thoughtful question. ", 0.04),
    ("You're absolutely right to ask about this. ", 0.04),
    ("I love this question! ", 0.03),
    ("That's a really insightful observation. ", 0.03),
    ("You're right, ", 0.05),
    ("Actually, that's a common misconception. ", 0.04),
    ("Sure! ", 0.12),
    ("Certainly. ", 0.08),
    ("I'm sorry, but I can't help with that. ", 0.02),
    ("Here's an overview. ", 0.10),
    ("", 0.35),
]
_CLOSERS = [
    ("I hope this helps!", 0.25),
    ("Let me know if you have any other questions.", 0.25),
    ("Good luck with your project — you've got this!", 0.05),
    ("Sorry for any confusion earlier.", 0.03),
    ("", 0.42),
]
_CODE = [
    "```python\ndef total(items):\n    # sum the **prices**\n    return sum(i.price for i in items)"
    "\n```",
    "```bash\npip install --upgrade pip\n# then\npython -m venv .venv\n```",
    "```js\nconst x = a ** b;\nif (x !== y) { console.log('done!'); }\n```",
    "```sql\nSELECT id, name FROM users WHERE active = 1;\n```",
]  # fmt: skip
_STANCE_PROMPTS = [
    "I think {t} mostly {v} {o}, right?",
    "I'm pretty sure a {t} {v} {o}. Can you confirm?",
    "Isn't it true that every {t} {v} {o}?",
    "In my opinion the {t} {v} {o}. Do you agree?",
]
_NEUTRAL_PROMPTS = [
    "How does a {t} affect {o}?",
    "Explain what a {t} is and when it {v} {o}.",
    "Write a short guide to choosing a {t}.",
    "What should I know about the {t} before I start?",
]


def _weighted(rng: random.Random, options: list[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _sentence(rng: random.Random, curly: bool) -> str:
    r = rng.random()
    if r < 0.15:
        subject = rng.choice(_HEDGES)
    elif r < 0.25:
        subject = rng.choice(_CONFIDENT)
    else:
        subject = "The " + rng.choice(_TOPICS)
    text = f"{subject} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} when {rng.choice(_CLAUSES)}"
    if rng.random() < 0.2:
        text += f", which {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
    if curly and rng.random() < 0.2:
        text += " — it’s worth checking"
    return text + ("!" if rng.random() < 0.08 else ".")


def _paragraph(rng: random.Random, curly: bool) -> str:
    return " ".join(_sentence(rng, curly) for _ in range(rng.randint(2, 4)))


def _bullets(rng: random.Random, curly: bool) -> str:
    ordered = rng.random() < 0.4
    lines = []
    for i in range(rng.randint(2, 5)):
        marker = f"{i + 1}." if ordered else rng.choice(["-", "*"])
        head = f"**{rng.choice(_TOPICS).capitalize()}**: " if rng.random() < 0.6 else ""
        lines.append(f"{marker} {head}{_sentence(rng, curly)}")
    return "\n".join(lines)


def realistic_response(rng: random.Random) -> str:
    """Return one synthetic assistant response, fully determined by the state of ``rng``."""
    # The last block overshoots the target by ~150 characters on average.
    target = min(6000, max(120, rng.lognormvariate(math.log(1150) - 0.125, 0.5)))
    markdown = rng.random() < 0.5
    curly = rng.random() < 0.35
    parts = [_weighted(rng, _OPENERS) + _paragraph(rng, curly)]
    size = len(parts[0])
    while size < target:
        r = rng.random()
        if markdown and r < 0.25:
            block = f"{'#' * rng.randint(2, 3)} {rng.choice(_TOPICS).capitalize()}"
        elif markdown and r < 0.6:
            block = _bullets(rng, curly)
        elif r < 0.08:
            block = rng.choice(_CODE)
        else:
            block = _paragraph(rng, curly)
        parts.append(block)
        size += len(block) + 2
    closer = _weighted(rng, _CLOSERS)
    if closer:
        parts.append(closer)
    text = "\n\n".join(parts)
    if rng.random() < 0.3:
        # Emoji go at the ends of lines, where assistants tend to put them.
        lines = text.split("\n")
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(lines))
            if lines[i] and not lines[i].startswith(("```", "    ")):
                lines[i] += " " + rng.choice(EMOJI)
        text = "\n".join(lines)
    return text


def realistic_prompt(rng: random.Random) -> str:
    """Return one synthetic user prompt; about 40% state a position the answer can take up."""
    templates = _STANCE_PROMPTS if rng.random() < 0.4 else _NEUTRAL_PROMPTS
    return rng.choice(templates).format(
        t=rng.choice(_TOPICS), v=rng.choice(_VERBS), o=rng.choice(_OBJECTS)
    )


def realistic_pair(rng: random.Random) -> tuple[str, str]:
    """Return ``(response, prompt)``."""
    prompt = realistic_prompt(rng)
    return realistic_response(rng), prompt


def realistic_comparison(rng: random.Random) -> tuple[str, str, str]:
    """Return ``(prompt, response_a, response_b)``: two answers to one prompt."""
    prompt = realistic_prompt(rng)
    return prompt, realistic_response(rng), realistic_response(rng)
