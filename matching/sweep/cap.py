"""How many candidates a sweep keeps per record: the best few, as ``kinlink link`` does.

Why: at a million stored records a new child meets ~1,200 candidates and ~156 of them
score above the storage floor (p >= 0.01): namesakes of one culture in one region. No
reviewer reads 156 candidates for a record, yet every one of them was written to the
store, kept the previous night's pending pairs alive, and fed clustering (docs/sweep.md:
writing 1.56M such pairs was a quarter of a 10,000-record sweep). ``kinlink link``
already lists at most 50 candidates per tracing request; the sweep now keeps, for each
new record, its best ``max_candidates`` links and its best ``max_candidates``
duplicates (by match weight; ties by the other record's key), and a pair survives when
it is among the best of either of its new records.

Only the new records' lists are cut: a stored record's other candidates were scored in
earlier runs, so its rank among them is not known here. In a ``--full`` sweep every
record is new, so a pair is kept when either record ranks it high enough. The cap is
applied after scoring, the same way whichever engine scored the pairs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

#: Candidates of each kind (links, duplicates) kept per new record; as ``kinlink link``.
DEFAULT_MAX_CANDIDATES = 50


def cap_per_record(
    scored: pd.DataFrame,
    new_pks: Collection[int],
    record_type: Mapping[int, str],
    max_candidates: int | None,
) -> pd.DataFrame:
    """``scored`` (``left_pk, right_pk, match_weight, ...``) without the pairs that no
    new record ranks among its best ``max_candidates`` of that pair's kind.

    ``None`` or 0 keeps everything. Row order is preserved.
    """
    if not max_candidates or len(scored) <= max_candidates:
        return scored
    left = scored["left_pk"].to_numpy(np.int64)
    right = scored["right_pk"].to_numpy(np.int64)
    weight = scored["match_weight"].to_numpy(float)
    new = np.asarray(sorted(new_pks), dtype=np.int64)
    tracing = np.asarray(
        sorted(pk for pk, kind in record_type.items() if kind == "tracing_request"),
        dtype=np.int64,
    )
    link = np.isin(left, tracing) | np.isin(right, tracing)
    rows = np.arange(len(scored))
    sides = []
    for me, other in ((left, right), (right, left)):
        mine = np.isin(me, new)
        sides.append(
            pd.DataFrame(
                {
                    "record": me[mine],
                    "link": link[mine],
                    "weight": -weight[mine],
                    "other": other[mine],
                    "row": rows[mine],
                }
            )
        )
    lists = pd.concat(sides, ignore_index=True)
    lists = lists.sort_values(["record", "link", "weight", "other"], kind="stable")
    best = lists.groupby(["record", "link"], sort=False).cumcount() < max_candidates
    keep = np.zeros(len(scored), dtype=bool)
    keep[lists["row"].to_numpy()[best.to_numpy()]] = True
    if keep.all():
        return scored
    return scored[keep].reset_index(drop=True)
