"""The judgment frame: the one table every statistic in tiebreak reads.

The Django layer (``analysis.services.frames``) builds it from the database; the
simulator builds it directly; notebooks can build it from anything. Nothing in
``analysis.stats`` touches Django.

One row per judgment. Columns (``<key>`` = rubric criterion key, ``<feature>`` =
style feature name as produced by ``analysis.features.extract``, e.g. ``emojis``
or ``length.words``):

==================  ==========================================================
``outcome``         ``"a"``, ``"b"`` or ``"tie"`` (canonical, not display order)
``left``            ``"a"`` or ``"b"``: which response was shown on the left
``annotator``       str: annotator username or external annotator id
``comparison``      str: comparison id (external id when there is one)
``created_at``      timestamp (may be NaT)
``model_a``         str or missing: the model that wrote response a
``model_b``         str or missing
``rubric.<key>``    float, a minus b: ``compare`` answers as +1 (a) / 0 (tie) /
                    -1 (b); ``rating`` answers as score(a) - score(b);
                    NaN when the criterion was not answered
``a.<feature>``     float: the raw feature value of response a
``b.<feature>``     float: the raw feature value of response b
==================  ==========================================================

A frame with no ``rubric.*`` columns (or all NaN) is "style-only" data, e.g. a
public dataset imported without rubric answers.
"""

from __future__ import annotations

OUTCOME = "outcome"
LEFT = "left"
ANNOTATOR = "annotator"
COMPARISON = "comparison"
CREATED_AT = "created_at"
MODEL_A = "model_a"
MODEL_B = "model_b"
RUBRIC_PREFIX = "rubric."
A_PREFIX = "a."
B_PREFIX = "b."

OUTCOMES = ("a", "b", "tie")


def rubric_columns(frame) -> list[str]:
    """Return the ``rubric.<key>`` columns of ``frame`` in their frame order."""
    return [c for c in frame.columns if c.startswith(RUBRIC_PREFIX)]


def feature_names(frame) -> list[str]:
    """Return the style feature names that have both an ``a.`` and a ``b.`` column."""
    names = [c[len(A_PREFIX) :] for c in frame.columns if c.startswith(A_PREFIX)]
    return [n for n in names if B_PREFIX + n in frame.columns]
