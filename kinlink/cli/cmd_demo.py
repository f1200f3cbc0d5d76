"""``kinlink demo``: the main job end to end on the bundled synthetic data.

Loads the committed synthetic sample into the store (embedded SQLite unless
``KINLINK_DATABASE_URL`` says otherwise), links every tracing request to the
stored cases with a model trained on them, writes the ranked candidates, and
shows a few side by side: what a caseworker would see, in a terminal.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from kinlink.cli import app
from kinlink.cli._common import open_store
from kinlink.config import get_settings
from kinlink.ingest import read_records
from kinlink.store import counts, load_result, stored_frame

SAMPLE = files("kinlink.datasets.synthetic") / "sample" / "records.csv"


@app.command("demo")
def demo(
    show: Annotated[int, typer.Option(min=0, help="Tracing requests to show side by side.")] = 3,
) -> None:
    """Load the synthetic demo data, link tracing requests to cases, show the best candidates."""
    from kinlink.matching import link_records

    store = open_store()
    result = read_records(Path(str(SAMPLE)))
    with store.session() as session:
        summary = load_result(session, result, agency=None)
        typer.echo(
            f"demo data: {len(result.records)} synthetic records -> {summary.inserted} new, "
            f"{summary.unchanged} already stored (store: {store.display_url})"
        )
        rows = counts(session)
        by_type: dict[str, int] = {}
        for row in rows:
            by_type[row.record_type] = by_type.get(row.record_type, 0) + row.count
        agencies = len({row.agency for row in rows})
        described = ", ".join(
            f"{n} {kind.replace('_', ' ')}s" for kind, n in sorted(by_type.items())
        )
        typer.echo(
            f"  store holds {described} from {agencies} agencies ('kinlink records' lists them)"
        )
        frame = stored_frame(session)

    typer.echo("training a model on the stored records and linking tracing requests to cases ...")
    links = link_records(frame)
    out_dir = get_settings().home / "demo"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "links.csv"
    links.to_csv(out, index=False)
    requests = links["tracing_request_id"].nunique()
    typer.echo(f"{len(links)} candidates for {requests} tracing requests written to {out}")
    _show(frame, links, show)


def _show(frame: pd.DataFrame, links: pd.DataFrame, count: int) -> None:
    by_id = frame.set_index("record_id")
    best = links[links["rank"] == 1].sort_values("match_probability", ascending=False)
    for request_id in best["tracing_request_id"].head(count):
        request = by_id.loc[request_id]
        typer.echo("")
        typer.echo(f"tracing request {request_id} ({request['agency']}): {_describe(request)}")
        rows = links[links["tracing_request_id"] == request_id].sort_values("rank").head(3)
        for cand in rows.itertuples():
            case = by_id.loc[cand.case_id]
            typer.echo(
                f"  #{cand.rank} p={cand.match_probability:.3f}  case {cand.case_id} "
                f"({case['agency']}): {_describe(case)}"
            )


def _describe(row: pd.Series) -> str:
    name = row["name"] or " ".join(
        v for v in (row["name_first"], row["name_middle"], row["name_last"]) if v
    )
    parts = [name or "(no name)"]
    if row["sex"]:
        parts.append(row["sex"])
    if row["date_of_birth"]:
        parts.append(f"born {row['date_of_birth']}")
    elif row["age"]:
        parts.append(f"age {row['age']}")
    place = row["location_origin"] or row["location_separation"]
    if place:
        parts.append(f"from {place}")
    return ", ".join(parts)
