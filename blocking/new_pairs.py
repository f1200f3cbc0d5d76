"""The sweep's candidate pairs from a key index: new records against every record.

The same pairs as :class:`~kinlink.blocking.candidates.PartitionedCandidates`' sweep
job (tested pair for pair in ``tests/blocking/test_new_pairs.py``), derived from the
new records' keys alone:

* a key is kept when its block (current rows carrying it, over the whole store)
  holds 2 to ``max_block_size`` rows, as in a full run;
* a new record meets every other record of each of its kept blocks; never a tracing
  request with a tracing request; across agencies only when both records consent;
  a pair of two new records once;
* pairs are oriented as the engine orients them: the tracing request on the left of
  a link, the smaller ``record_id`` (as text) on the left of a duplicate.

Pairs come a slice of new records at a time, grouped by new record, so that forked
workers can each derive and score their own slice (the index is memory-mapped and
shared).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kinlink.blocking.key_index import KeyIndex, KeyRun, sorted_unique


@dataclass(frozen=True)
class RowFacts:
    """What the pair conditions read of each row of the table."""

    #: rank of the row's ``record_id`` as text (the engine's ``rid``)
    rank: np.ndarray
    is_case: np.ndarray
    consent: np.ndarray
    #: the row's agency as a number (no agency is one agency, as in the SQL)
    agency: np.ndarray
    is_new: np.ndarray

    @classmethod
    def of(cls, table: pa.Table, new_rows: np.ndarray) -> RowFacts:
        n = table.num_rows
        rank = np.empty(n, dtype=np.int64)
        rank[pc.sort_indices(table.column("record_id")).to_numpy()] = np.arange(n)
        record_type = pc.fill_null(table.column("record_type"), "case")
        consent = pc.fill_null(table.column("consent").cast(pa.bool_()), False)
        agency = pc.fill_null(table.column("agency").cast(pa.string()), "")
        is_new = np.zeros(n, dtype=bool)
        is_new[new_rows] = True
        return cls(
            rank=rank,
            is_case=pc.equal(record_type, "case").to_numpy(zero_copy_only=False),
            consent=consent.to_numpy(zero_copy_only=False),
            agency=pc.dictionary_encode(agency).combine_chunks().indices.to_numpy(),
            is_new=is_new,
        )


@dataclass(frozen=True)
class QueryPairs:
    """Some new records' pairs, grouped by new record (``query``, ascending): the
    other record of each pair, and whether the new record is the pair's left one."""

    query: np.ndarray
    other: np.ndarray
    query_left: np.ndarray

    def __len__(self) -> int:
        return len(self.query)


class NewPairs:
    """The candidate pairs of the new records of one sweep.

    ``new_keys`` is the run of the new records' keys (rows numbered in the table).
    """

    def __init__(
        self, index: KeyIndex, new_keys: KeyRun, facts: RowFacts, max_block_size: int
    ) -> None:
        self.index = index
        self.facts = facts
        hashes = sorted_unique(np.asarray(new_keys.hashes))
        ranges = index.ranges(hashes)
        sizes = index.counts(hashes, ranges)
        kept = (sizes >= 2) & (sizes <= int(max_block_size))
        #: the kept keys' ranges in each run
        self._ranges = [(lo[kept], hi[kept]) for lo, hi in ranges]
        kept_hashes = hashes[kept]
        # each new record's kept keys, as positions in ``kept_hashes``, by record
        position = np.searchsorted(kept_hashes, new_keys.hashes)
        position = np.minimum(position, max(len(kept_hashes) - 1, 0))
        found = (
            kept_hashes[position] == new_keys.hashes
            if len(kept_hashes)
            else np.zeros(len(new_keys), bool)
        )
        rows = np.asarray(new_keys.rows)[found].astype(np.int64)
        keys = position[found]
        order = np.argsort(rows, kind="stable")
        self._rows, self._keys = rows[order], keys[order]
        # the new records with at least one kept key, ascending, and where each one's
        # keys start (``_rows`` is sorted: where its value changes)
        starts = np.flatnonzero(np.diff(self._rows, prepend=-1))
        self.queries = self._rows[starts]
        self._starts = np.append(starts, len(self._rows))

    def pairs(self, first: int, last: int) -> QueryPairs:
        """The pairs of ``queries[first:last]``."""
        lo_at, hi_at = self._starts[first], self._starts[last]
        query_rows, keys = self._rows[lo_at:hi_at], self._keys[lo_at:hi_at]
        queries, others = [], []
        for run, (lo, hi) in zip(self.index.runs, self._ranges, strict=True):
            start, size = lo[keys], hi[keys] - lo[keys]
            total = int(size.sum())
            if total == 0:
                continue
            ends = np.cumsum(size)
            at = np.repeat(start - (ends - size), size) + np.arange(total)
            queries.append(np.repeat(query_rows, size))
            others.append(np.asarray(run.rows[at], dtype=np.int64))
        if not queries:
            empty = np.empty(0, dtype=np.int64)
            return QueryPairs(empty, empty, np.empty(0, dtype=bool))
        q, o = np.concatenate(queries), np.concatenate(others)
        f = self.facts
        ok = (o >= 0) & (o != q)
        q, o = q[ok], o[ok]
        ok = (
            (~f.is_new[o] | (f.rank[q] < f.rank[o]))
            & (f.is_case[q] | f.is_case[o])
            & ((f.consent[q] & f.consent[o]) | (f.agency[q] == f.agency[o]))
        )
        # each pair once (it shares several keys), ordered by query then other
        code = sorted_unique(q[ok] * self.index.n_rows + o[ok])
        q, o = np.divmod(code, self.index.n_rows)
        swap = (f.is_case[q] & ~f.is_case[o]) | (
            (f.is_case[q] == f.is_case[o]) & (f.rank[q] > f.rank[o])
        )
        return QueryPairs(q, o, ~swap)

    def all_pairs(self) -> QueryPairs:
        """Every pair (tests and small stores)."""
        return self.pairs(0, len(self.queries))
