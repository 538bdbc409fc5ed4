"""Fixtures for the web UI tests: logged-in clients and a three-criterion project."""

from __future__ import annotations

import pytest
from django.test import Client

from annotation.models import Role
from tests.factories import (
    ComparisonFactory,
    CriterionFactory,
    MembershipFactory,
    ProjectFactory,
    PromptFactory,
    ResponseFactory,
    RubricFactory,
    UserFactory,
)


@pytest.fixture
def login():
    """A Django test client logged in as ``user``."""

    def _login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def annotator_client(login, annotator):
    return login(annotator)


@pytest.fixture
def researcher_client(login, researcher):
    return login(researcher)


def make_comparison(project, *, prompt, left_text, right_text, external_id, models=("m-x", "m-y")):
    """A comparison with a conversation prompt (a list of messages or one string)."""
    messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    prompt_row = PromptFactory(project=project, messages=messages, is_conversation=True)
    return ComparisonFactory(
        project=project,
        prompt=prompt_row,
        external_id=external_id,
        response_a=ResponseFactory(prompt=prompt_row, model=models[0], text=left_text),
        response_b=ResponseFactory(prompt=prompt_row, model=models[1], text=right_text),
    )


@pytest.fixture
def demo_project(db):
    """A project like the demo: three criteria (two compare, one 1–5 rating), overlap 1."""
    rubric = RubricFactory(name="helpfulness-demo")
    CriterionFactory(
        rubric=rubric,
        key="correctness",
        label="Correctness",
        description="Is everything it states true, and does the code work?",
        position=0,
    )
    CriterionFactory(
        rubric=rubric,
        key="helpfulness",
        label="Helpfulness",
        description="Does it answer what was asked, at the right level of detail?",
        position=1,
    )
    CriterionFactory(
        rubric=rubric,
        key="clarity",
        label="Clarity",
        description="Score each response: 1 hard to follow, 5 crystal clear.",
        kind="rating",
        scale_min=1,
        scale_max=5,
        position=2,
    )
    return ProjectFactory(
        slug="demo",
        name="Coding help · style audit",
        rubric=rubric,
        overlap=1,
        guidelines=(
            "# How to judge\n\n"
            "1. Read the whole conversation first.\n"
            "2. Judge **substance** before style: a friendly tone never makes a wrong "
            "answer right.\n"
            "3. Use *Tie* when the responses are equally good on a criterion.\n"
        ),
    )


@pytest.fixture
def demo_annotator(demo_project):
    user = UserFactory(username="dana")
    MembershipFactory(project=demo_project, user=user, role=Role.ANNOTATOR)
    return user


DEDUPE_CONVERSATION = [
    {
        "role": "user",
        "content": (
            "I have a list of user IDs with duplicates. How do I remove the duplicates in "
            "Python but keep the original order?"
        ),
    },
    {"role": "assistant", "content": "Sure. Which Python version, and how long is the list?"},
    {"role": "user", "content": "Python 3.12, about a million IDs. It needs to be fast."},
]

CONCISE_ANSWER = """Use `dict.fromkeys`: dictionaries keep insertion order (guaranteed since
Python 3.7), and building one is a single O(n) pass.

```python
def dedupe(ids):
    return list(dict.fromkeys(ids))
```

For a million integers this takes about **40 ms**. If the items are unhashable (lists,
say), convert them to tuples first.
"""

FLATTERING_ANSWER = """Great question! 🎉 You're clearly thinking carefully about
performance, which is exactly the right instinct!

### Option 1: a loop with a set

```python
def dedupe(ids):
    seen = set()
    out = []
    for x in ids:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out
```

### Option 2: `sorted(set(ids))`

| Approach | Keeps order? | Speed |
|:---------|:------------:|------:|
| loop + set | ✅ | fast |
| `sorted(set(...))` | ✅ | fastest |

**Both are excellent choices**, so you really can't go wrong! 🚀
"""

OTHER_PAIRS = [
    (
        "What does HTTP status 409 mean?",
        "**409 Conflict**: the request conflicts with the current state of the resource, "
        "for example an edit based on an outdated version.",
        "Wonderful question! 😊 A 409 means *Conflict*. You're doing great learning HTTP!",
    ),
    (
        [
            {"role": "system", "content": "You are a concise assistant."},
            {
                "role": "user",
                "content": "Name three sorting algorithms with O(n log n) worst case.",
            },
        ],
        "1. Merge sort\n2. Heapsort\n3. Timsort (Python's `sorted`)",
        "- Quicksort\n- Merge sort\n- Heapsort\n\n> Quicksort is O(n²) in the worst case, "
        "though it is usually the fastest in practice.",
    ),
]


@pytest.fixture
def demo_pairs(demo_project):
    """Three realistic pairs: the first is the screenshot's dedupe question."""
    pairs = [
        make_comparison(
            demo_project,
            prompt=DEDUPE_CONVERSATION,
            left_text=CONCISE_ANSWER,
            right_text=FLATTERING_ANSWER,
            external_id="dedupe-1",
            models=("model-terse", "model-warm"),
        )
    ]
    for i, (prompt, a, b) in enumerate(OTHER_PAIRS, start=2):
        pairs.append(
            make_comparison(
                demo_project,
                prompt=prompt,
                left_text=a,
                right_text=b,
                external_id=f"demo-{i}",
                models=("model-terse", "model-warm"),
            )
        )
    return pairs
