"""Assignment: overlap, no repeats, expiry, skip, display order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Assignment, AssignmentStatus, Comparison, Judgment, Role
from annotation.services.assignment import (
    NotAMember,
    assignment_next,
    assignment_skip,
    assignments_expire,
)
from annotation.services.judgments import JudgmentConflict, judgment_submit
from tests.factories import ComparisonFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ANSWER = {
    "choice": "left",
    "strength": 2,
    "criteria": {"correctness": "left", "clarity": {"left": 4, "right": 3}},
}


def _annotators(project, n):
    users = [UserFactory() for _ in range(n)]
    for user in users:
        MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)
    return users


def _drain(project, user):
    """Judge everything offered to ``user``; return the comparison ids judged."""
    judged = []
    while (assignment := assignment_next(project=project, annotator=user)) is not None:
        judgment_submit(assignment=assignment, annotator=user, **ANSWER)
        judged.append(assignment.comparison_id)
    return judged


def test_each_comparison_gets_overlap_distinct_annotators():
    project = ProjectFactory(overlap=2)
    comparisons = [ComparisonFactory(project=project) for _ in range(4)]
    users = _annotators(project, 3)
    per_user = [_drain(project, user) for user in users]
    for judged in per_user:
        assert len(judged) == len(set(judged))  # never the same comparison twice
    for comparison in comparisons:
        assert Judgment.objects.filter(comparison=comparison).count() == 2
    comparison = Comparison.objects.get(pk=comparisons[0].pk)
    assert (comparison.n_judgments, comparison.n_reserved) == (2, 0)
    assert sum(len(j) for j in per_user) == 8


def test_reload_returns_the_same_reservation_and_non_member_is_refused():
    project = ProjectFactory(overlap=1)
    ComparisonFactory(project=project)
    ComparisonFactory(project=project)
    (user,) = _annotators(project, 1)
    first = assignment_next(project=project, annotator=user)
    assert assignment_next(project=project, annotator=user) == first
    with pytest.raises(NotAMember):
        assignment_next(project=project, annotator=UserFactory())


def test_reservation_blocks_others_until_it_expires():
    project = ProjectFactory(overlap=1, reservation_minutes=30)
    ComparisonFactory(project=project)
    alice, bob = _annotators(project, 2)
    held = assignment_next(project=project, annotator=alice)
    assert assignment_next(project=project, annotator=bob) is None
    later = timezone.now() + timedelta(minutes=31)
    given = assignment_next(project=project, annotator=bob, now=later)
    assert given is not None and given.comparison_id == held.comparison_id
    held.refresh_from_db()
    assert held.status == AssignmentStatus.EXPIRED
    assert Comparison.objects.get().n_reserved == 1
    assert assignments_expire(now=later) == 0  # idempotent


def test_late_submit_of_expired_reservation_respects_overlap():
    project = ProjectFactory(overlap=1, reservation_minutes=30)
    ComparisonFactory(project=project)
    alice, bob = _annotators(project, 2)
    held = assignment_next(project=project, annotator=alice)
    later = timezone.now() + timedelta(minutes=31)
    given = assignment_next(project=project, annotator=bob, now=later)
    judgment_submit(assignment=given, annotator=bob, **ANSWER)
    with pytest.raises(JudgmentConflict, match="all the judgments"):
        judgment_submit(assignment=held, annotator=alice, **ANSWER)
    assert Judgment.objects.count() == 1


def test_lowering_overlap_never_produces_more_judgments():
    project = ProjectFactory(overlap=3)
    comparison = ComparisonFactory(project=project)
    users = _annotators(project, 3)
    held = [assignment_next(project=project, annotator=u) for u in users]
    judgment_submit(assignment=held[0], annotator=users[0], **ANSWER)
    project.overlap = 1
    project.save(update_fields=["overlap"])
    for assignment, user in zip(held[1:], users[1:], strict=True):
        with pytest.raises(JudgmentConflict):
            judgment_submit(assignment=assignment, annotator=user, **ANSWER)
    assert Judgment.objects.filter(comparison=comparison).count() == 1
    newcomer = _annotators(project, 1)[0]
    assert assignment_next(project=project, annotator=newcomer) is None


def test_skip_returns_comparison_to_others_but_not_to_skipper():
    project = ProjectFactory(overlap=1)
    ComparisonFactory(project=project)
    alice, bob = _annotators(project, 2)
    held = assignment_next(project=project, annotator=alice)
    assignment_skip(assignment=held, annotator=alice)
    assert assignment_next(project=project, annotator=alice) is None
    assert assignment_next(project=project, annotator=bob).comparison_id == held.comparison_id


def test_display_order_is_randomised_and_stored():
    project = ProjectFactory(overlap=1)
    for _ in range(60):
        ComparisonFactory(project=project)
    (user,) = _annotators(project, 1)
    sides = []
    while (assignment := assignment_next(project=project, annotator=user)) is not None:
        sides.append(assignment.shown_left)
        assert assignment.response_on("left") == (
            assignment.comparison.response_a
            if assignment.shown_left == "a"
            else assignment.comparison.response_b
        )
        assignment_skip(assignment=assignment, annotator=user)
    assert set(sides) == {"a", "b"}
    assert 10 < sides.count("a") < 50  # P(outside) < 1e-6 for a fair coin
    assert Assignment.objects.filter(shown_left="a").count() == sides.count("a")
