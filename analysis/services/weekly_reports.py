"""Weekly bias reports: generate and store one, email it, keep each project's schedule.

A report covers one ISO week of the project's time zone (``analysis.weekly.weeks``). It
loads the judgments of that week and of up to :data:`TREND_WEEKS` earlier weeks in one
frame (``judgment_frame`` with a ``created_at`` window), analyses the week in full and
each earlier week with the cheap sections only, writes the headline, draws the charts
and renders one self-contained HTML document (``analysis.weekly``). The ``Report`` row
of (project, week) is written once, at the end: generating a week again replaces it.

Outcomes: ``succeeded`` (also for a week without judgments: a short report that says
so) or ``failed`` with the reason in ``error`` (and a short document saying it). Style
features that were never extracted fail the report with ``FeaturesMissing``'s message
rather than computing them inside the scheduled job: a weekly job that silently runs
extraction of a large project would take hours and then report on different data than
the analysis page.

Schedules: each project has one django-celery-beat ``PeriodicTask`` named
``weekly-report-<project id>`` that runs the ``analysis.weekly_report`` task on the
crontab ``settings.TIEBREAK_WEEKLY_REPORT_CRONTAB`` in the project's time zone.
:func:`report_schedule_ensure` creates it (when a project is created, when the admin
saves one, and for projects that existed before, in migration 0004) and follows a
change of the project's time zone, but leaves the minute, hour, day and enabled flag an
admin has edited alone.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, transaction
from django.urls import reverse
from django.utils import timezone

from analysis.models import JobStatus, Report
from analysis.services.frames import FrameError, judgment_frame
from analysis.services.runs import analysis_features
from analysis.stats.analyze import SECTIONS, analyze
from analysis.stats.frame import feature_names
from analysis.weekly.document import data_images_to_cid, render_weekly_document
from analysis.weekly.headline import Headline, headline
from analysis.weekly.trend import models_known, split_by_week, trend_summaries
from analysis.weekly.weeks import (
    WeekError,
    last_completed_week,
    parse_week,
    shift_week,
    week_bounds,
    week_label,
    week_span_text,
)
from annotation.models import Project, Role

__all__ = [
    "SCHEDULE_TASK",
    "TREND_WEEKS",
    "WeekError",
    "report_email",
    "report_enqueue",
    "report_generate",
    "report_recipients",
    "report_schedule",
    "report_schedule_ensure",
    "report_schedule_name",
    "report_week_check",
    "weekly_report_run",
]

logger = logging.getLogger(__name__)

#: Earlier weeks shown in the trend (the report's own week comes on top).
TREND_WEEKS = 8
#: The Celery task the schedule runs (registered name).
SCHEDULE_TASK = "analysis.weekly_report"
ALPHA = 0.05


# --- generating ---------------------------------------------------------------------------


def report_week_check(*, project: Project, week: str) -> tuple[str, datetime, datetime]:
    """Validate ``week`` for ``project``; return it normalised with its ``[start, end)``
    in the project's time zone.

    Raises
    ------
    WeekError
        Not an ISO week label, or a week that has not started yet in the project's time
        zone (a report of it would be empty by construction).
    """
    label = week_label(*parse_week(week))
    start, end = week_bounds(label, project.time_zone)
    now = timezone.now()
    if start > now:
        raise WeekError(
            f"{label} has not started yet in {project.time_zone} (it starts "
            f"{start:%a %d %b %Y %H:%M}); the latest week with a complete report is "
            f"{last_completed_week(now, project.time_zone)}"
        )
    return label, start, end


def report_generate(*, project: Project, week: str) -> Report:
    """Compute the report of ``week`` for ``project``, store it (replacing any), return it.

    Never raises for a report that cannot be made from the data: the row ends ``failed``
    with the reason in ``error``. Raises :class:`WeekError` for a bad ``week`` (nothing is
    written then) and lets database connection errors through, so that a task retries.
    """
    label, start, end = report_week_check(project=project, week=week)
    started = time.perf_counter()
    fields: dict[str, Any]
    try:
        fields = _compute(project, label, start, end)
    except (OperationalError, InterfaceError):
        raise
    except FrameError as exc:
        fields = _failed(project, label, str(exc))
    except Exception as exc:  # a bug is recorded on the report, not lost
        logger.exception("weekly report %s of %s failed", label, project.slug)
        fields = _failed(
            project, label, f"internal error ({type(exc).__name__}: {exc}); see the server log"
        )
    now = timezone.now()
    fields.update(
        period_start=start,
        period_end=end,
        finished_at=now,
        emailed_at=None,  # this version has not been sent
    )
    # One write at the end: a crash above leaves the previous version of the row intact.
    report, _ = Report.objects.update_or_create(project=project, week=label, defaults=fields)
    logger.info(
        "weekly report %s of %s: %s, %d judgments, %.1f s",
        label,
        project.slug,
        report.status,
        report.n_judgments,
        time.perf_counter() - started,
    )
    return report


def report_enqueue(*, project: Project, week: str) -> Report:
    """Mark week ``week``'s report pending and have the ``generate_weekly_report`` task
    compute it after commit (with eager Celery it has finished when this returns).

    An existing row keeps its content, shown as pending, until the task replaces it.
    """
    from analysis.tasks import generate_weekly_report  # tasks imports this module

    label, start, end = report_week_check(project=project, week=week)
    with transaction.atomic():
        report, created = Report.objects.get_or_create(
            project=project,
            week=label,
            defaults={"period_start": start, "period_end": end},
        )
        if not created:
            Report.objects.filter(pk=report.pk).update(
                status=JobStatus.PENDING, updated_at=timezone.now()
            )
        transaction.on_commit(lambda: generate_weekly_report.delay(project.pk, label), robust=True)
    report.refresh_from_db()
    return report


def _compute(project: Project, label: str, start: datetime, end: datetime) -> dict[str, Any]:
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    tz = project.time_zone
    labels = [shift_week(label, -k) for k in range(TREND_WEEKS, 0, -1)] + [label]
    windows = [(w, *week_bounds(w, tz)) for w in labels]
    frame = judgment_frame(project=project, created_from=windows[0][1], created_before=end)
    timings["frame"] = time.perf_counter() - clock
    # One feature set for the week and every week of the trend (the frame has the columns
    # even when empty): the default analysis set, as analysis runs use.
    features, feature_warnings = analysis_features(feature_names(frame), None)
    weeks = split_by_week(frame, windows)
    del frame
    this = weeks[label]
    # Weeks before the project's first judgment are left out of the trend, but last week
    # always stays: the headline compares with it.
    first = next((i for i, (w, _, _) in enumerate(windows) if len(weeks[w])), len(windows))
    windows = windows[min(first, len(windows) - 2) :]
    span = week_span_text(label, tz)
    base = {
        "project": project.slug,
        "project_name": project.name,
        "week": label,
        "span": span,
        "time_zone": tz,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "generated_at": timezone.now().astimezone(start.tzinfo).strftime("%Y-%m-%d %H:%M %Z"),
        "in_progress": timezone.now() < end,
        "alpha": ALPHA,
        "trend_weeks": TREND_WEEKS,
        "error": "",
    }
    result: dict[str, Any] | None = None
    known = {}
    if len(this):
        known_models = models_known(this)
        sections = [s for s in SECTIONS if known_models or s != "leaderboard"]
        clock = time.perf_counter()
        analysed = analyze(
            this, project=project.slug, alpha=ALPHA, features=features, sections=sections
        )
        result = analysed.to_dict()
        result["warnings"][:0] = feature_warnings
        timings.update({f"week: {k}": v for k, v in analysed.timings.items()})
        timings["week analysis"] = time.perf_counter() - clock
        known[label] = result
        base["models_known"] = known_models
    else:
        base["models_known"] = False
    clock = time.perf_counter()
    trend = trend_summaries(weeks, windows, features=features, alpha=ALPHA, known=known)
    timings["trend analyses"] = time.perf_counter() - clock
    previous = trend[-2]
    head: Headline = headline(
        week=label, span=span, time_zone=tz, result=result, previous=previous, alpha=ALPHA
    )
    report = {
        **base,
        "headline": head.to_dict(),
        "features": features,
        "analysis": result,
        "trend": trend,
    }
    clock = time.perf_counter()
    html = render_weekly_document(report)
    timings["charts and html"] = time.perf_counter() - clock
    report["timings"] = timings
    return {
        "status": JobStatus.SUCCEEDED,
        "n_judgments": len(this),
        "headline": head.text,
        "result": report,
        "html": html,
        "error": "",
    }


def _failed(project: Project, label: str, error: str) -> dict[str, Any]:
    tz = project.time_zone
    report = {
        "project": project.slug,
        "project_name": project.name,
        "week": label,
        "span": week_span_text(label, tz),
        "time_zone": tz,
        "error": error,
        "headline": {"verdict": "failed", "sentences": [], "tiebreakers": [], "text": ""},
        "analysis": None,
        "trend": [],
    }
    return {
        "status": JobStatus.FAILED,
        "n_judgments": 0,
        "headline": f"The report of {label} could not be made: {error}",
        "result": report,
        "html": render_weekly_document(report),
        "error": error[:10_000],
    }


# --- emailing ----------------------------------------------------------------------------


def report_recipients(*, project: Project) -> list[str]:
    """Email addresses of the project's researchers (members with that role and an
    address), sorted and without duplicates."""
    emails = (
        project.memberships.filter(role=Role.RESEARCHER, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(emails))


def report_email(*, report: Report) -> int:
    """Send ``report`` as an HTML email (with a plain-text body) to its project's
    researchers; return how many were addressed (0: nobody has an address, nothing sent).

    The HTML part is the stored document with its charts as inline attachments
    (``cid:`` references) instead of ``data:`` URIs, which several mail clients drop.

    Uses Django's email settings (``EMAIL_URL``; the console backend by default). Sets
    ``emailed_at`` once sent.
    """
    project = report.project
    recipients = report_recipients(project=project)
    if not recipients:
        logger.warning(
            "weekly report %s of %s not emailed: no researcher of the project has an email address",
            report.week,
            project.slug,
        )
        return 0
    result = report.result or {}
    failed = report.status == JobStatus.FAILED
    subject = f"Weekly bias report: {project.name} {report.week}" + (" (failed)" if failed else "")
    lines = [
        f"Weekly bias report: {project.name} ({project.slug})",
        f"{report.week} · {result.get('span', '')} · {project.time_zone}",
        "",
    ]
    lines += (
        [f"Error: {report.error}"]
        if failed
        else list((result.get("headline") or {}).get("sentences") or [report.headline])
    )
    lines += [
        "",
        "The HTML version of this message has the charts and tables. The report is also on "
        "the project's page in tiebreak: "
        + settings.TIEBREAK_SITE_URL.rstrip("/")
        + reverse("weekly-report", args=[project.slug, report.week]),
    ]
    message = EmailMultiAlternatives(
        subject=subject,
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        # Each researcher gets their own copy: no one sees the others' addresses.
        to=[],
        bcc=recipients,
    )
    # The charts travel as inline attachments referenced by Content-ID (multipart/related):
    # mail clients that drop data: images show those.
    html, images = data_images_to_cid(report.html)
    message.attach_alternative(html, "text/html")
    if images:
        message.mixed_subtype = "related"
    for content_id, data in images:
        image = MIMEImage(data, "png")
        image.add_header("Content-ID", f"<{content_id}>")
        image.add_header(
            "Content-Disposition", "inline", filename=content_id.split("@")[0] + ".png"
        )
        message.attach(image)
    message.send()
    now = timezone.now()
    Report.objects.filter(pk=report.pk).update(emailed_at=now, updated_at=now)
    report.emailed_at = now
    return len(recipients)


# --- schedule -----------------------------------------------------------------------------


def report_schedule_name(project: Project) -> str:
    """The name of the project's PeriodicTask (by id: a slug can be renamed)."""
    return f"weekly-report-{project.pk}"


def report_schedule(*, project: Project):
    """The project's weekly-report ``PeriodicTask`` (with its crontab), or None."""
    from django_celery_beat.models import PeriodicTask

    return (
        PeriodicTask.objects.select_related("crontab", "interval")
        .filter(name=report_schedule_name(project))
        .first()
    )


def report_schedule_ensure(*, project: Project):
    """Create the project's weekly-report PeriodicTask, or bring its time zone up to date.

    A new task gets ``settings.TIEBREAK_WEEKLY_REPORT_CRONTAB`` in the project's time
    zone. An existing one keeps what an admin may have edited (minute, hour, days,
    enabled, or even an interval schedule instead of a crontab); only its crontab's time
    zone follows the project's, and its task and arguments are set to run this project's
    report. Returns the ``PeriodicTask``.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    kwargs = json.dumps({"project_id": project.pk})
    with transaction.atomic():
        task = (
            PeriodicTask.objects.select_for_update()
            .filter(name=report_schedule_name(project))
            .first()
        )
        if task is None:
            spec = {
                "minute": "0",
                "hour": "0",
                "day_of_week": "*",
                "day_of_month": "*",
                "month_of_year": "*",
                **settings.TIEBREAK_WEEKLY_REPORT_CRONTAB,
            }
            crontab = _crontab(CrontabSchedule, spec, project.time_zone)
            return PeriodicTask.objects.create(
                name=report_schedule_name(project),
                task=SCHEDULE_TASK,
                crontab=crontab,
                kwargs=kwargs,
                description=f"Weekly bias report of project {project.slug!r}: the last "
                "completed week, emailed to its researchers. Times are in the crontab's "
                "time zone, which follows the project's.",
            )
        changed = []
        if task.task != SCHEDULE_TASK or task.kwargs != kwargs or task.args not in ("", "[]"):
            task.task, task.kwargs, task.args = SCHEDULE_TASK, kwargs, "[]"
            changed += ["task", "kwargs", "args"]
        if task.crontab is not None and str(task.crontab.timezone) != project.time_zone:
            c = task.crontab
            # A crontab row may be shared with other tasks: point this one at a row with
            # the same fields in the new zone instead of editing it.
            task.crontab = _crontab(
                CrontabSchedule,
                {
                    "minute": c.minute,
                    "hour": c.hour,
                    "day_of_week": c.day_of_week,
                    "day_of_month": c.day_of_month,
                    "month_of_year": c.month_of_year,
                },
                project.time_zone,
            )
            changed.append("crontab")
        if changed:
            # save() (not update()) so that beat's change tracking sees it.
            task.save()
        return task


def _crontab(model, spec: dict[str, str], time_zone: str):
    existing = model.objects.filter(**spec, timezone=time_zone).order_by("pk").first()
    return existing or model.objects.create(**spec, timezone=time_zone)


# --- the scheduled run --------------------------------------------------------------------


def weekly_report_run(*, project_id: int, now: datetime | None = None) -> str:
    """What the schedule does: report the last completed week and email it.

    Idempotent: a report of that week that succeeded after the week had ended and was
    emailed is left alone (a redelivered task sends nothing twice); one that exists but
    was not emailed is emailed; otherwise the week is generated first. Returns a short
    status line.
    """
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return f"project {project_id} no longer exists: nothing to report"
    now = now or timezone.now()
    week = last_completed_week(now, project.time_zone)
    _, end = week_bounds(week, project.time_zone)
    report = Report.objects.filter(project=project, week=week).first()
    fresh = (
        report is not None
        and report.status == JobStatus.SUCCEEDED
        and report.finished_at is not None
        and report.finished_at >= end
    )
    if not fresh:
        report = report_generate(project=project, week=week)
    if report.emailed_at is None:
        sent = report_email(report=report)
        return f"{project.slug} {week}: {report.status}, emailed to {sent}"
    return f"{project.slug} {week}: {report.status}, already emailed"
