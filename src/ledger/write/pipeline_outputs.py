"""What a DVC pipeline left behind, into the run that ran it (the write side of
`ledger.dvc.pipeline`, which reads the pipeline's files and knows nothing of runs)."""

from __future__ import annotations

from pathlib import Path

from ledger.dvc.pipeline import Pipeline, collect, fresh_outputs
from ledger.dvc.stamps import Fresh, Stamp
from ledger.write.capture import catch_and_warn
from ledger.write.capture.data import capture_data
from ledger.write.tracking import Run


def record_outputs(
    run: Run, pipeline: Pipeline, argv: list[str], *, finished: bool, before: dict[Path, Stamp] | None
) -> None:
    """Put what the pipeline declares (params, fresh metrics and series, the data state
    after the run, artifacts) into the run's journal. Warns, never raises."""
    _record(run, pipeline, fresh_outputs(argv, finished=finished, before=before, started=run.started))


@catch_and_warn("the DVC pipeline's outputs", None)
def _record(run: Run, pipeline: Pipeline, fresh: Fresh) -> None:
    config = run.ws.config
    out = collect(pipeline, config.params_file, capture_data(pipeline.root, config.data), fresh)
    if out.params:
        run.log_params(out.params)
    for name, points in sorted(out.series.items()):
        for step, value in points:
            run.log_metric(name, value, step)
    for name, value in sorted(out.metrics.items()):
        if name not in out.series:  # dvclive's metrics.json repeats each series' last value
            run.log_metric(name, value)
    # What dvc.lock says after the run supersedes what it said before.
    run.record_outputs(data=out.data, artifacts=out.artifacts)
