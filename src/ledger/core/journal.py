"""A running run's journal, and folding it into a record.

While a run is alive, what it logs is appended to two files in its sidecar directory, by
the process that owns the run or by a child started under `ledger run`:

- `series.tsv`: one line per metric point (`step  metric  value  time`), appended with
  O_APPEND in whole lines, so several processes can share it;
- `events.jsonl`: one JSON line per params/tags/note/artifact/cost/dataset/error event;
- `context.json`: the record as captured at start (written once).

`fold` turns context + journal into the record, both at the end of a run and when a dead
run is found later: whatever was logged before a crash is kept.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.core.fields import deep_merge

SERIES_FILE = "series.tsv"
EVENTS_FILE = "events.jsonl"
CONTEXT_FILE = "context.json"
SERIES_HEADER = "step\tmetric\tvalue\ttime\n"
OWNER_FILE = ".ledger-owner"  # which process runs it: a leftover of a dead one is removed
TRANSIENT = (EVENTS_FILE, CONTEXT_FILE, OWNER_FILE)


def append(path: Path, text: str) -> None:
    """Append whole lines in one write, so concurrent writers never interleave a line."""
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        while data:
            written = os.write(fd, data)
            data = data[written:]
    finally:
        os.close(fd)


def write_event(directory: Path, kind: str, payload: dict[str, Any]) -> None:
    line = json.dumps({"kind": kind, **payload}, ensure_ascii=False, allow_nan=True)
    append(directory / EVENTS_FILE, line + "\n")


def format_point(step: int, name: str, value: float, elapsed: float) -> str:
    return f"{step}\t{name}\t{value!r}\t{elapsed:.3f}\n"


@dataclass
class _Summary:
    count: int = 0
    last: float | None = None
    last_step: int | None = None
    low: float | None = None
    low_step: int | None = None
    high: float | None = None
    high_step: int | None = None

    def add(self, step: int, value: float) -> None:
        self.count += 1
        self.last, self.last_step = value, step
        if math.isnan(value):
            return
        if self.low is None or value < self.low:
            self.low, self.low_step = value, step
        if self.high is None or value > self.high:
            self.high, self.high_step = value, step

    def as_field(self, direction: str) -> dict[str, Any]:
        best, best_step = (self.low, self.low_step) if direction == "min" else (self.high, self.high_step)
        return {
            "count": self.count,
            "last": self.last,
            "last_step": self.last_step,
            "best": best,
            "best_step": best_step,
        }


@dataclass
class Fold:
    """Everything a journal says, read incrementally (offsets remembered between calls)."""

    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    costs: list[dict[str, Any]] = field(default_factory=list)
    datasets: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    record_fields: dict[str, Any] = field(default_factory=dict)
    pruned_step: int | None = None  # a trial the pruner stopped, and where
    series: dict[str, _Summary] = field(default_factory=dict)
    _offsets: dict[str, int] = field(default_factory=dict)
    _partial: dict[str, bytes] = field(default_factory=dict)

    def _new_lines(self, path: Path) -> Iterable[str]:
        name = path.name
        try:
            with open(path, "rb") as fh:
                fh.seek(self._offsets.get(name, 0))
                chunk = fh.read()
        except FileNotFoundError:
            return []
        self._offsets[name] = self._offsets.get(name, 0) + len(chunk)
        data = self._partial.pop(name, b"") + chunk
        complete, _, rest = data.rpartition(b"\n")
        if rest:
            self._partial[name] = rest
        if not complete:
            return []
        return complete.decode("utf-8", "replace").split("\n")

    def update(self, directory: Path) -> None:
        for line in self._new_lines(directory / SERIES_FILE):
            parts = line.split("\t")
            if len(parts) != 4 or parts[0] == "step":
                continue
            try:
                step, value = int(parts[0]), float(parts[2])
            except ValueError:
                continue
            summary = self.series.get(parts[1])
            if summary is None:
                summary = self.series[parts[1]] = _Summary()
            summary.add(step, value)
        for line in self._new_lines(directory / EVENTS_FILE):
            if line.strip():
                try:
                    self._apply(json.loads(line))
                except (ValueError, TypeError, KeyError):
                    continue

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == "params":
            self.params = deep_merge(self.params, event["params"])
        elif kind == "tags":
            self.tags.update({str(k): str(v) for k, v in event["tags"].items()})
        elif kind == "note":
            self.notes.append(str(event["text"]))
        elif kind == "artifact":
            self.artifacts[event["artifact"]["name"]] = event["artifact"]
        elif kind == "cost":
            self.costs.append(event["cost"])
        elif kind == "dataset":
            self.datasets[str(event["name"])] = event["stats"]
        elif kind == "error":
            self.error = event["error"]
        elif kind == "fields":
            self.record_fields.update(event["fields"])
        elif kind == "pruned":
            self.pruned_step = int(event["step"])

    def metrics(self) -> dict[str, float | None]:
        return {name: s.last for name, s in sorted(self.series.items())}

    def series_field(self, path: str, direction: Any) -> dict[str, Any] | None:
        stepped = {n: s for n, s in sorted(self.series.items()) if s.count > 1}
        if not stepped:
            return None
        return {"path": path, "metrics": {n: s.as_field(direction(n)) for n, s in stepped.items()}}

    @property
    def has_steps(self) -> bool:
        return any(s.count > 1 for s in self.series.values())


def read_context(directory: Path) -> dict[str, Any] | None:
    try:
        with open(directory / CONTEXT_FILE, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_context(directory: Path, record: dict[str, Any]) -> None:
    from ledger.core.yamlio import write_atomic

    write_atomic(directory / CONTEXT_FILE, json.dumps(record, ensure_ascii=False, allow_nan=True))
