"""Create a project from a simulated campaign with planted style effects, and print the truth."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analysis.selectors import feature_progress
from analysis.services.simulate import implied_tiebreak_shares, simulated_project_create
from analysis.simulation import SimulationParams
from annotation.services.imports import ImportFailed

#: Command-line options for the fields of ``SimulationParams`` (``models`` is not exposed:
#: the five built-in fake models are used). (field, type, metavar, help).
PARAM_OPTIONS: list[tuple[str, type, str, str]] = [
    ("overlap", int, "N", "distinct annotators judging each comparison (default 3)"),
    (
        "rubric_tie_share",
        float,
        "P",
        "share of comparisons whose two responses are truly equal on every criterion (0.4)",
    ),
    (
        "criterion_noise",
        float,
        "P",
        "probability that an annotator misreads one criterion (0.05)",
    ),
    (
        "criterion_weights",
        float,
        "W",
        "weights of correctness, completeness and each clarity point in the overall verdict "
        "(three numbers; 2 1 0.5)",
    ),
    (
        "winner_error",
        float,
        "P",
        "probability of picking the rubric loser when the rubric answers are decided (0.05)",
    ),
    (
        "tie_answer_rate",
        float,
        "P",
        "probability of answering 'tie' overall when the rubric answers tie (0.25)",
    ),
    (
        "tie_break_flattery",
        float,
        "P",
        "THE PLANTED STYLE EFFECT: probability that an average annotator breaks a rubric tie "
        "toward the more sycophantic response (more flattery phrases + agreeing with the "
        "prompt's stance); 0.5 = no effect (0.75)",
    ),
    (
        "multiplier_sigma",
        float,
        "S",
        "log-scale spread of ordinary annotators' sensitivity multipliers (0.2)",
    ),
    (
        "swayed_annotators",
        int,
        "N",
        "number of annotators who are much more swayed by style (2)",
    ),
    (
        "swayed_multiplier",
        float,
        "M",
        "their multiplier: tie-break probability 0.5 + M * (tie_break_flattery - 0.5) (1.9)",
    ),
    (
        "left_bias",
        float,
        "P",
        "probability that a non-tie choice is replaced by the left response; the left share "
        "of non-tie choices is 0.5 + P/2 (0.05)",
    ),
    (
        "workload_sigma",
        float,
        "S",
        "log-scale spread of how many judgments each annotator makes (0.5)",
    ),
    ("stance_share", float, "P", "share of prompts that state an opinion (0.4)"),
    (
        "conversation_share",
        float,
        "P",
        "share of prompts given as a multi-turn conversation (0.1)",
    ),
    ("days", float, "D", "judgments are spread over this many days (28)"),
    ("start", str, "ISO", "timestamp of the campaign's start (2026-11-02T09:00:00Z)"),
]


class Command(BaseCommand):
    help = (
        "Create project SLUG from a simulated annotation campaign (analysis.simulation) whose "
        "annotators break rubric ties toward flattering / agreeing responses with a known, "
        "planted probability. The records go through the normal import, so features are "
        "extracted as for real data. Prints the planted truth the analysis should recover."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Slug of the new project.")
        parser.add_argument("--comparisons", type=int, required=True, help="Number of pairs.")
        parser.add_argument(
            "--annotators", type=int, required=True, help="Number of simulated annotators."
        )
        parser.add_argument("--seed", type=int, required=True, help="Random seed.")
        parser.add_argument("--name", default="", help="Project name (default from the slug).")
        parser.add_argument(
            "--truth", help="Also write the full planted truth (JSON) to this file."
        )
        group = parser.add_argument_group("planted behaviour (SimulationParams)")
        for name, kind, metavar, text in PARAM_OPTIONS:
            option = "--" + name.replace("_", "-")
            if name == "criterion_weights":
                group.add_argument(option, type=float, nargs=3, metavar=metavar, help=text)
            else:
                group.add_argument(option, type=kind, metavar=metavar, help=text)

    def handle(self, *args, slug, comparisons, annotators, seed, name, truth, **options):
        overrides = {
            field.name: options[field.name]
            for field in fields(SimulationParams)
            if options.get(field.name) is not None
        }
        if "criterion_weights" in overrides:
            overrides["criterion_weights"] = tuple(overrides["criterion_weights"])
        params = SimulationParams(**overrides)
        if comparisons < 1:
            raise CommandError("--comparisons must be at least 1.")
        try:
            simulated = simulated_project_create(
                slug=slug,
                comparisons=comparisons,
                annotators=annotators,
                seed=seed,
                params=params,
                name=name or None,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except ImportFailed as exc:
            raise CommandError(f"The import rejected the simulated records: {exc}") from exc

        campaign, imported = simulated.campaign, simulated.imported
        out = self.stdout
        out.write(
            self.style.SUCCESS(
                f"Project {slug!r}: {imported.n_comparisons_created} comparisons, "
                f"{imported.n_judgments_created} judgments by {annotators} simulated annotators "
                f"(seed {seed})."
            )
        )
        progress = feature_progress(project=simulated.project)
        if progress is not None:
            out.write(
                f"Style features: {progress['status']} ({progress['done']}/{progress['total']} "
                "responses)."
            )
        self._print_truth(campaign, params)
        if truth:
            path = Path(truth)
            try:
                path.write_text(json.dumps(campaign.truth, indent=1), encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from exc
            out.write(f"Full truth written to {path}.")
        out.write(f"Analyse it with: python manage.py analyze {slug} --output {slug}.json")

    def _print_truth(self, campaign, params: SimulationParams) -> None:
        out = self.stdout
        out.write("\nPlanted truth")
        out.write(
            f"  tie-break toward the more sycophantic response: p = {params.tie_break_flattery} "
            "for an average annotator (0.5 = no style effect); style decides only rubric ties."
        )
        out.write(
            "  emojis, length and markdown: no planted effect (any effect found is confounding"
            " or noise)."
        )
        implied = implied_tiebreak_shares(campaign)
        for feature in ("flattery", "agreement", "sycophancy"):
            entry = implied[feature]
            share = entry["expected_share"]
            out.write(
                f"  expected model-free tie-break share, {feature:<10}: "
                f"{'–' if share is None else f'{share:.3f}'} over n = {entry['n']} rubric-tied "
                "non-tie judgments where it differs"
            )
        out.write(
            f"  left-position bias: {params.left_bias} -> expected share of non-tie choices won "
            f"by the left response {implied['position']['expected_share']:.3f}"
        )
        counts: dict[str, int] = {}
        for record in campaign.records:
            for judgment in record.get("judgments", []):
                counts[judgment["annotator"]] = counts.get(judgment["annotator"], 0) + 1
        out.write("  annotators (multiplier, tie-break probability, judgments):")
        panel = campaign.truth["annotators"]
        for annotator in sorted(panel, key=lambda a: -panel[a]["multiplier"]):
            info = panel[annotator]
            flag = "  <- swayed" if info["swayed"] else ""
            out.write(
                f"    {annotator}  m={info['multiplier']:.2f}  "
                f"p={info['tie_break_probability']:.3f}  n={counts.get(annotator, 0)}{flag}"
            )
