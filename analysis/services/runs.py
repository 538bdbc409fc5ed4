"""Analysis runs: create one, execute it (load the frame, analyse, store JSON and HTML).

A run's lifecycle: ``pending`` (created) → ``running`` → ``succeeded`` (``result`` holds
``AnalysisResult.to_dict()``, ``html`` the standalone report) or ``failed`` (``error``
says why, in words a researcher can act on). Executing a run again recomputes and
overwrites its own result, so a redelivered task does no harm.

Style features: a run that names none analyses the default set
``settings.TIEBREAK_ANALYSIS_FEATURES`` (one column per concept, features the project
lacks skipped with a warning); ``"all"`` analyses every feature, default ones first
(:func:`analysis_features`).

The web page and the API create runs with :func:`analysis_run_enqueue` (executed by the
``run_analysis`` Celery task once the creating transaction has committed; with eager
Celery, the embedded default, that is before the request returns). The ``analyze``
management command uses :func:`analysis_run_now`, in-process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from analysis.models import AnalysisRun, JobStatus
from analysis.report import render_report_document
from analysis.services.frames import FrameError, judgment_frame
from analysis.stats.analyze import SECTIONS, analyze
from analysis.stats.frame import feature_names
from annotation.models import Project

__all__ = [
    "ALL_FEATURES",
    "CORRECTIONS",
    "DEFAULT_PARAMS",
    "AnalysisInputError",
    "analysis_features",
    "analysis_params_check",
    "analysis_run_create",
    "analysis_run_enqueue",
    "analysis_run_execute",
    "analysis_run_now",
]

logger = logging.getLogger(__name__)

#: ``statsmodels.stats.multitest.multipletests`` methods accepted as ``correction``.
CORRECTIONS = (
    "holm",
    "bonferroni",
    "sidak",
    "holm-sidak",
    "simes-hochberg",
    "hommel",
    "fdr_bh",
    "fdr_by",
)

#: ``features`` value meaning every style feature of the project (``None``: the default
#: analysis set, ``settings.TIEBREAK_ANALYSIS_FEATURES``).
ALL_FEATURES = "all"

#: Parameters a run accepts, with their defaults (those of ``analysis.stats.analyze``,
#: except ``features``: ``None`` is the default analysis feature set, see
#: :func:`analysis_features`).
DEFAULT_PARAMS: dict[str, Any] = {
    "alpha": 0.05,
    "correction": "holm",
    "features": None,
    "seed": 0,
    "cv_splits": 5,
    "sections": None,
    "missing_features": "error",
}


class AnalysisInputError(Exception):
    """The project cannot be analysed as it is (no judgments, unknown features, …)."""


def analysis_params_check(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate run parameters and return them complete (defaults filled in).

    Raises ``ValidationError`` with a message per offending key (``{"alpha": [...]}``);
    unknown keys are errors too, so a typo never silently runs the defaults.
    """
    params = dict(params or {})
    errors: dict[str, list[str]] = {}
    for key in sorted(set(params) - set(DEFAULT_PARAMS)):
        errors[key] = [f"unknown parameter; expected one of {', '.join(DEFAULT_PARAMS)}"]
    out = {**DEFAULT_PARAMS, **{k: v for k, v in params.items() if k in DEFAULT_PARAMS}}

    alpha = out["alpha"]
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 0.5:
        errors["alpha"] = ["must be a number between 0 and 0.5 (0.05 gives 95% intervals)"]
    else:
        out["alpha"] = float(alpha)
    if out["correction"] not in CORRECTIONS:
        errors["correction"] = [f"must be one of {', '.join(CORRECTIONS)}"]
    for key, low, high in (("seed", 0, 2**32 - 1), ("cv_splits", 2, 20)):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[key] = [f"must be an integer from {low} to {high}"]
    if out["features"] in (ALL_FEATURES, [ALL_FEATURES]):
        out["features"] = ALL_FEATURES
    for key, allowed in (("features", None), ("sections", SECTIONS)):
        value = out[key]
        if value is None or (key == "features" and value == ALL_FEATURES):
            continue
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            errors[key] = ["must be a list of names"]
        elif not value:
            errors[key] = [
                "must not be empty (leave it out for the default"
                + (', or "all" for every feature)' if key == "features" else ")")
            ]
        elif allowed is not None and set(value) - set(allowed):
            unknown = ", ".join(sorted(set(value) - set(allowed)))
            errors[key] = [f"unknown: {unknown}; expected some of {', '.join(allowed)}"]
        else:
            out[key] = list(value)
    if out["missing_features"] not in ("error", "compute"):
        errors["missing_features"] = ["must be 'error' or 'compute'"]
    if errors:
        raise ValidationError(errors)
    return out


def analysis_run_create(
    *, project: Project, user=None, params: Mapping[str, Any] | None = None
) -> AnalysisRun:
    """Create a pending run with validated parameters (see :func:`analysis_params_check`)."""
    checked = analysis_params_check(params)
    return AnalysisRun.objects.create(
        project=project,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        params=checked,
    )


def analysis_run_enqueue(
    *, project: Project, user=None, params: Mapping[str, Any] | None = None
) -> AnalysisRun:
    """Create a run and have the ``run_analysis`` task execute it after commit.

    With eager Celery the run has finished when this returns (if called outside a
    transaction); otherwise a worker picks it up. A broker that cannot be reached is
    logged and leaves the run pending (``robust``), rather than failing the request.
    """
    from analysis.tasks import run_analysis  # imported here: tasks imports this module

    with transaction.atomic():
        run = analysis_run_create(project=project, user=user, params=params)
        transaction.on_commit(lambda: run_analysis.delay(run.pk), robust=True)
    run.refresh_from_db()
    return run


def analysis_run_now(
    *, project: Project, user=None, params: Mapping[str, Any] | None = None
) -> AnalysisRun:
    """Create a run and execute it in this process; return it finished (see its status)."""
    run = analysis_run_create(project=project, user=user, params=params)
    return analysis_run_execute(run_id=run.pk)


def analysis_run_execute(*, run_id: int) -> AnalysisRun:
    """Execute run ``run_id``: load the project's frame, analyse it, store the result.

    Never raises for a failed analysis: the run ends ``failed`` with the reason in
    ``error`` (the reason is the exception's message for problems with the data, and a
    generic message plus a logged traceback for bugs). Database connection errors do
    propagate, so the task can retry. Returns the run, refreshed.
    """
    run = AnalysisRun.objects.select_related("project").get(pk=run_id)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=JobStatus.RUNNING, error="", updated_at=timezone.now()
    )
    try:
        result, html = _compute(run)
    except (OperationalError, InterfaceError):
        raise
    except (AnalysisInputError, FrameError, ValidationError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        _finish(run, status=JobStatus.FAILED, error=message)
    except Exception as exc:  # a bug in one run is recorded on the run, not lost
        logger.exception("analysis run %s of %s failed", run.pk, run.project.slug)
        _finish(
            run,
            status=JobStatus.FAILED,
            error=f"internal error ({type(exc).__name__}: {exc}); see the server log",
        )
    else:
        _finish(run, status=JobStatus.SUCCEEDED, result=result, html=html)
    run.refresh_from_db()
    return run


def analysis_features(
    available: list[str], requested: list[str] | str | None
) -> tuple[list[str], list[str]]:
    """Resolve a run's ``features`` parameter to the list the statistics get.

    Parameters
    ----------
    available : list of str
        The project's style features (the frame's, in extractor order).
    requested : list of str, ``"all"`` or None
        The run's ``features``: ``None`` means the default analysis set
        ``settings.TIEBREAK_ANALYSIS_FEATURES`` (one column per concept), ``"all"`` every
        feature, a list exactly those features (checked by the caller).

    Returns
    -------
    (features, warnings)
        The feature list, and warnings for the result (default features the project does
        not have; no default feature at all, in which case every feature is used).

    Notes
    -----
    The order matters: the collinearity guard of ``analysis.stats.design`` keeps the
    earlier of two near-duplicates, so ``"all"`` lists the default features first (the
    guard then keeps ``length.words`` rather than ``length.chars``).
    """
    default = list(getattr(settings, "TIEBREAK_ANALYSIS_FEATURES", []))
    if requested == ALL_FEATURES:
        return [f for f in default if f in available] + [
            f for f in available if f not in default
        ], []
    if requested is not None:
        return list(requested), []
    chosen = [f for f in default if f in available]
    missing = [f for f in default if f not in available]
    warnings = []
    if missing:
        warnings.append(
            "default analysis features (TIEBREAK_ANALYSIS_FEATURES) this project does not "
            f"have, ignored: {', '.join(missing)}"
        )
    if not chosen:
        warnings.append(
            "none of the default analysis features is in this project: every style feature "
            "is analysed"
        )
        return list(available), warnings
    return chosen, warnings


def _compute(run: AnalysisRun) -> tuple[dict[str, Any], str]:
    project = run.project
    params = analysis_params_check(run.params)
    started = time.perf_counter()
    frame = judgment_frame(project=project, missing_features=params["missing_features"])
    loaded = time.perf_counter()
    if not len(frame):
        raise AnalysisInputError(
            f"project {project.slug!r} has no judgments yet: annotate or import some first"
        )
    if params["features"] not in (None, ALL_FEATURES):
        unknown = sorted(set(params["features"]) - set(feature_names(frame)))
        if unknown:
            raise AnalysisInputError(
                f"unknown style features: {', '.join(unknown)}; the project has "
                f"{', '.join(feature_names(frame)) or 'none'}"
            )
    if not feature_names(frame):
        raise AnalysisInputError(
            "no style features are configured (TIEBREAK_FEATURE_EXTRACTORS is empty)"
        )
    features, feature_warnings = analysis_features(feature_names(frame), params["features"])
    for warning in feature_warnings:
        logger.warning("analysis run %s of %s: %s", run.pk, project.slug, warning)
    result = analyze(
        frame,
        project=project.slug,
        alpha=params["alpha"],
        correction=params["correction"],
        features=features,
        cv_splits=params["cv_splits"],
        seed=params["seed"],
        sections=params["sections"],
    )
    result.warnings[:0] = feature_warnings
    data = result.to_dict()
    # Which rule chose params.features (the list actually analysed).
    requested = params["features"]
    data["params"]["feature_set"] = (
        "default" if requested is None else "all" if requested == ALL_FEATURES else "chosen"
    )
    html = render_report_document(data, run=run, project=project)
    logger.info(
        "analysis run %s of %s: %d judgments, frame %.2fs, analysis %.2fs (%s)",
        run.pk,
        project.slug,
        len(frame),
        loaded - started,
        time.perf_counter() - loaded,
        ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()),
    )
    return data, html


def _finish(
    run: AnalysisRun,
    *,
    status: str,
    result: dict[str, Any] | None = None,
    html: str = "",
    error: str = "",
) -> None:
    now = timezone.now()
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=status,
        result=result,
        html=html,
        error=error[:10_000],
        finished_at=now,
        updated_at=now,
    )
