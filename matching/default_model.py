"""kinlink's default m-probabilities: learned on a synthetic training set, not on yours.

Why: on caseloads of separated children, EM cannot tell "same child" from "same
family" (siblings share parents, village, separation date and, in name-chain cultures,
most of the name), so unsupervised m-probabilities are unreliable (measured in
docs/matching.md). The default models therefore carry m-probabilities counted on the
*labelled* pairs of a synthetic data set made with ``kinlink synth`` (a training seed,
never an evaluation seed). When ``link_records``/``dedupe_records`` train on your data
they keep those m and estimate the **prior and every u-probability on your data**
(``train_model(..., m_from=...)``). With reviewers' labels, ``train_model(...,
labels=...)`` re-estimates m from them; ``KINLINK_M_SOURCE=em`` forces plain EM.

Rebuild (deterministic; the command is recorded in the model files)::

    .venv/bin/python -m kinlink.matching.default_model --children 5000 --seed 101
"""

from __future__ import annotations

import argparse
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from kinlink.matching.model import KinlinkModel, load_model, save_model, train_model

_HERE = Path(__file__).parent
DEFAULT_M_FILES = {"link": _HERE / "default_m_link.json", "dedupe": _HERE / "default_m_dedupe.json"}
#: Synthetic training seed of the shipped files (keep it away from evaluation seeds).
TRAINING_SEED = 101


@lru_cache(maxsize=8)
def _load(path: str) -> KinlinkModel | None:
    p = Path(path)
    return load_model(p) if p.is_file() else None


def default_m_model(job: str) -> KinlinkModel | None:
    """The model whose m-probabilities ``job`` ("link"/"dedupe") starts from, or None (EM).

    ``KINLINK_M_SOURCE``: unset or ``default`` = the shipped files; ``em`` = none (EM on
    the data); a directory = its ``default_m_<job>.json`` (for experiments).
    """
    source = os.environ.get("KINLINK_M_SOURCE", "default")
    if source == "em":
        return None
    if source == "default":
        return _load(str(DEFAULT_M_FILES[job]))
    return _load(str(Path(source) / f"default_m_{job}.json"))


#: The default m are used only on data shaped like the data they were learned on:
#: records that name the child's relatives (where siblings confound EM). On other data
#: (FEBRL-like person registers with no relatives) EM on the data itself is better
#: (measured: FEBRL4 best F1 0.989 with EM vs 0.976 with the synthetic m).
MIN_RELATIVES_SHARE = 0.2


def m_source_for(prepared: Any, job: str) -> KinlinkModel | None:
    """The m-probability source for training on ``prepared``: the default model or None (EM)."""
    if "relatives_tokens" not in prepared.columns:
        return None
    if isinstance(prepared, pd.DataFrame):
        if len(prepared) == 0:
            return None
        share = float(prepared["relatives_tokens"].map(lambda t: len(t) > 0).mean())
    else:  # a Spark frame: the same share, computed where the data is
        row = prepared.selectExpr(
            "count(*) as n", "avg(case when size(relatives_tokens) > 0 then 1.0 else 0.0 end) as s"
        ).first()
        if not row["n"]:
            return None
        share = float(row["s"])
    return default_m_model(job) if share >= MIN_RELATIVES_SHARE else None


def m_source_auto(prepared: Any) -> KinlinkModel | None:
    """:func:`m_source_for` the job a mixed table is trained for.

    A table with tracing requests trains a model that will rank cases for them (the
    link m); a table of cases only, one for duplicates (the dedupe m). Used where one
    model serves both (``kinlink train``, the sweep, the review service), so that they
    start from the same m as ``kinlink link``/``dedupe`` instead of EM, which confuses
    siblings with the same child.
    """
    if "record_type" not in prepared.columns:
        return m_source_for(prepared, "dedupe")
    if isinstance(prepared, pd.DataFrame):
        has_requests = bool((prepared["record_type"] == "tracing_request").any())
    else:  # a Spark frame
        has_requests = prepared.filter("record_type = 'tracing_request'").limit(1).count() > 0
    return m_source_for(prepared, "link" if has_requests else "dedupe")


def build_default_models(children: int, seed: int, out_dir: Path) -> dict[str, Path]:
    """Train label-counted m on a synthetic set and write ``default_m_{link,dedupe}.json``."""
    from kinlink.datasets.synthetic import generate
    from kinlink.matching.prepare import prepare_records

    records, truth = generate(seed=seed, children=children)
    labels = pd.Series(truth["child_id"].to_numpy(), index=truth["record_id"].astype(str))
    out: dict[str, Path] = {}
    for job in ("link", "dedupe"):
        frame = records if job == "link" else records[records["record_type"] == "case"]
        prepared = prepare_records(frame)
        model = train_model(prepared, labels=labels)
        model.metadata.update(
            {
                "m_source": f"labels:synthetic seed {seed}, {children} children, {job}",
                "command": (
                    f"python -m kinlink.matching.default_model --children {children} --seed {seed}"
                ),
            }
        )
        path = out_dir / f"default_m_{job}.json"
        save_model(model, path)
        out[job] = path
    _load.cache_clear()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=TRAINING_SEED)
    parser.add_argument("--out", type=Path, default=_HERE)
    args = parser.parse_args()
    for job, path in build_default_models(args.children, args.seed, args.out).items():
        print(f"{job}: {path}")


if __name__ == "__main__":
    main()
