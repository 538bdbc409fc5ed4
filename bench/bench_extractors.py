"""Benchmark the style feature extractors on synthetic, realistic responses.

Run from the repository root::

    python bench/bench_extractors.py            # 200,000 responses
    python bench/bench_extractors.py --n 20000  # quicker

Prints, on one core: responses per second for the full feature set (``extract``), the
cost of each extractor per response, the emoji extractor against a plain
``emoji.emoji_count`` loop on the same texts (asserting equal counts), and peak memory.
Times are CPU time of this process (``time.process_time``), so other work on the
machine inflates them less than wall-clock time would; on a busy machine they are still
pessimistic, so the best of ``--repeat`` passes is reported.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import emoji  # noqa: E402

from analysis.features import (  # noqa: E402
    DEFAULT_EXTRACTORS,
    Registry,
    _text,
    load_registry,
    normalize_prompt,
)
from analysis.features.agreement import user_states_position  # noqa: E402
from analysis.features.emojis import count_emojis  # noqa: E402
from bench.corpus import realistic_comparison  # noqa: E402

TARGET_PER_SECOND = 20_000


def clear_caches() -> None:
    """Forget the shared per-text views, so every pass pays for them like new data does."""
    for cached in (_text.word_count, _text.strip_code, _text.own_voice, _text.vocabulary):
        cached.cache_clear()
    user_states_position.cache_clear()


def best_cpu_seconds(run, repeat: int) -> float:
    """Return the smallest CPU time of ``repeat`` calls of ``run`` (caches cleared each time)."""
    best = float("inf")
    for _ in range(repeat):
        clear_caches()
        gc.collect()
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="responses (default 200,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is reported")
    parser.add_argument(
        "--emoji-n",
        type=int,
        default=20_000,
        help="responses for the emoji.emoji_count comparison (it is ~100x slower)",
    )
    args = parser.parse_args(argv)

    print(
        f"machine: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} (other processes slow every figure below)"
    )
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    # Responses come in comparisons: two answers to the same prompt, as tiebreak stores
    # them (the prompt's parsed stance is cached and shared by both).
    items = []
    for _ in range((args.n + 1) // 2):
        prompt, a, b = realistic_comparison(rng)
        items += [(a, prompt), (b, prompt)]
    items = items[: args.n]
    texts = [text for text, _ in items]
    lengths = [len(t) for t in texts]
    print(
        f"corpus: {args.n:,} responses to {(args.n + 1) // 2:,} prompts (seed {args.seed}), "
        "generated in "
        f"{time.perf_counter() - t0:.1f} s; chars mean {statistics.mean(lengths):,.0f}, "
        f"median {statistics.median(lengths):,.0f}; "
        f"{sum(not t.isascii() for t in texts) / args.n:.0%} non-ASCII"
    )

    registry = load_registry(DEFAULT_EXTRACTORS)
    extract = registry.extract
    for text, prompt in items[:200]:  # build lazy tables (emoji) outside the timing
        extract(text, prompt)

    # ---- full feature set, as callers use it
    def run_full() -> None:
        for text, prompt in items:
            extract(text, prompt)

    full = best_cpu_seconds(run_full, args.repeat)
    rate = args.n / full
    verdict = "meets" if rate >= TARGET_PER_SECOND else "BELOW"
    print(
        f"\nfull set ({len(registry)} extractors, {len(registry.feature_keys())} features): "
        f"{rate:,.0f} responses/s on one core, {full / args.n * 1e6:.1f} µs/response "
        f"({verdict} the {TARGET_PER_SECOND:,}/s target)"
    )

    # ---- per extractor. "alone": the extractor by itself, including the shared text
    # views it needs (code-stripped and lower-cased voice, word set, word count).
    # "marginal": what adding it to the extractors before it costs, i.e. its share of
    # extract() with the shared views charged to the first extractor that needs them.
    messages = [normalize_prompt(prompt) for _, prompt in items]
    pairs = list(zip(texts, messages, strict=True))
    print("\nper extractor (µs/response):     alone   marginal")
    previous = 0.0
    for k, extractor in enumerate(registry, start=1):
        func = extractor.func

        def run_one(func=func) -> None:
            for text, msgs in pairs:
                func(text, msgs)

        prefix = Registry(registry.extractors[:k]).extract

        def run_prefix(prefix=prefix) -> None:
            for text, prompt in items:
                prefix(text, prompt)

        alone = best_cpu_seconds(run_one, args.repeat)
        cumulative = best_cpu_seconds(run_prefix, args.repeat)
        print(
            f"  {extractor.name:<12} v{extractor.version}   {alone / args.n * 1e6:7.1f}   "
            f"{(cumulative - previous) / args.n * 1e6:7.1f}"
        )
        previous = cumulative

    # ---- emoji: ours against the emoji package
    sample = texts[: args.emoji_n]
    ours = [count_emojis(t) for t in sample]
    theirs = [emoji.emoji_count(t) for t in sample]
    mismatches = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    assert not mismatches, f"emoji counts differ on {len(mismatches)} texts, e.g. #{mismatches[0]}"
    fast = best_cpu_seconds(lambda: [count_emojis(t) for t in sample], args.repeat)
    slow = best_cpu_seconds(lambda: [emoji.emoji_count(t) for t in sample], 1)
    with_emoji = sum(1 for n in ours if n)
    print(
        f"\nemojis on {len(sample):,} responses ({with_emoji:,} with emoji, {sum(ours):,} emoji): "
        f"counts identical to emoji.emoji_count; {fast / len(sample) * 1e6:.1f} µs vs "
        f"{slow / len(sample) * 1e6:.1f} µs per response, {slow / fast:,.0f}x faster"
    )

    # ---- memory
    tracemalloc.start()
    clear_caches()
    for text, prompt in items[:20_000]:
        extract(text, prompt)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nmemory: extraction itself peaks at {peak / 1e6:.2f} MB above its inputs "
        f"(tracemalloc, 20,000 responses); process max RSS {max_rss:,.0f} MB "
        f"(including the corpus held in memory)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
