"""Why a pair scored what it did: per-comparison contributions, as data.

The numbers are those of Splink's waterfall chart: the prior match weight, then for
each comparison the level reached, its match weight and any term-frequency
adjustment, with the compared values on both sides. They sum to the pair's match
weight, so the review screen can show exactly why a candidate ranks where it does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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

    def __init__(self, splink_settings: Mapping[str, Any]) -> None:
        from splink.internals.settings_creator import SettingsCreator

        dialect = splink_settings.get("sql_dialect", "duckdb")
        settings = SettingsCreator.from_path_or_dict(dict(splink_settings)).get_settings(dialect)
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

    def contribution_dicts(
        self,
        gamma: Mapping[str, int],
        weight: Mapping[str, float],
        tf: Mapping[str, float],
        left: Mapping[str, Any],
        right: Mapping[str, Any],
        max_gamma: Mapping[str, int],
    ) -> list[dict[str, Any]]:
        """``[c.as_dict() for c in contributions(row)]`` plus each one's ``max_gamma``,
        built straight from one pair's levels (``gamma``), weights, term-frequency
        adjustments (``tf``: comparisons that have them) and the two records' values.

        The same dicts, without the intermediate output row and ``Contribution``
        objects: a sweep at a million records explains ~270,000 pairs, and building
        them the long way was about half of its scoring time (docs/sweep.md).
        """
        out = []
        for name, labels, columns in self._comparisons:
            g = int(gamma.get(name, -1))
            w = _float(weight.get(name))
            adj = _float(tf.get(name))
            out.append(
                {
                    "comparison": name,
                    "level": labels.get(g, str(g)),
                    "gamma": g,
                    "match_weight": w,
                    "tf_adjustment": adj,
                    "values_l": {c: _plain(left.get(c)) for c in columns},
                    "values_r": {c: _plain(right.get(c)) for c in columns},
                    "total": w + adj,
                    "max_gamma": max_gamma.get(name, g),
                }
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
