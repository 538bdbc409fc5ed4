"""Tests for analysis.features.registry: the Extractor contract, loading and the public API."""

from __future__ import annotations

import dataclasses
import math
import sys
import textwrap
import types

import pytest

import analysis.features as features
from analysis.features import (
    DEFAULT_EXTRACTORS,
    Extractor,
    ExtractorImportError,
    FeatureValueError,
    Registry,
    active_registry,
    extract,
    extract_by_extractor,
    extract_many,
    feature_keys,
    load_registry,
)
from analysis.features.registry import SETTING

EXPECTED_KEYS = [
    "length.chars",
    "length.words",
    "length.tokens",
    "emojis",
    "flattery.count",
    "flattery.rate",
    "agreement",
    "markdown.headers",
    "markdown.bold",
    "markdown.list_items",
    "tone.exclamations",
    "tone.hedges",
    "tone.confident",
    "tone.apologies",
    "tone.refusals",
]


def shout(text, messages):
    return (float(text.count("!")),)


@pytest.fixture
def custom_module(tmp_path, monkeypatch):
    """A team's own extractor module, importable by dotted path."""
    (tmp_path / "team_features.py").write_text(
        textwrap.dedent(
            """
            from analysis.features import Extractor

            def _questions(text, messages):
                return {"count": float(text.count("?")), "share": 0.5}

            QUESTIONS = Extractor(
                name="questions",
                version=3,
                description="Question marks in the response.",
                unit="count",
                columns=("count", "share"),
                func=_questions,
            )
            NOT_AN_EXTRACTOR = 42
            LENGTH_AGAIN = Extractor(
                name="length", version=9, description="x", unit="x", columns=("",),
                func=lambda text, messages: 1.0,
            )
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "team_features"
    sys.modules.pop("team_features", None)


# --------------------------------------------------------------------------- Extractor


def test_builtins_have_name_version_description_unit_columns():
    for extractor in load_registry(DEFAULT_EXTRACTORS):
        assert isinstance(extractor.version, int) and extractor.version >= 1
        assert extractor.description and "\n" not in extractor.description
        assert extractor.unit
        assert extractor.columns and all(isinstance(c, str) for c in extractor.columns)
        assert callable(extractor.func)


def test_extractor_is_frozen():
    extractor = load_registry(DEFAULT_EXTRACTORS)["emojis"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        extractor.version = 2  # type: ignore[misc]


def test_replace_revalidates_and_recomputes_keys():
    emojis = load_registry(DEFAULT_EXTRACTORS)["emojis"]
    renamed = dataclasses.replace(emojis, name="smileys", version=2)
    assert renamed.keys == ("smileys",)
    with pytest.raises(ValueError, match="version"):
        dataclasses.replace(emojis, version=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Bad-Name"}, "name"),
        ({"name": "has.dot"}, "name"),
        ({"version": 0}, "version"),
        ({"version": 1.5}, "version"),
        ({"version": True}, "version"),
        ({"columns": ()}, "no columns"),
        ({"columns": ("a", "a")}, "duplicate"),
        ({"columns": ("a", "")}, "column ''"),
        ({"columns": ("A",)}, "column 'A'"),
        ({"func": None}, "callable"),
    ],
)
def test_extractor_validation(kwargs, message):
    args = {
        "name": "ok",
        "version": 1,
        "description": "d",
        "unit": "u",
        "columns": ("",),
        "func": shout,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        Extractor(**args)


def test_keys_single_and_multi_column():
    single = Extractor("shout", 1, "d", "count", ("",), shout)
    named_single = Extractor("shout", 1, "d", "count", ("count",), shout)
    multi = Extractor("pair", 1, "d", "count", ("a", "b"), lambda t, m: (1.0, 2.0))
    assert single.keys == ("shout",)
    assert named_single.keys == ("shout",)
    assert multi.keys == ("pair.a", "pair.b")
    assert Extractor("s", 1, "d", "u", "x", shout).columns == ("x",)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (3, (3.0,)),
        (2.5, (2.5,)),
        ((1,), (1.0,)),
        ([4.0], (4.0,)),
        ({"": 7}, (7.0,)),
    ],
)
def test_values_accepts_number_sequence_or_mapping(result, expected):
    extractor = Extractor("x", 1, "d", "u", ("",), lambda t, m: result)
    values = extractor.values("", ())
    assert values == expected and all(type(v) is float for v in values)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (math.nan, "not finite"),
        (math.inf, "not finite"),
        ("1.0", "expected 1 number"),
        ((1.0, 2.0), "2 values for 1 columns"),
        ({"other": 1.0}, "no value for column ''"),
        ((True,), "not a number"),
        ((None,), "not a number"),
        ((10**400,), "not finite"),
    ],
)
def test_values_rejects_bad_results(result, message):
    extractor = Extractor("bad", 1, "d", "u", ("",), lambda t, m: result)
    with pytest.raises(FeatureValueError, match=message) as info:
        extractor.values("text", ())
    assert "'bad'" in str(info.value)


# --------------------------------------------------------------------------- loading


def test_default_registry_order_and_feature_keys():
    registry = load_registry(DEFAULT_EXTRACTORS)
    assert registry.names == ["length", "emojis", "flattery", "agreement", "markdown", "tone"]
    assert registry.feature_keys() == EXPECTED_KEYS
    assert feature_keys(registry) == EXPECTED_KEYS
    assert registry.versions() == dict.fromkeys(registry.names, 1)


def test_load_registry_is_cached_per_paths():
    assert load_registry(DEFAULT_EXTRACTORS) is load_registry(tuple(DEFAULT_EXTRACTORS))
    assert load_registry(DEFAULT_EXTRACTORS[:2]) is not load_registry(DEFAULT_EXTRACTORS)


def test_custom_extractor_by_dotted_path(custom_module):
    registry = load_registry([*DEFAULT_EXTRACTORS, f"{custom_module}.QUESTIONS"])
    assert registry.feature_keys() == [*EXPECTED_KEYS, "questions.count", "questions.share"]
    assert registry.versions()["questions"] == 3
    values = extract("Why? How?", registry=registry)
    assert values["questions.count"] == 2.0 and values["questions.share"] == 0.5
    grouped = extract_by_extractor("Why?", registry=registry)
    assert grouped["questions"] == {"count": 1.0, "share": 0.5}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nodots", "not a dotted path"),
        ("", "not a dotted path"),
        ("no_such_module_xyz.EXTRACTOR", "module 'no_such_module_xyz' failed to import"),
        ("analysis.features.length.NOPE", "has no attribute 'NOPE'"),
    ],
)
def test_bad_path_gives_clear_error(path, message):
    with pytest.raises(ExtractorImportError, match=message) as info:
        load_registry([*DEFAULT_EXTRACTORS, path])
    assert repr(path) in str(info.value)
    assert isinstance(info.value, ImportError)


def test_path_to_something_else_is_a_type_error(custom_module):
    with pytest.raises(TypeError, match=r"team_features\.NOT_AN_EXTRACTOR"):
        load_registry([f"{custom_module}.NOT_AN_EXTRACTOR"])


def test_duplicate_names_are_rejected(custom_module):
    with pytest.raises(ValueError, match="duplicate feature extractor name 'length'") as info:
        load_registry([*DEFAULT_EXTRACTORS, f"{custom_module}.LENGTH_AGAIN"])
    assert "team_features.LENGTH_AGAIN" in str(info.value)
    with pytest.raises(ValueError, match="duplicate"):
        load_registry(["analysis.features.tone.EXTRACTOR", "analysis.features.tone.EXTRACTOR"])


def test_registry_from_objects():
    registry = Registry([Extractor("shout", 2, "d", "count", ("",), shout)])
    assert "shout" in registry and len(registry) == 1
    assert registry["shout"].version == 2
    assert registry.extract("a!b!") == {"shout": 2.0}
    assert "shout@v2" in repr(registry)
    with pytest.raises(TypeError):
        Registry(["not an extractor"])  # type: ignore[list-item]


def test_custom_extractor_output_is_validated_in_extract():
    registry = Registry([Extractor("nan", 1, "d", "u", ("",), lambda t, m: math.nan)])
    with pytest.raises(FeatureValueError):
        registry.extract("x")


# --------------------------------------------------------------------------- active registry


def test_active_registry_without_configured_django(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    class Unconfigured:
        def __getattr__(self, name):
            raise ImproperlyConfigured("settings are not configured")

    monkeypatch.setattr("django.conf.settings", Unconfigured())
    assert active_registry() is load_registry(DEFAULT_EXTRACTORS)


def test_active_registry_reads_the_setting(monkeypatch, custom_module):
    paths = ["analysis.features.emojis.EXTRACTOR", f"{custom_module}.QUESTIONS"]
    monkeypatch.setattr("django.conf.settings", types.SimpleNamespace(**{SETTING: paths}))
    assert active_registry().names == ["emojis", "questions"]
    assert feature_keys() == ["emojis", "questions.count", "questions.share"]
    assert extract("Hi? 😀") == {"emojis": 1.0, "questions.count": 1.0, "questions.share": 0.5}


def test_active_registry_falls_back_when_setting_missing_or_none(monkeypatch):
    monkeypatch.setattr("django.conf.settings", types.SimpleNamespace())
    assert active_registry().names == load_registry(DEFAULT_EXTRACTORS).names
    monkeypatch.setattr("django.conf.settings", types.SimpleNamespace(**{SETTING: None}))
    assert active_registry().feature_keys() == EXPECTED_KEYS


def test_active_registry_without_django(monkeypatch):
    monkeypatch.setitem(sys.modules, "django.conf", None)  # makes the import fail
    assert active_registry() is load_registry(DEFAULT_EXTRACTORS)


# --------------------------------------------------------------------------- extract API


@pytest.fixture
def defaults(monkeypatch):
    """Pin the default registry whatever the Django settings say."""
    registry = load_registry(DEFAULT_EXTRACTORS)
    monkeypatch.setattr(features, "active_registry", lambda: registry)
    return registry


def test_extract_returns_every_key_as_float(defaults):
    values = extract("Great question! 😀 **Yes**, you're right.", prompt="I think so, right?")
    assert list(values) == EXPECTED_KEYS
    assert all(type(v) is float for v in values.values())
    assert values["emojis"] == 1.0
    assert values["flattery.count"] == 1.0
    assert values["agreement"] == 1.0
    assert values["markdown.bold"] == 1.0


def test_extract_by_extractor_shape_matches_storage(defaults):
    grouped = extract_by_extractor("# Hi\n- a 👍🏽", None)
    assert list(grouped) == defaults.names
    assert grouped["emojis"] == {"": 1.0}
    assert grouped["agreement"] == {"": 0.0}
    assert grouped["length"] == {"chars": 11.0, "words": 5.0, "tokens": 6.0}
    assert set(grouped["tone"]) == set(defaults["tone"].columns)
    flat = extract("# Hi\n- a 👍🏽")
    for extractor in defaults:
        for key, column in zip(extractor.keys, extractor.columns, strict=True):
            assert flat[key] == grouped[extractor.name][column]


def test_extract_many_matches_extract(defaults):
    conversation = [{"role": "user", "content": "x"}]
    items = ["Hello!", ("You're right.", "I think so."), ("No.", conversation)]
    assert extract_many(items) == [
        extract("Hello!"),
        extract("You're right.", "I think so."),
        extract("No.", conversation),
    ]


def test_prompt_string_equals_single_user_message(defaults):
    text = "You're absolutely right, that's correct."
    as_string = extract(text, "I'm pretty sure this is true.")
    as_messages = extract(text, [{"role": "user", "content": "I'm pretty sure this is true."}])
    assert as_string == as_messages
    assert as_string["agreement"] == 1.0


def test_extract_rejects_non_string_text(defaults):
    with pytest.raises(TypeError, match="must be str"):
        extract(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be str"):
        extract(b"bytes")  # type: ignore[arg-type]


def test_empty_text(defaults):
    values = extract("")
    assert values == dict.fromkeys(EXPECTED_KEYS, 0.0)
