"""Weekly reports from the database: generate and store, empty and failed weeks, email,
the command, the beat schedule and the task it runs."""

from __future__ import annotations

import importlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from celery import current_app
from django.apps import apps as django_apps
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from analysis.models import JobStatus, Report
from analysis.services.simulate import simulated_project_create
from analysis.services.weekly_reports import (
    SCHEDULE_TASK,
    WeekError,
    report_email,
    report_generate,
    report_schedule_ensure,
    report_schedule_name,
)
from analysis.simulation import SimulationParams
from analysis.weekly.weeks import last_completed_week, week_bounds
from annotation.models import Judgment, Role
from annotation.services.projects import project_create
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ZONE = "Europe/Berlin"
# Monday 7 September 2026, 00:00 in Berlin: the campaign fills 2026-W37 to 2026-W41.
START = "2026-09-06T22:00:00Z"
WEEK = "2026-W41"
SECTIONS = (
    "headline-title",
    "effects-title",
    "tiebreak-title",
    "trend-title",
    "leaderboard-title",
    "annotators-title",
    "quality-title",
)


def simulated(capture, slug: str, *, start: str = START, days: float = 35, **kwargs):
    with capture(execute=True):
        project = simulated_project_create(
            slug=slug,
            comparisons=kwargs.pop("comparisons", 300),
            annotators=12,
            seed=kwargs.pop("seed", 1),
            params=SimulationParams(start=start, days=days),
            **kwargs,
        ).project
    project.time_zone = ZONE
    project.save(update_fields=["time_zone"])
    report_schedule_ensure(project=project)  # as the admin does when the zone changes
    return project


@pytest.fixture
def sim(django_capture_on_commit_callbacks):
    return simulated(django_capture_on_commit_callbacks, "sim")


def assert_self_contained(html: str) -> None:
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external resource"
    assert "<link" not in html.lower() and "@import" not in html
    for src in re.findall(r"""<img[^>]*\ssrc="([^"]*)""", html):
        assert src.startswith("data:image/png;base64,"), src[:40]
    assert "@media print" in html and "page-break-inside: avoid" in html


def test_a_week_is_generated_stored_and_self_contained(sim):
    report = report_generate(project=sim, week=WEEK)

    assert report.status == JobStatus.SUCCEEDED, report.error
    start, end = week_bounds(WEEK, ZONE)
    assert (report.period_start, report.period_end) == (start, end)
    in_week = Judgment.objects.filter(
        comparison__project=sim, created_at__gte=start, created_at__lt=end
    ).count()
    assert report.n_judgments == in_week > 100
    html = report.html
    assert_self_contained(html)
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    assert html.count('<img src="data:image/png;base64,') >= 6
    assert "2026-W41 · Mon 5 Oct – Sun 11 Oct 2026 · Europe/Berlin" in html
    assert report.headline and report.headline.split(":")[0] in html

    result = report.result
    assert [w["week"] for w in result["trend"]] == [
        "2026-W37",
        "2026-W38",
        "2026-W39",
        "2026-W40",
        "2026-W41",
    ]
    assert (
        sum(w["n_judgments"] for w in result["trend"])
        == Judgment.objects.filter(comparison__project=sim).count()
    )
    assert result["analysis"]["n_judgments"] == in_week
    assert result["models_known"] and result["analysis"]["leaderboard"]
    assert result["headline"]["text"] == report.headline
    # The planted behaviour: flattery breaks rubric ties (in every week of the trend).
    for week in result["trend"]:
        assert week["tiebreak"]["flattery.count"]["tied_share_higher_wins"] > 0.5


def test_generating_again_replaces_the_report(sim):
    first = report_generate(project=sim, week=WEEK)
    Report.objects.filter(pk=first.pk).update(emailed_at=timezone.now())
    second = report_generate(project=sim, week=WEEK)
    assert Report.objects.filter(project=sim).count() == 1
    assert second.pk == first.pk and second.finished_at > first.finished_at
    assert second.emailed_at is None  # the new version has not been sent
    assert second.html == first.html.replace(
        first.result["generated_at"], second.result["generated_at"]
    )


def test_an_empty_week_gives_a_short_report(sim):
    report = report_generate(project=sim, week="2026-W42")
    assert report.status == JobStatus.SUCCEEDED and report.n_judgments == 0
    last_week = report.result["trend"][-2]
    assert last_week["week"] == "2026-W41" and last_week["n_judgments"] > 0
    # The trend keeps the default analysis features (one per concept) without a week to
    # take them from.
    features = report.result["features"]
    assert "flattery.count" in features and "length.chars" not in features
    assert set(last_week["style"]) <= set(features)
    assert report.headline == (
        "No judgments were recorded in 2026-W42 (Mon 12 Oct – Sun 18 Oct 2026, "
        f"Europe/Berlin). The week before had {last_week['n_judgments']:,} judgments."
    )
    assert_self_contained(report.html)
    assert report.headline in report.html
    assert 'id="effects-title"' not in report.html

    # Long before the project: nothing at all, still a report.
    quiet = report_generate(project=sim, week="2025-W10")
    assert quiet.status == JobStatus.SUCCEEDED
    assert quiet.headline.startswith("No judgments were recorded in 2025-W10 (Mon 3 Mar")
    assert "The week before had 0 judgments." in quiet.headline


def test_missing_features_fail_the_report_with_the_reason(django_capture_on_commit_callbacks):
    project = simulated(django_capture_on_commit_callbacks, "raw", start_features=False)
    report = report_generate(project=project, week=WEEK)
    assert report.status == JobStatus.FAILED
    assert "style features are missing" in report.error
    assert "extract_features raw" in report.error
    assert_self_contained(report.html)
    assert "could not be made" in report.html and "style features are missing" in report.html


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2026-47", "expected YYYY-Www"),
        ("2025-W53", "2025 has weeks W01 to W52"),
        ("2999-W01", "has not started yet in Europe/Berlin"),
    ],
)
def test_a_bad_week_is_refused_and_nothing_is_stored(sim, week, message):
    with pytest.raises(WeekError, match=message):
        report_generate(project=sim, week=week)
    assert not Report.objects.exists()


# --- email --------------------------------------------------------------------------------


def test_email_goes_to_the_researchers_with_an_address_only(sim, settings):
    settings.TIEBREAK_SITE_URL = "https://tiebreak.example.org/"
    for username, email, role in (
        ("res-1", "res1@example.org", Role.RESEARCHER),
        ("res-2", "res2@example.org", Role.RESEARCHER),
        ("res-no-mail", "", Role.RESEARCHER),
        ("ann-1", "ann1@example.org", Role.ANNOTATOR),
    ):
        MembershipFactory(project=sim, user=UserFactory(username=username, email=email), role=role)
    outsider = UserFactory(username="other", email="other@example.org")
    MembershipFactory(user=outsider, role=Role.RESEARCHER)  # of another project
    report = report_generate(project=sim, week=WEEK)

    assert report_email(report=report) == 2
    (message,) = mail.outbox
    assert sorted(message.recipients()) == ["res1@example.org", "res2@example.org"]
    assert message.to == []  # blind copies: researchers do not see each other's address
    assert message.subject == f"Weekly bias report: {sim.name} {WEEK}"
    assert report.headline.split(":")[0] in message.body and "<" not in message.body
    assert f"https://tiebreak.example.org/p/{sim.slug}/reports/{WEEK}/" in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    # The stored document, its charts as inline attachments (cid:) instead of data: URIs.
    assert "data:image" not in html
    content_ids = re.findall(r'src="cid:([^"]+)"', html)
    assert len(content_ids) == report.html.count("data:image/png;base64,") >= 6
    assert re.sub(r'src="cid:[^"]+"', "", html) == re.sub(
        r'src="data:image/png;base64,[^"]+"', "", report.html
    )
    raw = message.message()
    assert raw.get_content_type() == "multipart/related"
    images = [part for part in raw.walk() if part.get_content_type() == "image/png"]
    assert sorted(part["Content-ID"] for part in images) == sorted(f"<{c}>" for c in content_ids)
    assert all(part.get_payload(decode=True).startswith(b"\x89PNG") for part in images)
    kinds = [part.get_content_type() for part in raw.walk()]
    assert "multipart/alternative" in kinds and "text/plain" in kinds and "text/html" in kinds
    report.refresh_from_db()
    assert report.emailed_at is not None


def test_no_researcher_address_means_no_email(sim):
    report = report_generate(project=sim, week=WEEK)
    assert report_email(report=report) == 0
    assert mail.outbox == []
    report.refresh_from_db()
    assert report.emailed_at is None


# --- command ------------------------------------------------------------------------------


def test_command_writes_stores_and_emails(sim, tmp_path, capsys):
    MembershipFactory(
        project=sim, user=UserFactory(username="r", email="r@example.org"), role=Role.RESEARCHER
    )
    target = tmp_path / "out" / "report.html"
    call_command("weekly_report", "sim", "--week", WEEK, "--output", str(target), "--email")
    out = capsys.readouterr().out
    report = Report.objects.get(project=sim, week=WEEK)
    assert target.read_text(encoding="utf-8") == report.html
    assert f"Report {WEEK} of 'sim'" in out and "Emailed to 1 researcher." in out
    assert report.headline in out
    assert len(mail.outbox) == 1 and report.emailed_at is not None


def test_command_defaults_to_the_last_completed_week(sim, capsys):
    call_command("weekly_report", "sim")
    week = last_completed_week(timezone.now(), ZONE)
    assert Report.objects.get(project=sim).week == week
    assert mail.outbox == []


def test_command_errors_name_the_problem(sim, tmp_path):
    with pytest.raises(CommandError, match=r"--week: '2026-47' is not an ISO week"):
        call_command("weekly_report", "sim", "--week", "2026-47")
    with pytest.raises(CommandError, match="No project with slug 'nope'"):
        call_command("weekly_report", "nope")
    with pytest.raises(CommandError, match="is a directory"):
        call_command("weekly_report", "sim", "--week", WEEK, "--output", str(tmp_path))
    assert not Report.objects.exists()


# --- schedule -----------------------------------------------------------------------------


def test_every_new_project_gets_its_schedule_in_its_time_zone(project):
    created = project_create(
        slug="fresh",
        name="Fresh",
        rubric_spec={"name": "r", "criteria": [{"key": "correctness", "kind": "compare"}]},
    )
    task = PeriodicTask.objects.get(name=report_schedule_name(created))
    assert task.task == SCHEDULE_TASK == "analysis.weekly_report"
    assert json.loads(task.kwargs) == {"project_id": created.pk} and json.loads(task.args) == []
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("0", "6", "1")
    assert (crontab.day_of_month, crontab.month_of_year) == ("*", "*")
    assert str(crontab.timezone) == "UTC" and task.enabled

    # Deleting the project deletes its schedule (it would fire every week for nothing).
    created.delete()
    assert not PeriodicTask.objects.filter(name=report_schedule_name(created)).exists()


def test_ensure_keeps_admin_edits_and_follows_the_time_zone(sim):
    task = report_schedule_ensure(project=sim)
    assert str(task.crontab.timezone) == ZONE
    assert report_schedule_ensure(project=sim).pk == task.pk
    assert PeriodicTask.objects.filter(name=report_schedule_name(sim)).count() == 1

    # An admin moves the report to Tuesday 07:30 and pauses it.
    edited = CrontabSchedule.objects.create(minute="30", hour="7", day_of_week="2", timezone=ZONE)
    task.crontab, task.enabled = edited, False
    task.save()
    report_schedule_ensure(project=sim)
    task.refresh_from_db()
    assert task.crontab_id == edited.pk and not task.enabled

    # The project moves to New York: same time of week, the new zone.
    sim.time_zone = "America/New_York"
    sim.save(update_fields=["time_zone"])
    report_schedule_ensure(project=sim)
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("30", "7", "2")
    assert str(task.crontab.timezone) == "America/New_York"
    edited.refresh_from_db()
    assert str(edited.timezone) == ZONE  # the shared row itself is not rewritten


def test_the_admin_save_moves_the_schedule(sim, admin_client):
    report_schedule_ensure(project=sim)
    page = admin_client.get(f"/admin/annotation/project/{sim.pk}/change/")
    assert page.status_code == 200 and 'name="time_zone"' in page.content.decode()
    data = {
        "name": sim.name,
        "slug": sim.slug,
        "rubric": sim.rubric_id,
        "overlap": sim.overlap,
        "reservation_minutes": sim.reservation_minutes,
        "time_zone": "Asia/Tokyo",
        "guidelines": sim.guidelines,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(f"/admin/annotation/project/{sim.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    task = PeriodicTask.objects.get(name=report_schedule_name(sim))
    assert str(task.crontab.timezone) == "Asia/Tokyo"


def test_the_migration_schedules_projects_that_existed_before(sim):
    PeriodicTask.objects.filter(name=report_schedule_name(sim)).delete()
    migration = importlib.import_module("analysis.migrations.0004_weekly_report_schedules")
    migration.schedule_existing_projects(django_apps, None)
    migration.schedule_existing_projects(django_apps, None)  # twice: no duplicate
    task = PeriodicTask.objects.get(name=report_schedule_name(sim))
    assert task.task == SCHEDULE_TASK and json.loads(task.kwargs) == {"project_id": sim.pk}
    assert str(task.crontab.timezone) == ZONE and task.crontab.hour == "6"


def test_the_scheduled_task_reports_the_last_completed_week_once(
    django_capture_on_commit_callbacks,
):
    # Judgments over the last three weeks, so that the last completed week has some.
    start = (timezone.now() - timedelta(days=21)).astimezone(UTC)
    project = simulated(
        django_capture_on_commit_callbacks,
        "live",
        start=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        days=21,
        comparisons=200,
    )
    MembershipFactory(
        project=project,
        user=UserFactory(username="lead", email="lead@example.org"),
        role=Role.RESEARCHER,
    )
    periodic = report_schedule_ensure(project=project)

    # What beat does: send the task by its registered name with the stored arguments.
    task = current_app.tasks[periodic.task]
    args, kwargs = json.loads(periodic.args or "[]"), json.loads(periodic.kwargs)
    outcome = task.apply(args=args, kwargs=kwargs).get()

    week = last_completed_week(timezone.now(), ZONE)
    report = Report.objects.get(project=project)
    assert report.week == week and report.status == JobStatus.SUCCEEDED
    assert report.n_judgments > 0 and report.emailed_at is not None
    assert outcome == f"live {week}: succeeded, emailed to 1"
    assert [m.recipients() for m in mail.outbox] == [["lead@example.org"]]

    # Delivered again (acks_late): nothing is regenerated or sent twice.
    finished = report.finished_at
    assert task.apply(args=args, kwargs=kwargs).get().endswith("already emailed")
    report.refresh_from_db()
    assert report.finished_at == finished and len(mail.outbox) == 1


def test_the_scheduled_task_of_a_deleted_project_does_nothing():
    task = current_app.tasks[SCHEDULE_TASK]
    assert "no longer exists" in task.apply(kwargs={"project_id": 987654}).get()


def test_report_of_a_week_in_progress_says_so(sim):
    now = datetime.now(UTC)
    week = last_completed_week(now + timedelta(days=7), ZONE)  # this week
    report = report_generate(project=sim, week=week)
    assert report.status == JobStatus.SUCCEEDED and report.result["in_progress"]
