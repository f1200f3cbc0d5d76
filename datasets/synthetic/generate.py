"""Public entry point: simulate a world of K separated children and return its records.

``children`` (K) is the number of distinct children in the output: every child in the truth
file has at least one record, and there are exactly K of them. The number of records is
about 1.5 K (cases, duplicate registrations, tracing requests; see README.md for the
measured ratio), so 1,000,000 records need about 660,000 children.

Determinism: kin group ``g`` of seed ``s`` draws from its own ``random.Random(f"{s}:{g}")``,
and the final order comes from a separate shuffle stream, so the same seed and parameters
give byte-identical files on any machine (Python's Mersenne Twister and its seeding from
strings are stable across platforms and releases).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from tqdm import tqdm

from kinlink.datasets.synthetic.cultures import Culture, load_cultures, pick
from kinlink.datasets.synthetic.families import kin_group
from kinlink.datasets.synthetic.params import NoiseParams, WorldParams
from kinlink.datasets.synthetic.registration import register_family
from kinlink.ingest.columns import RECORD_COLUMNS

#: Columns of the truth file: the evaluators' contract is the first two.
TRUTH_COLUMNS: tuple[str, ...] = ("record_id", "child_id", "culture")

_BODY_COLUMNS = RECORD_COLUMNS[1:]  # everything but record_id, assigned after shuffling


@dataclass(slots=True)
class Dataset:
    """Generated records in output order, kept compact until written or framed."""

    #: Record rows without record_id, in generation order (columns RECORD_COLUMNS[1:]).
    rows: list[tuple[str, ...]]
    #: Per row: (child number, culture id), aligned with ``rows``.
    owners: list[tuple[int, str]]
    #: Output position -> index into ``rows``.
    order: list[int]
    children: int

    def __len__(self) -> int:
        return len(self.rows)

    def _rid(self, position: int) -> str:
        return f"KL-{position + 1:0{max(7, len(str(len(self.rows))))}d}"

    def records(self) -> Iterator[tuple[str, ...]]:
        """Rows in RECORD_COLUMNS order, as written to records.csv."""
        for pos, idx in enumerate(self.order):
            yield (self._rid(pos), *self.rows[idx])

    def truth(self) -> Iterator[tuple[str, str, str]]:
        """(record_id, child_id, culture) rows, aligned with :meth:`records`."""
        width = max(7, len(str(self.children)))
        for pos, idx in enumerate(self.order):
            uid, culture = self.owners[idx]
            yield self._rid(pos), f"CH-{uid + 1:0{width}d}", culture


def _start(culture: Culture, rng: random.Random) -> dt.date:
    """A separation date in the culture's crisis window, most of them early in it."""
    first, last = culture.crisis
    span = (last - first).days
    return first + dt.timedelta(days=int(span * rng.random() ** 1.6))


def simulate(
    seed: int,
    children: int,
    *,
    world: WorldParams | None = None,
    noise: NoiseParams | None = None,
    progress: bool = False,
) -> Dataset:
    """Simulate kin groups until ``children`` distinct children have records."""
    if children < 0:
        raise ValueError("children must be >= 0")
    world = world or WorldParams()
    noise = noise or NoiseParams()
    cultures = list(load_cultures().values())
    cum = [0.0]
    for c in cultures:
        cum.append(cum[-1] + c.weight)
    cum = cum[1:]
    rows: list[tuple[str, ...]] = []
    owners: list[tuple[int, str]] = []
    next_uid = 0
    group = 0
    with tqdm(
        total=children, disable=not progress, file=sys.stderr, unit="child", desc="synth"
    ) as bar:
        while next_uid < children:
            rng = random.Random(f"{seed}:{group}")
            group += 1
            culture = pick(rng, cultures, cum)
            reference = _start(culture, rng)
            before = next_uid
            for family in kin_group(rng, culture, reference, world):
                separation = reference + dt.timedelta(days=rng.randrange(0, 4))
                for child, rec in register_family(rng, family, separation, world, noise):
                    if child.uid < 0:
                        if next_uid >= children:
                            continue
                        child.uid = next_uid
                        next_uid += 1
                    rows.append(tuple(rec.get(col, "") for col in _BODY_COLUMNS))
                    owners.append((child.uid, culture.id))
            bar.update(next_uid - before)
    order = list(range(len(rows)))
    random.Random(f"{seed}:shuffle").shuffle(order)
    return Dataset(rows=rows, owners=owners, order=order, children=children)


def generate(
    seed: int,
    children: int,
    *,
    world: WorldParams | None = None,
    noise: NoiseParams | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records, truth) as DataFrames of strings ("" for missing), for tests and notebooks.

    records has exactly :data:`RECORD_COLUMNS`; truth has :data:`TRUTH_COLUMNS`.
    """
    data = simulate(seed, children, world=world, noise=noise)
    records = pd.DataFrame.from_records(list(data.records()), columns=list(RECORD_COLUMNS))
    truth = pd.DataFrame.from_records(list(data.truth()), columns=list(TRUTH_COLUMNS))
    return records, truth
