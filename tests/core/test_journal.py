"""The run journal (ledger.core.journal): what a live run appends, folded incrementally into
what its record will say; torn lines and concurrent writers lose nothing."""

from __future__ import annotations

import math
import multiprocessing
from pathlib import Path

from ledger.core import journal


def _append_many(path: str, tag: str) -> None:
    for i in range(300):
        journal.append(Path(path), f"{tag}\t{i}\t{'x' * 200}\n")


def test_concurrent_appends_never_interleave_a_line(tmp_path: Path) -> None:
    target = tmp_path / "events.jsonl"
    procs = [multiprocessing.Process(target=_append_many, args=(str(target), f"w{n}")) for n in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    lines = target.read_text().splitlines()
    assert len(lines) == 1200
    assert all(len(line.split("\t")) == 3 and line.endswith("x" * 200) for line in lines)


def test_fold_reads_events_and_series(tmp_path: Path) -> None:
    journal.write_event(tmp_path, "params", {"params": {"model": {"depth": 3}}})
    journal.write_event(tmp_path, "params", {"params": {"model": {"width": 8}, "lr": 0.1}})
    journal.write_event(tmp_path, "tags", {"tags": {"stage": 1}})
    journal.write_event(tmp_path, "note", {"text": "first"})
    journal.write_event(tmp_path, "artifact", {"artifact": {"name": "m.pt", "hash": "a"}})
    journal.write_event(tmp_path, "artifact", {"artifact": {"name": "m.pt", "hash": "b"}})  # latest wins
    journal.write_event(tmp_path, "fields", {"fields": {"description": "d"}})
    journal.write_event(tmp_path, "error", {"error": {"type": "ValueError"}})
    series = journal.SERIES_HEADER + "".join(
        journal.format_point(step, "loss", value, step * 0.5) for step, value in enumerate([1.0, 0.4, math.nan, 0.6])
    )
    journal.append(tmp_path / journal.SERIES_FILE, series + journal.format_point(0, "acc", 0.9, 0.0))
    fold = journal.Fold()
    fold.update(tmp_path)
    assert fold.params == {"model": {"depth": 3, "width": 8}, "lr": 0.1}
    assert fold.tags == {"stage": "1"} and fold.notes == ["first"]
    assert fold.artifacts == {"m.pt": {"name": "m.pt", "hash": "b"}}
    assert fold.record_fields == {"description": "d"} and fold.error == {"type": "ValueError"}
    assert fold.metrics() == {"acc": 0.9, "loss": 0.6}  # the last value, as logged
    assert fold.has_steps
    field = fold.series_field("experiments/x/series.tsv", lambda name: "min")
    assert field == {
        "path": "experiments/x/series.tsv",
        "metrics": {"loss": {"count": 4, "last": 0.6, "last_step": 3, "best": 0.4, "best_step": 1}},
    }  # NaN counts as a point but is never the best; a single point is not a series


def test_fold_is_incremental_and_waits_for_a_torn_line(tmp_path: Path) -> None:
    fold = journal.Fold()
    journal.append(tmp_path / journal.EVENTS_FILE, '{"kind": "tags", "tags": {"a": "1"}}\n{"kind": "ta')
    fold.update(tmp_path)
    assert fold.tags == {"a": "1"}
    journal.append(tmp_path / journal.EVENTS_FILE, 'gs", "tags": {"b": "2"}}\nnot json\n')
    fold.update(tmp_path)
    assert fold.tags == {"a": "1", "b": "2"}  # the torn line completed; garbage skipped
    journal.write_event(tmp_path, "tags", {"tags": {"a": "3"}})
    fold.update(tmp_path)
    assert fold.tags == {"a": "3", "b": "2"}  # only the new line was read


def test_context_round_trip_and_damage(tmp_path: Path) -> None:
    assert journal.read_context(tmp_path) is None
    journal.write_context(tmp_path, {"id": "r1", "params": {"lr": math.inf}})
    assert journal.read_context(tmp_path) == {"id": "r1", "params": {"lr": math.inf}}
    (tmp_path / journal.CONTEXT_FILE).write_text("[1, 2]")
    assert journal.read_context(tmp_path) is None
    (tmp_path / journal.CONTEXT_FILE).write_text("{torn")
    assert journal.read_context(tmp_path) is None
