"""The extractor contract, the registry of active extractors and its loading from dotted paths."""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Real
from typing import Any

from analysis.features._text import Message, Prompt, normalize_prompt

__all__ = [
    "DEFAULT_EXTRACTORS",
    "Extractor",
    "ExtractorImportError",
    "FeatureValueError",
    "Registry",
    "active_registry",
    "load_registry",
]

DEFAULT_EXTRACTORS: list[str] = [
    "analysis.features.length.EXTRACTOR",
    "analysis.features.emojis.EXTRACTOR",
    "analysis.features.flattery.EXTRACTOR",
    "analysis.features.agreement.EXTRACTOR",
    "analysis.features.markdown.EXTRACTOR",
    "analysis.features.tone.EXTRACTOR",
]
"""Dotted paths of the built-in extractors, in output order."""

SETTING = "TIEBREAK_FEATURE_EXTRACTORS"

ExtractorFunc = Callable[[str, Sequence[Message]], Any]
"""``func(text, messages)``: a number (single column only), a sequence of numbers in
``columns`` order, or a mapping ``{column: number}``."""

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


class ExtractorImportError(ImportError):
    """A dotted path in the extractor list cannot be imported."""


class FeatureValueError(ValueError):
    """An extractor returned something other than one finite number per column."""


@dataclass(frozen=True)
class Extractor:
    """One style feature extractor: a named, versioned function of a response and its prompt.

    Attributes
    ----------
    name : str
        Lower-case identifier (``[a-z][a-z0-9_]*``), unique in a registry; the prefix of
        the output keys.
    version : int
        Positive integer. Bump it whenever the numbers it produces for some input change;
        stored features are keyed by (response, name, version), so old analyses keep the
        numbers they were computed from.
    description : str
        One line for humans.
    unit : str
        What the numbers count, e.g. ``"count"`` or ``"per 100 words"``.
    columns : tuple of str
        Names of the values it produces. A single-column extractor outputs the key
        ``<name>`` and conventionally names its column ``""``; a multi-column one outputs
        ``<name>.<column>`` for each column (identifiers, not empty).
    func : callable
        ``func(text, messages)``; ``messages`` is the normalised prompt (a tuple of
        ``{"role", "content"}`` dicts, possibly empty). Returns a number (single column
        only), a sequence of numbers in ``columns`` order, or a mapping column -> number.
    """

    name: str
    version: int
    description: str
    unit: str
    columns: tuple[str, ...]
    func: ExtractorFunc = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"extractor name {self.name!r} must match [a-z][a-z0-9_]*")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"extractor {self.name!r}: version must be a positive int")
        columns = (self.columns,) if isinstance(self.columns, str) else tuple(self.columns)
        object.__setattr__(self, "columns", columns)
        if not columns:
            raise ValueError(f"extractor {self.name!r} has no columns")
        if len(set(columns)) != len(columns):
            raise ValueError(f"extractor {self.name!r} has duplicate columns {columns!r}")
        for column in columns:
            if not isinstance(column, str) or not (
                _NAME.match(column) or (column == "" and len(columns) == 1)
            ):
                raise ValueError(
                    f"extractor {self.name!r}: column {column!r} must match [a-z][a-z0-9_]*"
                    " (or be '' for a single-column extractor)"
                )
        if not callable(self.func):
            raise ValueError(f"extractor {self.name!r}: func is not callable")
        if len(columns) == 1:
            keys: tuple[str, ...] = (self.name,)
        else:
            keys = tuple(f"{self.name}.{column}" for column in columns)
        object.__setattr__(self, "_keys", keys)

    @property
    def keys(self) -> tuple[str, ...]:
        """Output keys, in column order: ``(name,)`` or ``(name.column, ...)``."""
        return self._keys  # type: ignore[attr-defined]

    def values(self, text: str, messages: Sequence[Message]) -> tuple[float, ...]:
        """Run ``func`` and return one finite float per column, in column order.

        Raises
        ------
        FeatureValueError
            If the function returns the wrong shape or a non-finite or non-numeric value.
        """
        return self._coerce(self.func(text, messages))

    def _coerce(self, result: Any) -> tuple[float, ...]:
        columns = self.columns
        if isinstance(result, tuple) and len(result) == len(columns):
            values = result
        elif isinstance(result, Mapping):
            try:
                values = tuple(result[c] for c in columns)
            except KeyError as exc:
                raise FeatureValueError(
                    f"extractor {self.name!r} returned no value for column {exc.args[0]!r}"
                ) from None
        elif isinstance(result, Real) and len(columns) == 1:
            values = (result,)
        elif isinstance(result, Sequence) and not isinstance(result, str):
            values = tuple(result)
        else:
            raise FeatureValueError(
                f"extractor {self.name!r} returned {type(result).__name__}; expected "
                f"{len(columns)} number(s) for columns {columns!r}"
            )
        if len(values) != len(columns):
            raise FeatureValueError(
                f"extractor {self.name!r} returned {len(values)} values for "
                f"{len(columns)} columns {columns!r}"
            )
        out = []
        for column, value in zip(columns, values, strict=True):
            # Exact type checks first: isinstance(x, Real) goes through the ABC machinery
            # and would cost more than some extractors.
            if type(value) is not float:
                if isinstance(value, bool) or not isinstance(value, Real):
                    raise FeatureValueError(
                        f"extractor {self.name!r} column {column!r}: {value!r} is not a number"
                    )
                try:
                    value = float(value)
                except OverflowError:
                    value = math.inf
            # x - x is 0.0 for every finite float and NaN for inf and NaN.
            if value - value != 0.0:
                raise FeatureValueError(
                    f"extractor {self.name!r} column {column!r}: {value!r} is not finite"
                )
            out.append(value)
        return tuple(out)


class Registry:
    """An ordered, immutable set of extractors with unique names and output keys.

    Use :func:`load_registry` or :func:`active_registry` to get one from dotted paths; the
    constructor takes :class:`Extractor` objects directly (handy in tests and notebooks).
    """

    __slots__ = ("_by_name", "_keys", "_plan", "extractors", "paths")

    def __init__(self, extractors: Iterable[Extractor], paths: Sequence[str] = ()) -> None:
        self.extractors: tuple[Extractor, ...] = tuple(extractors)
        self.paths: tuple[str, ...] = tuple(paths)
        by_name: dict[str, Extractor] = {}
        for i, extractor in enumerate(self.extractors):
            if not isinstance(extractor, Extractor):
                raise TypeError(f"{extractor!r} is not an Extractor")
            if extractor.name in by_name:
                where = ""
                if self.paths:
                    first = self.extractors.index(by_name[extractor.name])
                    where = f" ({self.paths[first]!r} and {self.paths[i]!r})"
                raise ValueError(f"duplicate feature extractor name {extractor.name!r}{where}")
            by_name[extractor.name] = extractor
        self._by_name = by_name
        self._keys = tuple(key for e in self.extractors for key in e.keys)
        if len(set(self._keys)) != len(self._keys):
            raise ValueError(f"duplicate feature keys in {self._keys!r}")
        # The built-ins return tuples of finite floats by construction (their property
        # tests check it), so extract() skips validating them: at 20,000 responses per
        # second the checks would cost a tenth of the budget. Custom extractors are checked.
        self._plan = tuple(e.func if _is_builtin(e) else e.values for e in self.extractors)

    def __iter__(self):
        return iter(self.extractors)

    def __len__(self) -> int:
        return len(self.extractors)

    def __getitem__(self, name: str) -> Extractor:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return f"Registry({', '.join(f'{e.name}@v{e.version}' for e in self.extractors)})"

    @property
    def names(self) -> list[str]:
        """Extractor names in registry order."""
        return list(self._by_name)

    def versions(self) -> dict[str, int]:
        """Return ``{extractor name: version}``, e.g. to record what a job computed."""
        return {e.name: e.version for e in self.extractors}

    def feature_keys(self) -> list[str]:
        """Return every output key in a stable order (registry order, then column order)."""
        return list(self._keys)

    def extract(self, text: str, prompt: Prompt = None) -> dict[str, float]:
        """Return ``{key: value}`` for every feature of one response; see ``extract``."""
        messages = _messages(text, prompt)
        values: list[float] = []
        for func in self._plan:
            values += func(text, messages)
        # strict: a built-in returning the wrong number of values would shift every key.
        return dict(zip(self._keys, values, strict=True))

    def extract_by_extractor(self, text: str, prompt: Prompt = None) -> dict[str, dict[str, float]]:
        """Return ``{extractor name: {column: value}}``: the shape features are stored in."""
        messages = _messages(text, prompt)
        return {
            e.name: dict(zip(e.columns, e.values(text, messages), strict=True))
            for e in self.extractors
        }


_BUILTIN_MODULES = frozenset(path.rpartition(".")[0] for path in DEFAULT_EXTRACTORS)


def _is_builtin(extractor: Extractor) -> bool:
    return getattr(extractor.func, "__module__", None) in _BUILTIN_MODULES


def _messages(text: str, prompt: Prompt) -> tuple[Message, ...]:
    if not isinstance(text, str):
        raise TypeError(f"response text must be str, not {type(text).__name__}")
    return normalize_prompt(prompt)


def _import_extractor(path: str) -> Extractor:
    if not isinstance(path, str) or "." not in path.strip("."):
        raise ExtractorImportError(
            f"feature extractor path {path!r} is not a dotted path 'package.module.NAME'"
        )
    module_path, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise ExtractorImportError(
            f"cannot import feature extractor {path!r}: module {module_path!r} failed to "
            f"import ({exc})"
        ) from exc
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise ExtractorImportError(
            f"cannot import feature extractor {path!r}: module {module_path!r} has no "
            f"attribute {attr!r}"
        ) from None
    if not isinstance(obj, Extractor):
        raise TypeError(
            f"feature extractor {path!r} is a {type(obj).__name__}, not an "
            "analysis.features.Extractor"
        )
    return obj


@lru_cache(maxsize=32)
def _load(paths: tuple[str, ...]) -> Registry:
    return Registry([_import_extractor(path) for path in paths], paths)


def load_registry(paths: Iterable[str]) -> Registry:
    """Import the extractors named by dotted paths and return them as a :class:`Registry`.

    Registries are cached per tuple of paths, so calling this per response is cheap.

    Raises
    ------
    ExtractorImportError
        A path is malformed, its module cannot be imported or lacks the attribute; the
        message names the path.
    TypeError
        A path names something that is not an :class:`Extractor`.
    ValueError
        Two paths give extractors with the same name.
    """
    return _load(tuple(paths))


def active_registry() -> Registry:
    """Return the registry named by Django's ``TIEBREAK_FEATURE_EXTRACTORS`` setting.

    Falls back to :data:`DEFAULT_EXTRACTORS` when Django is not installed, its settings are
    not configured (a notebook, a plain script) or the setting is missing or ``None``.
    """
    return load_registry(_configured_paths())


def _configured_paths() -> Sequence[str]:
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return DEFAULT_EXTRACTORS
    try:
        paths = getattr(settings, SETTING, None)
    except ImproperlyConfigured:
        return DEFAULT_EXTRACTORS
    return DEFAULT_EXTRACTORS if paths is None else paths
