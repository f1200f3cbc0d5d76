"""``kinlink sweep``: the nightly cross-agency duplicate sweep (see docs/sweep.md).

Meant for cron or a systemd timer: prints its report on stdout, progress lines
on stderr, and exits 0 when the sweep committed, 8 when another sweep was
running (nothing was done), 5 when the store cannot be opened, 6 when there is
no model and too few records to train one.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from kinlink.cli import app, exitcodes
from kinlink.cli._common import (
    EngineOption,
    ProgressOption,
    fail,
    open_engine,
    open_store,
    show_progress,
)


@app.command("sweep")
def sweep(
    full: Annotated[
        bool, typer.Option("--full", help="Rescore every pair (after a model change).")
    ] = False,
    model: Annotated[
        Path | None,
        typer.Option(help="Model JSON; default KINLINK_MODEL_PATH or <home>/model.json."),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Probability at which duplicates are clustered.")
    ] = None,
    min_probability: Annotated[
        float | None, typer.Option(help="Pairs below this are not stored (default 0.01).")
    ] = None,
    notify_probability: Annotated[
        float | None, typer.Option(help="New pairs at or above this are notified (0.5).")
    ] = None,
    overlap_minutes: Annotated[
        int, typer.Option(help="Re-sweep records updated this long before the watermark.")
    ] = 60,
    webhook: Annotated[
        str | None,
        typer.Option(envvar="KINLINK_SWEEP_WEBHOOK_URL", help="POST the report's counts here."),
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Store per-comparison explanations with the pairs.")
    ] = True,
    explain_min_probability: Annotated[
        float | None,
        typer.Option(
            help="Explain only pairs at or above this (default: every stored pair on "
            "DuckDB, where explanations are stored as levels; 0.3 on Spark or when a "
            "model is trained first); the review API explains the others when opened."
        ),
    ] = None,
    cache: Annotated[
        bool, typer.Option(help="Keep prepared records in <home>/sweep between runs.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    engine: EngineOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            envvar="KINLINK_SWEEP_WORKERS",
            help="Processes scoring an incremental sweep (DuckDB); default one per core.",
        ),
    ] = None,
    max_candidates: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Links and duplicates kept per new record, the best by match weight "
            "(default 50, as kinlink link's 50 per request); 0 keeps every pair above "
            "--min-probability.",
        ),
    ] = None,
    history: Annotated[
        int, typer.Option(help="Only print the last N runs' reports; sweep nothing.")
    ] = 0,
    show: ProgressOption = None,
) -> None:
    """Score new and changed records against all stored ones; cluster duplicates.

    Incremental by default (records changed since the last successful sweep);
    --full recomputes everything. Safe to kill: the previous results stay as
    they were until a run commits, and the next run completes the work.
    """
    from kinlink.config import get_settings
    from kinlink.matching.cluster import DEFAULT_THRESHOLD, MIN_PAIR_PROBABILITY
    from kinlink.matching.sweep import (
        NoModel,
        SweepLocked,
        SweepOptions,
        format_report,
        latest_reports,
        run_sweep,
    )
    from kinlink.matching.sweep.cap import DEFAULT_MAX_CANDIDATES
    from kinlink.matching.sweep.notify import DEFAULT_NOTIFY_PROBABILITY

    store = open_store()
    if history:
        with store.session() as session:
            runs = latest_reports(session, history)
        if as_json:
            typer.echo(json.dumps([r.as_dict() for r in runs], default=str, indent=2))
            return
        for run in runs:
            typer.echo(f"run {run.id} {run.mode} {run.status} started {run.started_at:%F %T}")
            if run.status == "succeeded":
                typer.echo(format_report(run.report))
            elif run.error:
                typer.echo(f"  {run.error}")
        return

    settings = get_settings()
    options = SweepOptions(
        full=full,
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        min_probability=MIN_PAIR_PROBABILITY if min_probability is None else min_probability,
        notify_probability=(
            DEFAULT_NOTIFY_PROBABILITY if notify_probability is None else notify_probability
        ),
        overlap=dt.timedelta(minutes=overlap_minutes),
        explain=explain,
        explain_min_probability=explain_min_probability,
        cache_dir=settings.home / "sweep" if cache else None,
        webhook_url=webhook or None,
        progress=show_progress(show),
        engine=open_engine(engine).backend,
        workers=workers,
        max_candidates=DEFAULT_MAX_CANDIDATES if max_candidates is None else max_candidates or None,
    )

    def log(message: str) -> None:
        typer.echo(f"kinlink sweep: {message}", err=True)

    try:
        result = run_sweep(store, model or settings.resolved_model_path, options, log=log)
    except SweepLocked as err:
        raise fail(f"{err}; nothing done", exitcodes.SWEEP_RUNNING) from None
    except NoModel as err:
        raise fail(str(err), exitcodes.NOT_FOUND) from None
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(result.report, default=str, indent=2))
    else:
        typer.echo(format_report(result.report))
