"""What a comparison's votes add up to: majority, agreement, rubric tie, style-decided.

Every rule here is meant to be checked by hand (docs/exports.md has worked examples):

* ``majority``: the answer (a, b or tie) with the most votes, or ``None`` when two answers
  share the most votes.
* ``agreement``: the top vote count over the number of votes.
* ``rubric_tied``: most (more than half) of the comparison's judgments that answered any
  criterion have a tied rubric (``analysis.stats.tiebreak.rubric_state`` is ``"tied"``);
  ``None`` when none answered a criterion.
* ``style_heavier``: a sign vote over the style features: the response higher on more of
  them (features equal on both, or missing, do not vote); ``None`` when the votes balance.
* ``style_decided``: the rubric is tied, the majority is a or b, and it is the
  style-heavier response.
* The DPO winner: the response with strictly more votes than the other (tie votes do not
  count); ``None`` when a and b have as many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Preferences", "comparison_filter", "dpo_winner", "preferences", "style_heavier"]

_SIDES = np.array(["a", "b", "tie"], dtype=object)


@dataclass(frozen=True)
class Preferences:
    """Per comparison (arrays of one length): votes and what they add up to."""

    n_votes: np.ndarray
    votes_a: np.ndarray
    votes_b: np.ndarray
    votes_tie: np.ndarray
    majority: np.ndarray  # object: "a", "b", "tie" or None
    agreement: np.ndarray  # float; NaN without votes
    mean_strength: np.ndarray  # float; NaN when no vote has a strength
    rubric_tied: np.ndarray  # object: True, False or None
    style_heavier: np.ndarray  # object: "a", "b" or None
    style_decided: np.ndarray  # bool


def style_heavier(features_a: np.ndarray, features_b: np.ndarray) -> np.ndarray:
    """``"a"`` / ``"b"`` for the response higher on more of the features, else ``None``.

    Parameters
    ----------
    features_a, features_b : numpy.ndarray
        ``(comparisons, features)`` values of response a and b; NaN where missing.

    Examples
    --------
    >>> style_heavier(np.array([[3.0, 0, 1], [1, 1, 1]]), np.array([[1.0, 2, 0], [1, 1, 1]]))
    array(['a', None], dtype=object)
    """
    out = np.full(features_a.shape[0], None, dtype=object)
    if features_a.shape[1] == 0:
        return out
    with np.errstate(invalid="ignore"):
        votes = np.nansum(np.sign(features_a - features_b), axis=1)
    out[votes > 0] = "a"
    out[votes < 0] = "b"
    return out


def preferences(
    *,
    owner: np.ndarray,
    n_comparisons: int,
    choice: np.ndarray,
    strength: np.ndarray,
    rubric_state: np.ndarray,
    features_a: np.ndarray | None,
    features_b: np.ndarray | None,
) -> Preferences:
    """Tally each comparison's judgments.

    Parameters
    ----------
    owner : numpy.ndarray of int
        Per judgment, the index of its comparison (``0 .. n_comparisons - 1``).
    n_comparisons : int
        Comparisons in the batch.
    choice : numpy.ndarray of str
        Per judgment: ``"a"``, ``"b"`` or ``"tie"``.
    strength : numpy.ndarray of float
        Per judgment, NaN where it has none.
    rubric_state : numpy.ndarray of str
        Per judgment, :func:`analysis.stats.tiebreak.rubric_state`.
    features_a, features_b : numpy.ndarray, optional
        ``(n_comparisons, features)`` style features of the two responses, for
        ``style_heavier``; ``None`` leaves it ``None`` everywhere.
    """
    n = n_comparisons
    counts = np.stack(
        [np.bincount(owner, weights=choice == side, minlength=n) for side in ("a", "b", "tie")],
        axis=1,
    ).astype(np.int64)
    n_votes = counts.sum(axis=1)
    top = counts.max(axis=1) if n else np.zeros(0, dtype=np.int64)
    unique_top = (counts == top[:, None]).sum(axis=1) == 1
    majority = np.where(unique_top & (n_votes > 0), _SIDES[counts.argmax(axis=1)], None)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n_votes > 0, top / np.maximum(n_votes, 1), np.nan)
        has_strength = ~np.isnan(strength)
        strength_sum = np.bincount(owner, weights=np.where(has_strength, strength, 0), minlength=n)
        strength_n = np.bincount(owner, weights=has_strength, minlength=n)
        mean_strength = np.where(strength_n > 0, strength_sum / np.maximum(strength_n, 1), np.nan)
    answered = np.bincount(owner, weights=rubric_state != "missing", minlength=n)
    tied = np.bincount(owner, weights=rubric_state == "tied", minlength=n)
    rubric_tied = np.where(answered > 0, 2 * tied > answered, None).astype(object)
    if features_a is None or features_b is None:
        heavier = np.full(n, None, dtype=object)
    else:
        heavier = style_heavier(features_a, features_b)
    decided = (
        (rubric_tied == True)  # noqa: E712 -- elementwise on an object array
        & np.isin(majority, ["a", "b"])
        & (majority == heavier)
    ).astype(bool)
    return Preferences(
        n_votes=n_votes,
        votes_a=counts[:, 0],
        votes_b=counts[:, 1],
        votes_tie=counts[:, 2],
        majority=majority.astype(object),
        agreement=agreement,
        mean_strength=mean_strength,
        rubric_tied=rubric_tied,
        style_heavier=heavier,
        style_decided=decided,
    )


def comparison_filter(
    prefs: Preferences,
    *,
    min_agreement: float | None = None,
    drop_ties: bool = False,
    exclude_style_decided: bool = False,
) -> np.ndarray:
    """Which comparisons an export keeps (bool per comparison); the same for every kind.

    A comparison without votes is never kept. ``drop_ties`` leaves out comparisons where
    tie has the most votes, alone or shared with a or b; ``min_agreement`` those whose
    agreement is lower; ``exclude_style_decided`` those that are style-decided.
    """
    keep = prefs.n_votes > 0
    if min_agreement is not None:
        keep &= prefs.agreement >= min_agreement
    if drop_ties:
        keep &= prefs.votes_tie < np.maximum(prefs.votes_a, prefs.votes_b)
    if exclude_style_decided:
        keep &= ~prefs.style_decided
    return keep


def dpo_winner(prefs: Preferences) -> np.ndarray:
    """``"a"`` / ``"b"``: the response with strictly more votes than the other, else ``None``."""
    out = np.full(prefs.n_votes.shape[0], None, dtype=object)
    out[prefs.votes_a > prefs.votes_b] = "a"
    out[prefs.votes_b > prefs.votes_a] = "b"
    return out
