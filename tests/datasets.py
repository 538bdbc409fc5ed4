"""The public data sets in ``../shared/datasets`` (beside the checkout, as in CI)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from annotation.services.imports.pandalm import split_cmp_key

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
HH_RLHF = DATASETS / "hh-rlhf-harmless-base-test.jsonl.gz"
PANDALM = DATASETS / "pandalm-testset-v1.json"
PANDALM_MODELS = {"bloom-7b", "cerebras-gpt-6.7B", "llama-7b", "opt-7b", "pythia-6.9b"}

_OUTCOME_OF_LABEL = {0: "tie", 1: "a", 2: "b"}


def pandalm_frame() -> pd.DataFrame:
    """PandaLM's three annotators as a judgment frame (one row per judgment), with the
    word counts of both responses as the one style feature."""
    rows = []
    for item in json.loads(PANDALM.read_text(encoding="utf-8")):
        model_a, model_b = split_cmp_key(item["cmp_key"])
        for annotator in ("annotator1", "annotator2", "annotator3"):
            rows.append(
                {
                    "outcome": _OUTCOME_OF_LABEL[item[annotator]],
                    "left": "a",
                    "annotator": annotator,
                    "comparison": str(item["idx"]),
                    "model_a": model_a,
                    "model_b": model_b,
                    "a.length.words": float(len(str(item["response1"]).split())),
                    "b.length.words": float(len(str(item["response2"]).split())),
                }
            )
    return pd.DataFrame(rows)
