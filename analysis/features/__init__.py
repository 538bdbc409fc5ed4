"""Style feature extraction: pure functions from a response (and its prompt) to numbers.

Usage::

    from analysis.features import extract, feature_keys

    extract("Great question! 😀 **Yes**, you're right.", prompt="I think so, right?")
    # {'length.chars': 40.0, ..., 'emojis': 1.0, 'flattery.count': 1.0, 'agreement': 1.0, ...}

Which extractors run is decided by :func:`active_registry` (Django's
``TIEBREAK_FEATURE_EXTRACTORS`` setting, or the built-ins); every function also takes an
explicit ``registry``. Nothing here imports Django at module level, so the package works
in notebooks and scripts. See ``docs/features.md`` for every feature's definition.
"""

from __future__ import annotations

from collections.abc import Iterable

from analysis.features._text import Message, Prompt, normalize_prompt
from analysis.features.registry import (
    DEFAULT_EXTRACTORS,
    Extractor,
    ExtractorImportError,
    FeatureValueError,
    Registry,
    active_registry,
    load_registry,
)

__all__ = [
    "DEFAULT_EXTRACTORS",
    "Extractor",
    "ExtractorImportError",
    "FeatureValueError",
    "Message",
    "Prompt",
    "Registry",
    "active_registry",
    "extract",
    "extract_by_extractor",
    "extract_many",
    "feature_keys",
    "load_registry",
    "normalize_prompt",
]


def extract(text: str, prompt: Prompt = None, registry: Registry | None = None) -> dict[str, float]:
    """Compute every registered style feature of one response.

    Parameters
    ----------
    text : str
        The response. Any string, including ``""``.
    prompt : None, str or list of {"role", "content"} dicts
        The conversation the response answers; a string is one user message. Only some
        extractors (``agreement``) look at it.
    registry : Registry, optional
        Extractors to run; default :func:`active_registry`.

    Returns
    -------
    dict of str to float
        One finite float per key of :func:`feature_keys`, in that order: ``<name>`` for a
        single-column extractor, ``<name>.<column>`` otherwise.

    Raises
    ------
    TypeError
        ``text`` is not a string.
    FeatureValueError
        A (custom) extractor returned a non-finite or malformed value.
    """
    return (registry or active_registry()).extract(text, prompt)


def extract_by_extractor(
    text: str, prompt: Prompt = None, registry: Registry | None = None
) -> dict[str, dict[str, float]]:
    """Like :func:`extract`, grouped for storage: ``{extractor name: {column: value}}``.

    Single-column built-ins name their column ``""`` (``{"emojis": {"": 2.0}}``). Pair it
    with ``registry.versions()`` to store each group under (response, name, version).
    """
    return (registry or active_registry()).extract_by_extractor(text, prompt)


def extract_many(
    items: Iterable[str | tuple[str, Prompt]], registry: Registry | None = None
) -> list[dict[str, float]]:
    """Run :func:`extract` over many responses, resolving the registry once.

    Each item is a response string or a ``(text, prompt)`` pair. Responses that share a
    prompt string reuse its parsed stance (it is cached), so keep pairs of a comparison
    together for speed.
    """
    reg = registry or active_registry()
    run = reg.extract
    out: list[dict[str, float]] = []
    for item in items:
        if isinstance(item, str):
            out.append(run(item))
        else:
            text, prompt = item
            out.append(run(text, prompt))
    return out


def feature_keys(registry: Registry | None = None) -> list[str]:
    """Return every output key of :func:`extract`, in its stable order."""
    return (registry or active_registry()).feature_keys()
