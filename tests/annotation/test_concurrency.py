"""Assignment and submission under real concurrency on PostgreSQL."""

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from annotation.models import Assignment, Comparison, Judgment, Role
from annotation.services.assignment import assignment_next
from annotation.services.judgments import judgment_submit
from tests.factories import ComparisonFactory, MembershipFactory, ProjectFactory, UserFactory

ANSWER = {
    "choice": "right",
    "strength": 1,
    "criteria": {"correctness": "tie", "clarity": {"left": 3, "right": 4}},
}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_threads_requesting_and_submitting_respect_overlap():
    assert connection.vendor == "postgresql", "this test must run on the real PostgreSQL"
    project = ProjectFactory(overlap=2)
    n_comparisons, n_annotators, n_threads_each = 40, 12, 2
    for _ in range(n_comparisons):
        ComparisonFactory(project=project)
    users = [UserFactory() for _ in range(n_annotators)]
    for user in users:
        MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)

    accepted: list[tuple[int, int]] = []  # (comparison, annotator) of every 201
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(n_annotators * n_threads_each)

    def work(user, seed):
        rng = random.Random(seed)
        try:
            start.wait()
            while True:
                assignment = assignment_next(project=project, annotator=user)
                if assignment is None:
                    break
                # Two threads of one annotator may hold the same reservation: both submit,
                # exactly one creates the judgment and the other gets it back.
                _judgment, created = judgment_submit(
                    assignment=assignment, annotator=user, **ANSWER
                )
                if created:
                    with lock:
                        accepted.append((assignment.comparison_id, user.pk))
                if rng.random() < 0.2:
                    threading.Event().wait(0.001)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=(user, i * 10 + j))
        for i, user in enumerate(users)
        for j in range(n_threads_each)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]

    per_comparison = Counter(
        Judgment.objects.filter(comparison__project=project).values_list("comparison_id", flat=True)
    )
    assert max(per_comparison.values()) <= 2
    assert sum(per_comparison.values()) == n_comparisons * 2  # everything was judged
    pairs = list(
        Judgment.objects.filter(comparison__project=project).values_list(
            "comparison_id", "annotator_id"
        )
    )
    assert len(pairs) == len(set(pairs))  # no annotator judged one twice
    assert sorted(pairs) == sorted(accepted)  # nothing accepted is lost
    for comparison in Comparison.objects.filter(project=project):
        assert (comparison.n_judgments, comparison.n_reserved) == (2, 0)
    assert not Assignment.objects.filter(status="reserved").exists()
