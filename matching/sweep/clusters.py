"""Clusters of duplicate registrations, and ids that stay put from one night to the next.

Pure functions (no database): :func:`build_clusters` turns scored duplicate pairs
and reviewers' decisions into groups; :func:`assign_ids` names the groups so that a
reviewer who was working on cluster 412 yesterday finds it as cluster 412 today.

Why not plain connected components: one strong pair per link is enough to chain
"Amina 2015, Goma" to "Amina 2015, Beni" to "Amani 2015, Beni", and a component of
children who are not one child lands in a reviewer's queue as if it were one. So
clusters grow greedily, strongest pair first, with three safeguards:

* **cannot-link**: two groups are never joined when any pair across them was marked
  ``not_match`` by a reviewer (and has not changed materially since);
* **cluster-level check**: joining two groups when either already has two or more
  members needs the *average* probability over every cross pair (a pair never
  scored counts as 0) to reach ``join_mean``; a chain a-b-c whose ends do not
  match averages below it and stays two groups;
* **size cap**: no automatic join past ``max_size`` records.

A pair a reviewer confirmed (``match``) always joins, after the engine's pairs, so it
can bring together two groups the checks kept apart; only cannot-link stops it, and
that conflict is counted in :class:`ClusterStats` for a supervisor to resolve.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Average cross-pair probability needed to join two groups when one has >= 2 members.
DEFAULT_JOIN_MEAN = 0.7
#: No automatic join makes a cluster bigger than this.
DEFAULT_MAX_SIZE = 50

Pair = tuple[int, int]


def ordered(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


@dataclass
class ClusterStats:
    """What the safeguards did, for the sweep report."""

    edges: int = 0
    joins: int = 0
    refused_not_match: int = 0
    refused_chain: int = 0
    refused_size: int = 0
    #: Confirmed matches that could not be honoured because of a not_match across them.
    conflicts: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Groups:
    """Union-find that also keeps each root's members (needed for the cluster checks)."""

    parent: dict[int, int] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)

    def find(self, x: int) -> int:
        if x not in self.parent:
            self.parent[x] = x
            self.members[x] = [x]
            return x
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, ra: int, rb: int) -> None:
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))


def build_clusters(
    scores: Mapping[Pair, float],
    *,
    threshold: float,
    confirmed: Iterable[Pair] = (),
    not_match: Iterable[Pair] = (),
    join_mean: float = DEFAULT_JOIN_MEAN,
    max_size: int = DEFAULT_MAX_SIZE,
) -> tuple[list[frozenset[int]], ClusterStats]:
    """Groups of two or more records, from scored pairs and reviewers' decisions.

    ``scores`` maps ordered pairs ``(lo, hi)`` to match probability (every scored
    duplicate pair, not only those above the threshold: the cluster-level check
    reads the weak ones too). Returns the groups (sorted by smallest member) and
    what the safeguards refused. Deterministic: the same input gives the same groups.
    """
    confirmed_set = {ordered(*p) for p in confirmed}
    rejected = {ordered(*p) for p in not_match} - confirmed_set
    cannot: dict[int, set[int]] = {}
    for a, b in rejected:
        cannot.setdefault(a, set()).add(b)
        cannot.setdefault(b, set()).add(a)

    def prob(pair: Pair) -> float:
        if pair in confirmed_set:
            return 1.0
        if pair in rejected:
            return 0.0
        return scores.get(pair, 0.0)

    # The engine's pairs first (strongest first, with the safeguards), then every
    # confirmed pair: a confirmation can bring two groups together that the checks
    # kept apart, since a person looked at it.
    edges = sorted(
        (
            (s, False, p)
            for p, s in scores.items()
            if s >= threshold and p not in rejected and p not in confirmed_set
        ),
        key=lambda e: (-e[0], e[2]),
    )
    edges += [(1.0, True, p) for p in sorted(confirmed_set)]
    stats = ClusterStats(edges=len(edges))
    groups = _Groups()
    for _, is_confirmed, (a, b) in edges:
        ra, rb = groups.find(a), groups.find(b)
        if ra == rb:
            continue
        left, right = groups.members[ra], groups.members[rb]
        if _conflict(left, right, cannot):
            stats.refused_not_match += 1
            stats.conflicts += int(is_confirmed)
            continue
        if not is_confirmed:
            if len(left) + len(right) > max_size:
                stats.refused_size += 1
                continue
            if len(left) > 1 or len(right) > 1:
                total = sum(prob(ordered(x, y)) for x in left for y in right)
                if total / (len(left) * len(right)) < join_mean:
                    stats.refused_chain += 1
                    continue
        groups.union(ra, rb)
        stats.joins += 1
    clusters = [frozenset(m) for m in groups.members.values() if len(m) > 1]
    clusters.sort(key=min)
    return clusters, stats


def _conflict(left: list[int], right: list[int], cannot: Mapping[int, set[int]]) -> bool:
    if not cannot:
        return False
    small, big = (left, right) if len(left) <= len(right) else (right, left)
    other = set(big)
    return any(not other.isdisjoint(cannot.get(x, ())) for x in small)


@dataclass(frozen=True)
class Assignment:
    """Cluster ids after a sweep: current groups, and the ids that ceased to exist."""

    clusters: dict[int, frozenset[int]]
    #: retired id -> id of the cluster that took most of its members (None: dissolved).
    retired: dict[int, int | None]
    next_id: int


def assign_ids(
    groups: Iterable[frozenset[int]],
    previous: Mapping[int, frozenset[int]],
    next_id: int,
) -> Assignment:
    """Give each group the id of the previous cluster it shares most members with.

    Greedy over (shared members, descending; previous id, ascending), so when a
    cluster splits the larger part keeps its id, when two merge the merged group
    keeps the id of the one it shares more with (ties: the smaller, i.e. older,
    id), and no id is given to two groups. Groups with no previous cluster left
    get fresh ids from ``next_id`` in order of their smallest member. Ids that
    are no longer used are returned as retired, never reused.
    """
    groups = sorted({frozenset(g) for g in groups if len(g) > 1}, key=min)
    old_of: dict[int, int] = {r: cid for cid, members in previous.items() for r in members}
    options = []
    for index, group in enumerate(groups):
        shared = Counter(old_of[r] for r in group if r in old_of)
        options.extend((-n, cid, index) for cid, n in shared.items())
    options.sort()
    taken_ids: set[int] = set()
    id_of: dict[int, int] = {}
    for _, cid, index in options:
        if cid in taken_ids or index in id_of:
            continue
        taken_ids.add(cid)
        id_of[index] = cid
    out: dict[int, frozenset[int]] = {}
    for index, group in enumerate(groups):
        if index not in id_of:
            id_of[index] = next_id
            next_id += 1
        out[id_of[index]] = group
    new_of = {r: cid for cid, members in out.items() for r in members}
    retired: dict[int, int | None] = {}
    for cid, members in previous.items():
        if cid in out:
            continue
        heirs = Counter(new_of[r] for r in members if r in new_of)
        retired[cid] = min(heirs, key=lambda c: (-heirs[c], c)) if heirs else None
    return Assignment(out, retired, next_id)
