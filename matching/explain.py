"""Why a pair scored what it did: per-comparison contributions, as data.

The numbers are those of Splink's waterfall chart: the prior match weight, then for
each comparison the level reached, its match weight and any term-frequency
adjustment, with the compared values on both sides. They sum to the pair's match
weight, so the review screen can show exactly why a candidate ranks where it does.

Two stored forms: the full list of contribution dicts (real-time matching, a few
pairs at a time), and the *levels* form a sweep stores for hundreds of thousands of
pairs a night: each comparison's level and term-frequency adjustment only, with an
:class:`ExplanationLayout` (the model's labels, level weights and compared columns,
stored once per model) and the two records' prepared values filling in the rest when
a reviewer opens the pair (:meth:`ExplanationLayout.expand`). The full form averaged
5.4 KB a pair, two thirds of it the values of both sides, and made the candidates
table ~15 GB on the 1M bench store (docs/sweep.md, session 16).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The ``format`` of a stored explanation in the levels form.
LEVELS_FORMAT = "levels-1"


@dataclass(frozen=True)
class Contribution:
    """One comparison's part in one pair's match weight."""

    comparison: str
    level: str
    gamma: int
    match_weight: float
    tf_adjustment: float
    values_l: dict[str, Any]
    values_r: dict[str, Any]

    @property
    def total(self) -> float:
        return self.match_weight + self.tf_adjustment

    def as_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy of the value dicts was two thirds of an
        # incremental sweep's scoring time (each kept pair has ~14 contributions); the
        # value dicts are the contribution's own, built fresh for each pair.
        return {
            "comparison": self.comparison,
            "level": self.level,
            "gamma": self.gamma,
            "match_weight": self.match_weight,
            "tf_adjustment": self.tf_adjustment,
            "values_l": dict(self.values_l),
            "values_r": dict(self.values_r),
            "total": self.total,
        }


class Explainer:
    """Maps Splink's output columns (gamma_, mw_, mw_tf_adj_, *_l/_r) to contributions.

    Built from the model's Splink settings so labels and column lists always match the
    model that scored the pairs.
    """

    def __init__(self, splink_settings: Mapping[str, Any], parsed: Any = None) -> None:
        """``parsed``: the settings as Splink's ``Settings`` object, when the caller has
        them already (parsing validates every level's SQL: ~0.3 s for kinlink's model)."""
        if parsed is None:
            from splink.internals.settings_creator import SettingsCreator

            dialect = splink_settings.get("sql_dialect", "duckdb")
            creator = SettingsCreator.from_path_or_dict(dict(splink_settings))
            parsed = creator.get_settings(dialect)
        settings = parsed
        self.prior_weight = math.log2(
            settings._probability_two_random_records_match
            / (1 - settings._probability_two_random_records_match)
        )
        self._comparisons = []
        for comparison in settings.comparisons:
            labels = {
                level.comparison_vector_value: level.label_for_charts
                for level in comparison.comparison_levels
            }
            columns = [col.input_name for col in comparison._input_columns_used_by_case_statement]
            self._comparisons.append((comparison.output_column_name, labels, columns))

    @property
    def comparison_names(self) -> list[str]:
        return [name for name, _, _ in self._comparisons]

    @property
    def value_columns(self) -> list[str]:
        """Every input column an explanation shows values of (sorted, no repeats)."""
        return sorted({c for _, _, columns in self._comparisons for c in columns})

    def layout(
        self,
        weights: Mapping[str, Mapping[int, float]],
        tf_comparisons: set[str],
        max_gamma: Mapping[str, int],
    ) -> ExplanationLayout:
        """This model's :class:`ExplanationLayout`, with each level's match ``weights``
        (comparison -> gamma -> weight, as the scorer has them) and the comparisons that
        have term-frequency adjustments."""
        return ExplanationLayout(
            tuple(
                ComparisonLayout(
                    name=name,
                    columns=tuple(columns),
                    labels=dict(labels),
                    weights=dict(weights.get(name, {})),
                    max_gamma=max_gamma.get(name, max(labels, default=0)),
                    tf=name in tf_comparisons,
                )
                for name, labels, columns in self._comparisons
            )
        )

    def contributions(self, row: Mapping[str, Any]) -> list[Contribution]:
        """Contributions of one scored pair (a row of an explain-mode prediction)."""
        out = []
        for name, labels, columns in self._comparisons:
            gamma = int(row.get(f"gamma_{name}", -1))
            tf = row.get(f"mw_tf_adj_{name}")
            out.append(
                Contribution(
                    comparison=name,
                    level=labels.get(gamma, str(gamma)),
                    gamma=gamma,
                    match_weight=_float(row.get(f"mw_{name}")),
                    tf_adjustment=_float(tf),
                    values_l={c: _plain(row.get(f"{c}_l")) for c in columns},
                    values_r={c: _plain(row.get(f"{c}_r")) for c in columns},
                )
            )
        return out


def _float(value: Any) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(result) else result


def _plain(value: Any) -> Any:
    """JSON-friendly values (numpy arrays and scalars to lists and Python numbers)."""
    if value is None:
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@dataclass(frozen=True)
class ComparisonLayout:
    """What a levels-form explanation needs of one comparison to be expanded."""

    name: str
    #: The prepared columns whose values the explanation shows (``Explainer``'s order).
    columns: tuple[str, ...]
    labels: Mapping[int, str]
    #: The match weight of each level (a constant of the model, per level).
    weights: Mapping[int, float]
    max_gamma: int
    #: Whether the comparison has term-frequency adjustments (stored per pair).
    tf: bool


@dataclass(frozen=True)
class ExplanationLayout:
    """The per-model part of every explanation of that model's pairs.

    Stored once per model (``store.review_schema.ExplanationLayout``, keyed by
    :attr:`key`, a hash of the content), so a levels-form explanation still expands
    after the model is replaced, and a pair never borrows labels from another model.
    """

    comparisons: tuple[ComparisonLayout, ...]
    key: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        text = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        object.__setattr__(self, "key", hashlib.sha256(text.encode()).hexdigest()[:16])

    @property
    def tf_comparisons(self) -> list[str]:
        """The comparisons whose adjustments a levels-form explanation lists, in order."""
        return [c.name for c in self.comparisons if c.tf]

    def to_json(self) -> dict[str, Any]:
        return {
            "comparisons": [
                {
                    "name": c.name,
                    "columns": list(c.columns),
                    "labels": {str(g): label for g, label in sorted(c.labels.items())},
                    "weights": {str(g): w for g, w in sorted(c.weights.items())},
                    "max_gamma": c.max_gamma,
                    "tf": c.tf,
                }
                for c in self.comparisons
            ]
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExplanationLayout:
        return cls(
            tuple(
                ComparisonLayout(
                    name=str(c["name"]),
                    columns=tuple(c["columns"]),
                    labels={int(g): str(label) for g, label in c["labels"].items()},
                    weights={int(g): float(w) for g, w in c["weights"].items()},
                    max_gamma=int(c["max_gamma"]),
                    tf=bool(c["tf"]),
                )
                for c in data["comparisons"]
            )
        )

    def levels(self, gamma: Sequence[int], tf: Sequence[float]) -> dict[str, Any]:
        """One pair's levels-form explanation: each comparison's gamma, in layout order,
        and the adjustments of :attr:`tf_comparisons`, in theirs."""
        return {"format": LEVELS_FORMAT, "layout": self.key, "gamma": list(gamma), "tf": list(tf)}

    def expand(
        self, stored: Mapping[str, Any], left: Mapping[str, Any], right: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The full explanation (``Contribution.as_dict`` with ``max_gamma``, as real-time
        matching stores it) of a levels-form one, with ``left``'s and ``right``'s
        prepared values (the pair's own sides).

        The values are the records' current ones: a record changed since the pair was
        scored shows its new values beside the old levels until the pair is scored
        again (the next sweep, or real-time matching on the change).
        """
        if stored.get("layout") != self.key:
            raise ValueError(f"explanation of layout {stored.get('layout')!r}, not {self.key!r}")
        gammas = [int(g) for g in stored.get("gamma", [])]
        if len(gammas) != len(self.comparisons):
            raise ValueError(
                f"{len(gammas)} levels for a layout of {len(self.comparisons)} comparisons"
            )
        adjustments = dict(zip(self.tf_comparisons, stored.get("tf", []), strict=False))
        out = []
        for comparison, g in zip(self.comparisons, gammas, strict=True):
            w = _float(comparison.weights.get(g))
            adj = _float(adjustments.get(comparison.name))
            out.append(
                {
                    "comparison": comparison.name,
                    "level": comparison.labels.get(g, str(g)),
                    "gamma": g,
                    "match_weight": w,
                    "tf_adjustment": adj,
                    "values_l": {c: _plain(left.get(c)) for c in comparison.columns},
                    "values_r": {c: _plain(right.get(c)) for c in comparison.columns},
                    "total": w + adj,
                    "max_gamma": comparison.max_gamma,
                }
            )
        return out


def is_levels(explanation: Any) -> bool:
    """Whether a stored explanation is in the levels form (else: a list of dicts)."""
    return isinstance(explanation, Mapping) and explanation.get("format") == LEVELS_FORMAT
