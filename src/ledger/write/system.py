"""System metrics over a run's life: a background thread samples the machine every
`system_interval` seconds (ledger.yaml, default 10; env `LEDGER_SYSTEM_INTERVAL`; 0 turns
it off) into `system.tsv` in the run's sidecar, next to `series.tsv` and in the same
`step  metric  value  time` format, and the record gets a summary (`system:` mean, max and
last of each metric, e.g. peak GPU memory and mean GPU utilisation).

What is sampled is in `system_probe` (psutil, else /proc) and `system_nvml` (GPUs). A run
shorter than one interval has no samples. Sampling never breaks a run: a probe that fails
ends sampling, silently.

In a distributed job spanning nodes, the first process of every other node samples its
node into `system-rank<R>.tsv` in the same sidecar (metrics named `system/rank<R>/...`);
rank 0 appends those files to `system.tsv` when the run ends. Processes started by
`ledger run` find the sidecar in their environment; others find it through a small file
rank 0 leaves in the git directory (`ledger-ranks/<job>.json`) while the run is alive. The
file names rank 0's process: if it is killed, the next write command removes the file.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.core import processes
from ledger.core.journal import SERIES_HEADER, append, format_point

SYSTEM_FILE = "system.tsv"
RANK_FILE = "system-rank{rank}.tsv"
DEFAULT_INTERVAL = 10.0
ENV_INTERVAL = "LEDGER_SYSTEM_INTERVAL"
RENDEZVOUS_DIR = "ledger-ranks"


def interval_from(configured: float | None) -> float:
    """Seconds between samples: the environment, else ledger.yaml, else 10; 0 is off."""
    text = os.environ.get(ENV_INTERVAL, "").strip()
    if text:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    return DEFAULT_INTERVAL if configured is None else configured


@dataclass
class _Stats:
    count: int = 0
    total: float = 0.0
    high: float = -math.inf
    last: float = math.nan

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.high = max(self.high, value)
        self.last = value

    def as_field(self) -> dict[str, float]:
        return {"mean": round(self.total / self.count, 3), "max": round(self.high, 3), "last": round(self.last, 3)}


def summarise(path: Path) -> dict[str, dict[str, float]]:
    """Mean, max and last of every metric in a system series file."""
    stats: dict[str, _Stats] = {}
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or parts[0] == "step":
            continue
        try:
            value = float(parts[2])
        except ValueError:
            continue
        if math.isfinite(value):
            stats.setdefault(parts[1], _Stats()).add(value)
    return {name: s.as_field() for name, s in sorted(stats.items())}


@dataclass
class Sampler:
    """Samples into `path` every `interval` seconds on a daemon thread, from `start()` to
    `stop()`. `gpu_library` is the seam for a fake NVML (see `system_nvml`)."""

    path: Path
    t0: float
    interval: float
    prefix: str = "system/"
    pid: int | None = None
    gpu_library: Any = None
    use_psutil: bool = True
    create: bool = True  # False: only append to a file that exists (another node's sampler)
    samples: int = 0
    source: str | None = None
    gpus: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _probe: Any = None
    _gpus: Any = None
    _last: float = 0.0

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._loop, name="ledger-system", daemon=True)
        self._thread.start()
        return self

    def open(self) -> None:
        from ledger.write import system_nvml, system_probe

        self._probe = system_probe.open_probe(self.pid, use_psutil=self.use_psutil)
        self.source = getattr(self._probe, "source", None)
        self._gpus = system_nvml.open_gpus(self.gpu_library)
        self.gpus = len(self._gpus.handles) if self._gpus is not None else 0
        self._last = time.monotonic()

    def sample_once(self) -> bool:
        """One sample appended to the file; False when sampling has to stop."""
        values: dict[str, float] = {}
        try:
            if self._probe is not None:
                values.update(self._probe.sample())
            if self._gpus is not None:
                values.update(self._gpus.sample())
        except Exception:  # noqa: BLE001 - a probe that fails ends sampling, never the run
            return False
        self._last = time.monotonic()
        if not values:
            return self._probe is not None or self._gpus is not None
        elapsed = time.time() - self.t0
        lines = "".join(
            format_point(self.samples, self.prefix + name.removeprefix("system/"), round(value, 3), elapsed)
            for name, value in sorted(values.items())
        )
        try:
            if self.create and not self.path.exists():
                lines = SERIES_HEADER + lines
            if self.create:
                append(self.path, lines)
            else:
                _append_existing(self.path, lines)
        except OSError:
            return False
        self.samples += 1
        return True

    def _loop(self) -> None:
        # Nothing is imported or opened for a run that ends within its first second: a
        # short run (`ledger run -- true`) pays nothing for sampling.
        settle = min(self.interval / 2, 1.0)
        if self._stop.wait(settle):
            return
        try:
            self.open()
            wait = self.interval - settle  # the first sample still comes one interval after the start
            while not self._stop.wait(wait):
                wait = self.interval
                if not self.sample_once():
                    break
        except Exception:  # noqa: BLE001 - sampling never breaks a run
            return

    def stop(self, final: bool = True) -> None:
        """Stop sampling; one last sample covers the tail of a run that was sampled."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if final and self.samples and time.monotonic() - self._last >= min(1.0, self.interval / 2):
            self.sample_once()
        self.release()

    def release(self) -> None:
        """Let go of the GPU library's handles (no last sample)."""
        if self._gpus is not None:
            self._gpus.close()
            self._gpus = None

    def record_field(self, sidecar: str, directory: Path) -> dict[str, Any] | None:
        """The record's `system` field (after `stop`), other nodes' files merged in."""
        merge_rank_files(directory)
        if not self.path.exists():
            return None
        return {
            "path": f"{sidecar}/{SYSTEM_FILE}",
            "interval_s": self.interval,
            "samples": self.samples,
            "source": self.source,
            "gpus": self.gpus,
            "metrics": summarise(self.path),
        }


def _append_existing(path: Path, text: str) -> None:
    """Append to a file only while it exists (rank 0 deletes it once merged)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def merge_rank_files(directory: Path) -> None:
    """Append other nodes' samples to `system.tsv` and remove their files."""
    target = directory / SYSTEM_FILE
    for path in sorted(directory.glob("system-rank*.tsv")):
        try:
            data = path.read_text("utf-8", "replace")
            path.unlink()
        except OSError:
            continue
        complete = data[: data.rfind("\n") + 1]
        if complete:
            append(target, ("" if target.exists() else SERIES_HEADER) + complete)


# ---------------------------------------------------------------------- other nodes


def rendezvous_path(common_dir: Path, job: str) -> Path:
    return common_dir / RENDEZVOUS_DIR / f"{job}.json"


def publish(common_dir: Path, job: str, directory: Path, t0: float, interval: float) -> Path:
    """Tell the other nodes of a distributed job where rank 0's sidecar is."""
    path = rendezvous_path(common_dir, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    note = {"dir": str(directory), "t0": t0, "interval": interval, "owner": processes.owner()}
    tmp.write_text(json.dumps(note), encoding="utf-8")
    os.replace(tmp, path)
    return path


def remove_dead_rendezvous(common_dir: Path) -> list[Path]:
    """Remove the rendezvous notes whose rank 0 died without removing them (SIGKILL, out of
    memory): the notes removed. A note without an owner (older versions) is left alone."""
    removed = []
    for path in sorted((common_dir / RENDEZVOUS_DIR).glob("*.json")):
        try:
            owner = json.loads(path.read_text(encoding="utf-8")).get("owner")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(owner, str) and processes.owner_gone(owner):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class NodeSampler:
    """The sampler of a node other than rank 0's: waits to learn where the run's sidecar
    is (from `ledger run`'s environment or rank 0's rendezvous file), then samples into
    its own `system-rank<R>.tsv` there until its process ends."""

    def __init__(self, rank: int, directory: Path | None, rendezvous: Path | None, interval: float,
                 gpu_library: Any = None):  # fmt: skip
        self.rank = rank
        self.directory = directory
        self.rendezvous = rendezvous
        self.interval = interval
        self.gpu_library = gpu_library
        self.sampler: Sampler | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ledger-system-node", daemon=True)

    def start(self) -> NodeSampler:
        self._thread.start()
        return self

    def _find(self) -> tuple[Path, float, float] | None:
        if self.directory is not None:
            return self.directory, time.time(), self.interval
        if self.rendezvous is None:
            return None
        while not self._stop.is_set():
            try:
                info = json.loads(self.rendezvous.read_text(encoding="utf-8"))
                return Path(info["dir"]), float(info["t0"]), float(info["interval"])
            except (OSError, ValueError, KeyError, TypeError):
                self._stop.wait(min(0.5, self.interval))
        return None

    def _run(self) -> None:
        try:
            found = self._find()
            if found is None:
                return
            directory, t0, interval = found
            path = directory / RANK_FILE.format(rank=self.rank)
            if not directory.is_dir():
                return
            path.touch()
            self.sampler = Sampler(path, t0, interval or self.interval, prefix=f"system/rank{self.rank}/",
                                   gpu_library=self.gpu_library, create=False)  # fmt: skip
            self.sampler.open()
            while not self._stop.wait(self.sampler.interval):
                if not self.sampler.sample_once():
                    break
        except Exception:  # noqa: BLE001 - sampling never breaks training
            return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.sampler is not None:
            self.sampler.release()
