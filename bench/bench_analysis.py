"""Benchmark: the full bias analysis on a large simulated judgment frame.

    .venv/bin/python bench/bench_analysis.py --n 1000000

Builds an ``--n``-judgment frame with the frame-level simulator (20 style features, 5
rubric criteria, 200 annotators, 4 models, 3 annotators per comparison), then times the
main model alone and ``analyze`` end to end, printing a per-section table and the
process's peak memory (targets: analyze < 60 s, main model < 10 s, peak < 4 GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analysis.stats.analyze import analyze  # noqa: E402 -- after the path setup above
from analysis.stats.main_model import fit_main_model  # noqa: E402
from analysis.stats.synthetic import simulate_frame  # noqa: E402

STYLE = {
    "flattery": 0.35,
    "emojis": 0.15,
    "agreement": 0.25,
    "length.words": 0.3,
    "length.chars": 0.0,
    "markdown.headers": 0.05,
    "markdown.bold": 0.05,
    "markdown.lists": 0.1,
    "markdown.code": 0.0,
    "markdown.tables": 0.0,
    "exclamations": 0.05,
    "hedges": -0.1,
    "apologies": -0.05,
    "confidence": 0.15,
    "questions": 0.0,
    "links": 0.0,
    "share.uppercase": 0.0,
    "paragraphs": 0.05,
    "sentences": 0.0,
    "praise_user": 0.2,
}
RUBRIC = {
    "correctness": 1.0,
    "helpfulness": 0.6,
    "harmlessness": 0.3,
    "clarity": 0.3,
    "completeness": 0.2,
}


def peak_memory_mb() -> float:
    """Return the process's peak resident set size in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="judgments (default 1M)")
    parser.add_argument("--annotators", type=int, default=200)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the analysis JSON here")
    args = parser.parse_args()

    started = time.perf_counter()
    frame, _ = simulate_frame(
        n_comparisons=args.n // args.overlap,
        n_annotators=args.annotators,
        overlap=args.overlap,
        beta_style=STYLE,
        beta_rubric=RUBRIC,
        annotator_sd=0.3,
        seed=args.seed,
    )
    built = time.perf_counter() - started
    print(
        f"frame: {len(frame):,} judgments, {len(STYLE)} features, {len(RUBRIC)} criteria, "
        f"{args.annotators} annotators; built in {built:.1f} s; "
        f"{frame.memory_usage(deep=True).sum() / 1e6:,.0f} MB"
    )

    started = time.perf_counter()
    fit_main_model(frame)
    main_seconds = time.perf_counter() - started
    print(f"main model alone: {main_seconds:.1f} s (target < 10 s)")

    started = time.perf_counter()
    result = analyze(frame, project="bench")
    payload = json.dumps(result.to_dict(), allow_nan=False)
    total = time.perf_counter() - started
    if args.json:
        args.json.write_text(payload)

    print(f"\n{'section':<14} {'seconds':>8}")
    for name, seconds in result.timings.items():
        print(f"{name:<14} {seconds:>8.2f}")
    print(f"{'analyze total':<14} {total:>8.2f}   (target < 60 s, includes to_dict + json)")
    print(f"\npeak memory: {peak_memory_mb():,.0f} MB (target < 4,096 MB)")
    for warning in result.warnings:
        print(f"warning: {warning}")


if __name__ == "__main__":
    main()
