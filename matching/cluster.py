"""Duplicate cases: score case-case pairs, then cluster at a threshold.

Clusters are not plain connected components: one strong pair per link is enough to
chain "Amina 2015, Goma" to "Amina 2015, Beni" to "Amani 2015, Beni", and a component
of different children lands in a reviewer's queue as if it were one child. Clusters
grow greedily, strongest pair first (the sweep's
:func:`kinlink.matching.sweep.clusters.build_clusters`), with these safeguards:

* two groups of which one already has two or more members join only when the mean
  probability over *all* their cross pairs (a pair never scored counts as 0) reaches
  ``CLUSTER_JOIN_MEAN``;
* two records with clearly different given names (no given-name form or phonetic key
  in common) and non-overlapping birth intervals never end in one cluster (a
  cannot-link between them, whatever pairs would join them);
* no automatic join makes a cluster bigger than ``DEFAULT_MAX_SIZE`` records.

Every case appears in exactly one cluster; a case with no duplicate is its own cluster.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from kinlink.blocking.rules import MAX_BLOCK_SIZE
from kinlink.matching.engine import Engine
from kinlink.matching.model import KinlinkModel, data_fingerprint, train_model
from kinlink.matching.predict import Session
from kinlink.matching.prepare import prepare_records

#: Default match-probability threshold for calling two cases duplicates.
#:
#: Chosen from what the probabilities mean, not as a round number: they are
#: over-confident for children of one family (relatives, place, separation date and
#: the rest of the name all agree for siblings and cousins, and the model counts them
#: as independent evidence). On labelled synthetic data the share of true duplicates
#: among pairs scored 0.90-0.95 is 0.22 (5,000 children, seed 3) and 0.09 (20,000,
#: seed 11); it reaches one half at about 0.97 at 5,000 (0.995 at 20,000, more
#: look-alikes). 0.97 is where, at the smaller scale, a pair above the threshold is
#: more likely a duplicate than not; with the chain safeguards below, cluster F1 is
#: flat from 0.97 to 0.99 at 20,000 and drops above 0.97 at 5,000 (docs/matching.md).
DEFAULT_THRESHOLD = 0.97
#: Pairs below this probability are not written out at all.
MIN_PAIR_PROBABILITY = 0.01
#: Mean cross-pair probability needed to join two groups when one has >= 2 members.
CLUSTER_JOIN_MEAN = 0.7
#: No automatic join makes a cluster bigger than this.
DEFAULT_MAX_SIZE = 50
#: The cannot-link check compares every two records of a component of strong pairs;
#: bigger components (a very low threshold) skip it (the mean and size checks remain).
CANNOT_LINK_MAX_COMPONENT = 2000

PAIR_COLUMNS = ["record_id_l", "record_id_r", "match_probability", "match_weight"]
#: The prepared columns clustering reads (the cannot-link check).
CANNOT_LINK_COLUMNS = ("record_id", "given", "given_keys", "by_lo", "by_hi")


def dedupe_records(
    frame: pd.DataFrame,
    threshold: float | None = None,
    model: KinlinkModel | None = None,
    *,
    min_probability: float = MIN_PAIR_PROBABILITY,
    max_block_size: int = MAX_BLOCK_SIZE,
    engine: Engine | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Duplicate pairs among the cases of ``frame``, and clusters at ``threshold``.

    Tracing requests in ``frame`` are ignored (they describe a child, they are not one
    registration of it). Returns ``(pairs, clusters)``.
    """
    threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    engine = engine or Engine()
    cases = (
        frame[frame["record_type"].fillna("case") == "case"] if "record_type" in frame else frame
    )
    prepared = prepare_records(cases, progress=progress)
    if model is None:
        from kinlink.matching.default_model import m_source_for

        model = train_model(
            prepared,
            engine=engine,
            m_from=m_source_for(prepared, "dedupe"),
            fingerprint=data_fingerprint(cases),
        )
    session = Session.open(prepared, model, engine)
    del cases
    prepared = prepared[list(CANNOT_LINK_COLUMNS)]  # the rest is the engine's now
    parts = list(
        session.score_in_parts(
            "dedupe",
            threshold_match_probability=min(min_probability, threshold),
            columns=PAIR_COLUMNS,
            max_block_size=max_block_size,
            progress=progress,
        )
    )
    pairs = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=PAIR_COLUMNS)
    pairs = pairs.sort_values("match_weight", ascending=False).reset_index(drop=True)
    clusters = cluster_pairs(pairs, prepared, threshold)
    return pairs, clusters


def cluster_pairs(
    pairs: pd.DataFrame,
    prepared: pd.DataFrame,
    threshold: float,
    *,
    join_mean: float = CLUSTER_JOIN_MEAN,
    max_size: int = DEFAULT_MAX_SIZE,
) -> pd.DataFrame:
    """``record_id, cluster_id`` for every record of ``prepared`` (see the module doc)."""
    from kinlink.matching.sweep.clusters import build_clusters, ordered

    ids = prepared["record_id"].tolist()
    scores: dict[Any, float] = {}
    for a, b, p in zip(
        pairs["record_id_l"], pairs["record_id_r"], pairs["match_probability"], strict=True
    ):
        key = ordered(a, b)
        scores[key] = max(float(p), scores.get(key, 0.0))
    strong = [pair for pair, p in scores.items() if p >= threshold]
    cannot = _cannot_link(strong, prepared)
    groups, _ = build_clusters(
        scores, threshold=threshold, not_match=cannot, join_mean=join_mean, max_size=max_size
    )
    cluster_of: dict[Any, Any] = {}
    for group in groups:
        first = min(group)
        for record in group:
            cluster_of[record] = first
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": [cluster_of.get(r, r) for r in ids]})
    return clusters.sort_values(["cluster_id", "record_id"]).reset_index(drop=True)


def _components(pairs: Iterable[tuple[Any, Any]]) -> list[list[Any]]:
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    out: dict[Any, list[Any]] = {}
    for x in list(parent):
        out.setdefault(find(x), []).append(x)
    return list(out.values())


def _cannot_link(strong: Iterable[tuple[Any, Any]], prepared: pd.DataFrame) -> list[tuple]:
    """Record pairs that may never share a cluster, among those the strong pairs connect.

    Clearly different given names (no canonical form and no phonetic key in common,
    both known) *and* birth intervals that do not overlap (both known): two children.
    """
    info: Mapping[Any, tuple[frozenset, frozenset, Any, Any]] = {
        r: (frozenset(g), frozenset(k), lo, hi)
        for r, g, k, lo, hi in zip(
            prepared["record_id"],
            prepared["given"],
            prepared["given_keys"],
            prepared["by_lo"],
            prepared["by_hi"],
            strict=True,
        )
    }
    out = []
    for members in _components(strong):
        if len(members) < 3 or len(members) > CANNOT_LINK_MAX_COMPONENT:
            continue  # a lone strong pair is the model's call, not a chain
        for a, b in itertools.combinations(sorted(members), 2):
            if _clearly_two_children(info[a], info[b]):
                out.append((a, b))
    return out


def _clearly_two_children(x: tuple, y: tuple) -> bool:
    given_x, keys_x, lo_x, hi_x = x
    given_y, keys_y, lo_y, hi_y = y
    if not given_x or not given_y or given_x & given_y or keys_x & keys_y:
        return False
    if any(pd.isna(v) for v in (lo_x, hi_x, lo_y, hi_y)):
        return False
    return bool(hi_x < lo_y or hi_y < lo_x)
