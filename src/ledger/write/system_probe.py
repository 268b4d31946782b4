"""What the machine is doing, sampled: through psutil when it is installed (the one module
that imports it), else from Linux's /proc, else nothing. Never an error.

Each `sample()` returns `{metric: value}` for that moment; rates (CPU %, disk and network
bytes per second) are over the time since the previous sample, so the first call only sets
the baseline and returns what needs none.

    system/cpu_percent            the whole machine, 0-100
    system/memory_used_bytes      the whole machine
    system/memory_percent
    system/disk_read_bytes_per_s, system/disk_write_bytes_per_s
    system/net_recv_bytes_per_s,  system/net_sent_bytes_per_s
    system/process_cpu_percent    the run's process and its children (100 = one core; psutil)
    system/process_rss_bytes      the same processes' resident memory (psutil)
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def _rates(now: dict[str, float], before: dict[str, float] | None, seconds: float) -> dict[str, float]:
    if before is None or seconds <= 0:
        return {}
    return {f"system/{k}_per_s": max(0.0, (v - before.get(k, v)) / seconds) for k, v in now.items()}


class PsutilProbe:
    """The machine and the process tree rooted at `pid`, through psutil."""

    source = "psutil"

    def __init__(self, psutil: Any, pid: int):
        self.ps = psutil
        self.root = psutil.Process(pid)
        self.procs: dict[int, Any] = {}
        self.before: dict[str, float] | None = None
        self.at = time.monotonic()
        psutil.cpu_percent(interval=None)  # the baseline of the next call
        self._tree_cpu()

    def _tree_cpu(self) -> tuple[float, float]:
        """CPU % since the last call and RSS of the root and its live descendants."""
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except self.ps.Error:
            procs = []
        cpu = rss = 0.0
        alive: dict[int, Any] = {}
        for proc in procs:
            known = self.procs.get(proc.pid, proc)  # the same object keeps cpu_percent's baseline
            try:
                cpu += known.cpu_percent(interval=None)
                rss += known.memory_info().rss
            except self.ps.Error:
                continue
            alive[proc.pid] = known
        self.procs = alive
        return cpu, rss

    def sample(self) -> dict[str, float]:
        ps = self.ps
        now = time.monotonic()
        elapsed, self.at = now - self.at, now
        memory = ps.virtual_memory()
        values = {
            "system/cpu_percent": float(ps.cpu_percent(interval=None)),
            "system/memory_used_bytes": float(memory.total - memory.available),
            "system/memory_percent": float(memory.percent),
        }
        counters: dict[str, float] = {}
        disk = ps.disk_io_counters()
        if disk is not None:
            counters.update(disk_read_bytes=disk.read_bytes, disk_write_bytes=disk.write_bytes)
        net = ps.net_io_counters()
        if net is not None:
            counters.update(net_recv_bytes=net.bytes_recv, net_sent_bytes=net.bytes_sent)
        values.update(_rates(counters, self.before, elapsed))
        self.before = counters
        cpu, rss = self._tree_cpu()
        values["system/process_cpu_percent"] = cpu
        values["system/process_rss_bytes"] = rss
        return values


class ProcProbe:
    """The machine from Linux's /proc, for when psutil is not installed."""

    source = "proc"

    def __init__(self, root: Path = Path("/proc")):
        self.root = root
        self.cpu = self._cpu_times()
        self.before = self._counters()
        self.at = time.monotonic()

    def _cpu_times(self) -> tuple[float, float]:
        fields = (self.root / "stat").read_text().split("\n", 1)[0].split()[1:]
        ticks = [float(x) for x in fields]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0.0)  # idle + iowait
        return sum(ticks[:8]), idle

    def _counters(self) -> dict[str, float]:
        counters = {"disk_read_bytes": 0.0, "disk_write_bytes": 0.0, "net_recv_bytes": 0.0, "net_sent_bytes": 0.0}
        try:
            for line in (self.root / "diskstats").read_text().splitlines():
                parts = line.split()
                # whole disks only (partitions would count twice); sectors are 512 bytes
                if len(parts) > 9 and not parts[2].startswith(("loop", "ram")) and not parts[2][-1].isdigit():
                    counters["disk_read_bytes"] += float(parts[5]) * 512
                    counters["disk_write_bytes"] += float(parts[9]) * 512
        except OSError:
            pass
        try:
            for line in (self.root / "net" / "dev").read_text().splitlines()[2:]:
                name, _, rest = line.partition(":")
                parts = rest.split()
                if name.strip() != "lo" and len(parts) > 8:
                    counters["net_recv_bytes"] += float(parts[0])
                    counters["net_sent_bytes"] += float(parts[8])
        except OSError:
            pass
        return counters

    def sample(self) -> dict[str, float]:
        now = time.monotonic()
        elapsed, self.at = now - self.at, now
        total, idle = self._cpu_times()
        busy = (total - self.cpu[0]) - (idle - self.cpu[1])
        span = total - self.cpu[0]
        self.cpu = (total, idle)
        values = {"system/cpu_percent": round(100.0 * busy / span, 1) if span > 0 else 0.0}
        meminfo = {}
        for line in (self.root / "meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts:
                meminfo[key] = float(parts[0]) * 1024
        if "MemTotal" in meminfo and "MemAvailable" in meminfo:
            used = meminfo["MemTotal"] - meminfo["MemAvailable"]
            values["system/memory_used_bytes"] = used
            values["system/memory_percent"] = round(100.0 * used / meminfo["MemTotal"], 1)
        counters = self._counters()
        values.update(_rates(counters, self.before, elapsed))
        self.before = counters
        return values


def _import_psutil() -> Any:
    import psutil

    return psutil


def open_probe(pid: int | None = None, *, use_psutil: bool = True) -> PsutilProbe | ProcProbe | None:
    """psutil's probe, else /proc's, else None (no way to sample this machine)."""
    if use_psutil:
        try:
            return PsutilProbe(_import_psutil(), pid or os.getpid())
        except Exception:  # noqa: BLE001 - not installed, or a platform it cannot read
            pass
    try:
        return ProcProbe()
    except (OSError, ValueError, IndexError):
        return None
