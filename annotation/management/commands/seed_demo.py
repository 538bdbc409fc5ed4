"""Seed the demo: a project to annotate and a simulated campaign with an analysis and a
weekly report to read.

Idempotent: running it again leaves existing projects alone, resets the two demo
passwords, and only adds what is missing (the analysis run, the weekly report of the last
completed week, the report schedules).
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from annotation.models import Project, Role
from annotation.services.projects import member_add

ANNOTATOR = ("annotator", "annotate-demo-1")
RESEARCHER = ("researcher", "research-demo-1")

DEMO_SLUG = "demo"
SIM_SLUG = "demo-sim"
# The simulated judgments end now and span this many days, so the weekly report of the
# last completed week has a trend of several weeks behind it.
SIM_DAYS = 35

GUIDELINES = """\
# How to judge

You will see a **prompt** and two **responses**. Read both fully before answering.

1. **Correctness**: which response is more factually accurate? Answer *tie* if both are
   equally right (or equally wrong).
2. **Completeness**: which response covers more of what the user actually needs?
3. **Clarity**: rate each response from 1 (confusing) to 5 (very clear).
4. **Overall**: pick the better response. Answer *tie* only when they are equally good.

Judge the *substance*. Friendliness, emojis, flattery ("Great question!"), agreeing with the
user and formatting are **not** criteria: a polite wrong answer is still wrong.

Keyboard: `1`/`2`/`3` Response 1 / Response 2 / Tie, `q`/`w`/`e` strength, `Enter` submit,
`Shift+S` skip, `?` all shortcuts.
"""


class Command(BaseCommand):
    help = (
        "Create the demo data (idempotent): project 'demo' with 30 pairs to annotate "
        "(overlap 2), project 'demo-sim' with a simulated campaign (600 pairs, 12 annotators, "
        "seed 1, judged over the last 35 days), its features, one analysis run and the weekly "
        "report of the last completed week, and the logins 'annotator' and 'researcher'."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sim-comparisons",
            type=int,
            default=600,
            help="Comparisons in the simulated campaign (default 600).",
        )

    def handle(self, *args, sim_comparisons: int, **options):
        # Imported here: analysis builds on annotation, not the other way round.
        from analysis.models import JobStatus
        from analysis.services.runs import analysis_run_now
        from analysis.services.simulate import simulated_project_create
        from analysis.services.weekly_reports import report_generate
        from analysis.simulation import SimulationParams
        from analysis.weekly.weeks import last_completed_week

        if not Project.objects.filter(slug=DEMO_SLUG).exists():
            # One transaction: an interrupted seed leaves no half-made project behind, and
            # feature extraction starts when it commits.
            with transaction.atomic():
                simulated_project_create(
                    slug=DEMO_SLUG,
                    name="Demo: helpfulness",
                    comparisons=30,
                    annotators=3,
                    seed=7,
                    with_judgments=False,
                    overlap=2,
                    guidelines=GUIDELINES,
                )
            self.stdout.write(f"Created project {DEMO_SLUG!r}: 30 pairs to annotate.")
        if not Project.objects.filter(slug=SIM_SLUG).exists():
            start = timezone.now() - timedelta(days=SIM_DAYS)
            with transaction.atomic():
                simulated_project_create(
                    slug=SIM_SLUG,
                    name="Demo: simulated campaign",
                    comparisons=sim_comparisons,
                    annotators=12,
                    seed=1,
                    params=SimulationParams(
                        start=start.strftime("%Y-%m-%dT%H:%M:%SZ"), days=SIM_DAYS
                    ),
                )
            self.stdout.write(
                f"Created project {SIM_SLUG!r}: {sim_comparisons} simulated pairs with judgments."
            )

        member_add(
            slug=DEMO_SLUG, username=ANNOTATOR[0], role=Role.ANNOTATOR, password=ANNOTATOR[1]
        )
        for slug in (DEMO_SLUG, SIM_SLUG):
            researcher, _ = member_add(
                slug=slug, username=RESEARCHER[0], role=Role.RESEARCHER, password=RESEARCHER[1]
            )

        sim = Project.objects.get(slug=SIM_SLUG)
        if not sim.analysis_runs.filter(status=JobStatus.SUCCEEDED).exists():
            # "compute": with a real broker the feature job may still be running. No
            # features: the default analysis set (TIEBREAK_ANALYSIS_FEATURES).
            run = analysis_run_now(
                project=sim, user=researcher.user, params={"missing_features": "compute"}
            )
            if run.status == JobStatus.SUCCEEDED:
                self.stdout.write(f"Analysed {SIM_SLUG!r} (run {run.pk}).")
            else:
                self.stderr.write(f"The demo analysis failed: {run.error}")

        week = last_completed_week(timezone.now(), sim.time_zone)
        if not sim.reports.filter(week=week, status=JobStatus.SUCCEEDED).exists():
            report = report_generate(project=sim, week=week)
            if report.status == JobStatus.SUCCEEDED:
                self.stdout.write(f"Weekly report {week} of {SIM_SLUG!r}: {report.headline}")
            else:
                self.stderr.write(f"The demo weekly report failed: {report.error}")

        base = f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo ready. Log in at "
                f"{base}/accounts/login/\n"
                f"  annotator:  username {ANNOTATOR[0]!r}  password {ANNOTATOR[1]!r}\n"
                f"              annotate at {base}/p/{DEMO_SLUG}/annotate/\n"
                f"  researcher: username {RESEARCHER[0]!r}  password {RESEARCHER[1]!r}\n"
                f"              analysis at {base}/p/{SIM_SLUG}/analysis/ "
                f"(dashboard {base}/p/{DEMO_SLUG}/dashboard/)\n"
                f"              weekly report {base}/p/{SIM_SLUG}/reports/{week}/ "
                f"(all reports {base}/p/{SIM_SLUG}/reports/)\n"
                f"              exports (judgments, preferences, DPO) {base}/p/{SIM_SLUG}/exports/"
            )
        )
