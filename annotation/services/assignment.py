"""Assignment: hand comparisons to annotators, respecting overlap, under concurrency.

How correctness holds:

* ``Comparison.n_judgments`` and ``Comparison.n_reserved`` are updated in the same
  transaction as the row that changes them, so capacity is a property of the comparison
  row itself. ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL then gives each
  concurrent request a different comparison, and when a row was changed by a transaction
  that committed meanwhile, PostgreSQL re-checks the capacity condition on the new row
  version before handing it out.
* Requests of one annotator in one project are serialised by locking their membership
  row, so an annotator never holds two reservations because of a double click.
* ``UniqueConstraint(comparison, annotator)`` on Assignment is the last line: an
  annotator never gets the same comparison twice, whatever happens above.
* On SQLite every transaction takes the write lock up front (``transaction_mode =
  IMMEDIATE`` in settings), which serialises assignment there.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Comparison,
    Membership,
    Project,
    Role,
)

# A fresh draw per assignment; SystemRandom so display order cannot be predicted from ids.
_rng = random.SystemRandom()


class NotAMember(PermissionError):
    """The user is not an annotator of the project."""


def assignments_expire(*, project: Project | None = None, now: datetime | None = None) -> int:
    """Return expired reservations to the pool; returns how many expired.

    Safe to call concurrently: the status update is the lock, so each reservation is
    expired (and its comparison's ``n_reserved`` decremented) exactly once.
    """
    now = now or timezone.now()
    expired = 0
    qs = Assignment.objects.filter(status=AssignmentStatus.RESERVED, expires_at__lte=now)
    if project is not None:
        qs = qs.filter(comparison__project=project)
    for pk, comparison_id in list(qs.values_list("pk", "comparison_id")[:1000]):
        with transaction.atomic():
            changed = Assignment.objects.filter(
                pk=pk, status=AssignmentStatus.RESERVED, expires_at__lte=now
            ).update(status=AssignmentStatus.EXPIRED, updated_at=now)
            if changed:
                Comparison.objects.filter(pk=comparison_id, n_reserved__gt=0).update(
                    n_reserved=F("n_reserved") - 1
                )
                expired += 1
    return expired


def _lock_membership(project: Project, annotator) -> None:
    membership = (
        Membership.objects.select_for_update()
        .filter(project=project, user=annotator, role=Role.ANNOTATOR)
        .first()
    )
    if membership is None:
        raise NotAMember(f"{annotator} is not an annotator of {project.slug}")


def assignment_current(*, project: Project, annotator, now: datetime | None = None):
    """The annotator's unexpired reservation in ``project``, if any."""
    now = now or timezone.now()
    return (
        Assignment.objects.filter(
            comparison__project=project,
            annotator=annotator,
            status=AssignmentStatus.RESERVED,
            expires_at__gt=now,
        )
        .select_related("comparison__prompt", "comparison__response_a", "comparison__response_b")
        .order_by("created_at")
        .first()
    )


def assignment_next(
    *, project: Project, annotator, now: datetime | None = None
) -> Assignment | None:
    """Reserve the next comparison for ``annotator``; ``None`` when nothing is left.

    An unexpired reservation the annotator already holds is returned again (a reload
    shows the same pair). Raises ``NotAMember`` for users who are not annotators of the
    project.
    """
    now = now or timezone.now()
    assignments_expire(project=project, now=now)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return _reserve(project=project, annotator=annotator, now=now)
        except IntegrityError:
            # Another request of the same annotator won a race the membership lock did not
            # cover (e.g. a membership added concurrently); try again with fresh state.
            continue
    return None


def _reserve(*, project: Project, annotator, now: datetime) -> Assignment | None:
    _lock_membership(project, annotator)
    current = assignment_current(project=project, annotator=annotator, now=now)
    if current is not None:
        return current
    project = Project.objects.get(pk=project.pk)  # the overlap as of now, not as cached
    mine = Assignment.objects.filter(comparison=OuterRef("pk"), annotator=annotator)
    candidate = (
        Comparison.objects.filter(project=project)
        .alias(taken=F("n_judgments") + F("n_reserved"))
        .filter(taken__lt=project.overlap)
        .exclude(Exists(mine))
        .order_by("id")
        .select_for_update(skip_locked=True)
        .first()
    )
    if candidate is None:
        return None
    expires_at = now + timedelta(minutes=project.reservation_minutes)
    shown_left = _rng.choice("ab")
    assignment = Assignment.objects.create(
        comparison=candidate, annotator=annotator, shown_left=shown_left, expires_at=expires_at
    )
    Comparison.objects.filter(pk=candidate.pk).update(n_reserved=F("n_reserved") + 1)
    return Assignment.objects.select_related(
        "comparison__prompt", "comparison__response_a", "comparison__response_b"
    ).get(pk=assignment.pk)


def assignment_skip(*, assignment: Assignment, annotator) -> None:
    """Give a reserved comparison back; the annotator will not be offered it again."""
    with transaction.atomic():
        changed = Assignment.objects.filter(
            pk=assignment.pk, annotator=annotator, status=AssignmentStatus.RESERVED
        ).update(status=AssignmentStatus.SKIPPED, updated_at=timezone.now())
        if changed:
            Comparison.objects.filter(pk=assignment.comparison_id, n_reserved__gt=0).update(
                n_reserved=F("n_reserved") - 1
            )
