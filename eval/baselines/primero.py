"""Primero's matching, re-implemented: the tool most child-protection agencies use today.

What Primero does (``app/services/matching_service.rb``, Primero v2): each field group
of the query record becomes a Solr full-text query over that group's fields with a
boost; the groups are OR-ed (``any do ... minimum_match 1``); the top 20 hits by score
are kept; scores are divided by the top score and hits with a normalised score
<= 0.1 are dropped. A hit is "likely" when its normalised score exceeds the mean
normalised score of the list by more than 0.7 (or it is the only hit), otherwise
"possible". Name and relatives' name fields are phonetic (Double Metaphone).

Field groups and boosts (Primero's ``MATCH_FIELDS`` mapped to record format v1):

==================  =====  ===============================================================
group               boost  record format v1 fields
==================  =====  ===============================================================
names               15     ``name`` (or first/middle/last joined), nickname, other name
sex                 10     ``sex``
age                 10     ``age``
relatives' names    10     mother, father, caregiver name (+ inquirer name on a request)
date of birth       5      ``date_of_birth``
nationality         3      ``nationality``
language            3      ``language``
ethnicity           1      ``ethnicity`` (in Primero's list without a boost)
==================  =====  ===============================================================

Approximation of Lucene/Solr scoring (documented in docs/evaluation.md):

* Analysis: Unicode word tokens, lower-cased (StandardTokenizer + LowerCaseFilter);
  on the phonetic groups each token also yields its Double Metaphone primary and
  alternate codes, max length 4 (``DoubleMetaphoneFilterFactory`` with
  ``inject=true``). Codes do not count towards the field length (Lucene's
  ``discountOverlaps``).
* Similarity: Lucene BM25 (the default since Solr 6/7), ``k1=1.2``, ``b=0.75``,
  ``idf = ln(1 + (N - n + 0.5) / (n + 0.5))`` with N = documents having the field,
  term score ``idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))`` (Lucene 8 form),
  times the group boost.
* A group's fields are indexed as one field, which approximates edismax's
  per-term DisjunctionMax over equally boosted fields (tie = 0). Query-side phonetic
  codes are scored as separate SHOULD clauses rather than Lucene's SynonymQuery.
* Primero's consent filter (``consent_for_tracing``) is not applied: it is a policy
  filter any method would apply, and the harness measures matching.

For the harness, the normalised score is the score that is thresholded. Linkage
decision: every hit Primero returns (normalised score > 0.1) is a potential match,
which is what Primero shows a caseworker. For deduplication every case is a query
against the other cases; a pair's score is the larger of its two directions. Primero
does not cluster; merging every potential match would chain all cases into one
cluster, so its clusters here are the connected components of "likely" pairs, the
strongest statement Primero makes.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from kinlink.eval.baselines._text import full_name, tokens
from kinlink.eval.methods import (
    add_rank,
    canonical_pairs,
    connected_components,
    empty_links,
    split_link_frame,
)

TOP_N = 20
NORMALIZED_THRESHOLD = 0.1
LIKELIHOOD_THRESHOLD = 0.7
K1 = 1.2
B = 0.75
DM_MAX_CODE_LENGTH = 4


@dataclass(frozen=True)
class _Group:
    name: str
    boost: float
    fields: tuple[str, ...]
    phonetic: bool = False
    #: extra fields read only from a tracing request (the inquirer is a relative)
    request_fields: tuple[str, ...] = ()


GROUPS: tuple[_Group, ...] = (
    _Group("names", 15.0, ("__full_name__", "name_nickname", "name_other"), phonetic=True),
    _Group("sex", 10.0, ("sex",)),
    _Group("age", 10.0, ("age",)),
    _Group(
        "relatives",
        10.0,
        ("mother_name", "father_name", "caregiver_name"),
        phonetic=True,
        request_fields=("inquirer_name",),
    ),
    _Group("date_of_birth", 5.0, ("date_of_birth",)),
    _Group("nationality", 3.0, ("nationality",)),
    _Group("language", 3.0, ("language",)),
    _Group("ethnicity", 1.0, ("ethnicity",)),
)


def _double_metaphone(token: str) -> list[str]:
    from metaphone import doublemetaphone  # BSD; imported late so the module loads without it

    codes = []
    for code in doublemetaphone(token):
        code = code[:DM_MAX_CODE_LENGTH]
        if code and code not in codes:
            codes.append(code)
    return codes


def analyse(record: dict[str, object], group: _Group, as_request: bool) -> tuple[list[str], int]:
    """Index/query terms of one record for one group, and the field length (tokens only)."""
    fields = group.fields + (group.request_fields if as_request else ())
    words: list[str] = []
    for f in fields:
        value = full_name(record) if f == "__full_name__" else record.get(f)
        words.extend(tokens(value))
    terms = [f"{group.name}:{w}" for w in words]
    if group.phonetic:
        for w in words:
            terms.extend(f"{group.name}:#dm:{c}" for c in _double_metaphone(w))
    return terms, len(words)


class _Index:
    """A BM25 index of the target records as a sparse document-term matrix."""

    def __init__(self, records: list[dict[str, object]], as_request: bool) -> None:
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        doc_freq: Counter[int] = Counter()
        group_lengths: dict[str, list[tuple[int, dict[int, int], int]]] = {}
        for doc, record in enumerate(records):
            for group in GROUPS:
                terms, length = analyse(record, group, as_request)
                if not terms:
                    continue
                tf: dict[int, int] = Counter(
                    self.vocab.setdefault(t, len(self.vocab)) for t in terms
                )
                doc_freq.update(tf.keys())
                group_lengths.setdefault(group.name, []).append((doc, tf, length))
        boost = {g.name: g.boost for g in GROUPS}
        for group_name, docs in group_lengths.items():
            n_docs = len(docs)  # documents that have this field (Lucene's docCount)
            avgdl = max(sum(length for _, _, length in docs) / n_docs, 1e-9)
            for doc, tf, length in docs:
                norm = K1 * (1 - B + B * max(length, 1) / avgdl)
                for term, freq in tf.items():
                    df = doc_freq[term]
                    idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
                    rows.append(doc)
                    cols.append(term)
                    vals.append(boost[group_name] * idf * freq / (freq + norm))
        self.n_docs = len(records)
        self.matrix_t = sparse.csr_matrix(
            (vals, (cols, rows)), shape=(max(len(self.vocab), 1), self.n_docs), dtype=np.float64
        )

    def query_matrix(self, records: list[dict[str, object]], as_request: bool) -> sparse.csr_matrix:
        """One row per query record: count of each (known) query term."""
        rows: list[int] = []
        cols: list[int] = []
        for q, record in enumerate(records):
            for group in GROUPS:
                terms, _ = analyse(record, group, as_request)
                for t in terms:
                    col = self.vocab.get(t)
                    if col is not None:
                        rows.append(q)
                        cols.append(col)
        data = np.ones(len(rows), dtype=np.float64)
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(records), self.matrix_t.shape[0]))


def search(
    queries: list[dict[str, object]],
    targets: list[dict[str, object]],
    queries_are_requests: bool,
    exclude_self: bool = False,
    chunk: int = 256,
) -> pd.DataFrame:
    """Run Primero's search for every query: ``query, target, raw, score, likely`` rows.

    ``query``/``target`` are positions in the input lists; ``score`` is normalised by
    the query's top raw score; rows with ``score <= 0.1`` are already dropped.
    """
    index = _Index(targets, as_request=False)
    qmat = index.query_matrix(queries, as_request=queries_are_requests)
    out: list[pd.DataFrame] = []
    for start in range(0, qmat.shape[0], chunk):
        dense = (qmat[start : start + chunk] @ index.matrix_t).toarray()
        if exclude_self:
            n = dense.shape[0]
            dense[np.arange(n), np.arange(start, start + n)] = 0.0
        k = min(TOP_N, dense.shape[1])
        if k == 0:
            break
        top = np.argpartition(-dense, k - 1, axis=1)[:, :k]
        raw = np.take_along_axis(dense, top, axis=1)
        for i in range(dense.shape[0]):
            hits = raw[i] > 0  # minimum_match 1: a hit matched at least one clause
            if not hits.any():
                continue
            r, t = raw[i][hits], top[i][hits]
            norm = r / r.max()
            average = norm.mean()  # over the whole top-20 list, as Primero does
            keep = norm > NORMALIZED_THRESHOLD
            r, t, norm = r[keep], t[keep], norm[keep]
            likely = (norm - average > LIKELIHOOD_THRESHOLD) | (len(norm) == 1)
            out.append(
                pd.DataFrame(
                    {"query": start + i, "target": t, "raw": r, "score": norm, "likely": likely}
                )
            )
    if not out:
        return pd.DataFrame(columns=["query", "target", "raw", "score", "likely"])
    return pd.concat(out, ignore_index=True)


class PrimeroMethod:
    """Primero-like Solr matching (module docstring): top 20, normalised score, 'likely' flag."""

    name = "primero"
    label = "Primero-like"
    score_kind = "Solr-like score divided by the query's top score (relative, not a probability)"
    link_threshold = NORMALIZED_THRESHOLD
    decision_rule = (
        "linkage: every hit returned (normalised score > 0.1, top 20); duplicates: clusters "
        "of 'likely' pairs (normalised score - list mean > 0.7, or sole hit)"
    )

    def unavailable_reason(self) -> str | None:
        """Needs the BSD ``metaphone`` package for Double Metaphone."""
        try:
            import metaphone  # noqa: F401
        except ImportError:
            return "the 'metaphone' package (Double Metaphone) is not installed"
        return None

    def link(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each tracing request queries the case index."""
        requests, cases = split_link_frame(frame)
        if requests.empty or cases.empty:
            return empty_links()
        hits = search(requests.to_dict("records"), cases.to_dict("records"), True)
        if hits.empty:
            return empty_links()
        links = pd.DataFrame(
            {
                "tracing_request_id": requests["record_id"].astype(str).to_numpy()[hits["query"]],
                "case_id": cases["record_id"].astype(str).to_numpy()[hits["target"]],
                "score": hits["score"].to_numpy(),
                "match_weight": np.nan,
            }
        )
        return add_rank(links)

    def _dedupe_hits(self, frame: pd.DataFrame) -> pd.DataFrame:
        records = frame.to_dict("records")
        hits = search(records, records, queries_are_requests=False, exclude_self=True)
        ids = frame["record_id"].astype(str).to_numpy()
        return pd.DataFrame(
            {
                "record_id_l": ids[hits["query"].to_numpy(dtype=int)],
                "record_id_r": ids[hits["target"].to_numpy(dtype=int)],
                "score": hits["score"].to_numpy(dtype=float),
                "match_weight": np.nan,
                "likely": hits["likely"].to_numpy(dtype=bool),
            }
        )

    def dedupe(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Each case queries the other cases; clusters = components of 'likely' pairs."""
        hits = self._dedupe_hits(frame)
        likely = hits[hits["likely"]]
        clusters = connected_components(
            zip(likely["record_id_l"], likely["record_id_r"], strict=True),
            frame["record_id"].astype(str),
        )
        pairs = canonical_pairs(hits.drop(columns="likely"))
        return pairs, clusters

    def candidate_pairs(self, frame: pd.DataFrame, task: str) -> pd.DataFrame | None:
        """Primero has no blocking stage: every indexed case is scored."""
        return None
