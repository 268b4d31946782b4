"""The machine: CPU model, cores, memory and GPUs (through nvidia-smi when present)."""

from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
from typing import Any


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return platform.processor() or platform.machine() or None


def _memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def gpus(timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """One entry per NVIDIA GPU, from `nvidia-smi`; empty when there is none."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    out = subprocess.run(
        [exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, timeout=timeout_s, check=True,
    ).stdout  # fmt: skip
    found = []
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3:
            continue
        name, memory_mib, driver = parts
        found.append(
            {
                "name": name or None,
                "memory_bytes": int(float(memory_mib) * 1024 * 1024) if memory_mib else None,
                "driver": driver or None,
            }
        )
    return found


@functools.lru_cache(maxsize=1)
def capture_hardware() -> dict[str, Any]:
    try:
        gpu_list = gpus()
    except (OSError, subprocess.SubprocessError, ValueError):
        gpu_list = []
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "gpus": gpu_list,
    }
