"""Formatting shared by the HTML and Markdown reports: numbers, durations, record text."""

from __future__ import annotations

import math
import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: Any) -> str:
    """Record text with control characters (ANSI escapes included) made visible as `?`."""
    return _CONTROL.sub("?", "" if text is None else str(text))


def number(value: Any, signed: bool = False) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    if math.isnan(value):
        return "nan"
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def size(value: Any) -> str:
    """Bytes, readable: `118.5 KiB`, `3.2 MiB`."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    amount = float(value)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(amount) < 1024 or unit == "TiB":
            return f"{int(amount)} bytes" if unit == "bytes" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def delta_class(delta: Any, direction: str) -> str:
    """`better`, `worse` or `same` for a delta under a metric's direction."""
    if not isinstance(delta, (int, float)) or isinstance(delta, bool) or math.isnan(delta) or delta == 0:
        return "same"
    return "better" if (delta > 0) == (direction == "max") else "worse"


def duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def when(ts: Any) -> str:
    """`2026-11-27T05:12:03.123Z` -> `2026-11-27 05:12 UTC`."""
    return f"{str(ts)[:16].replace('T', ' ')} UTC" if ts else "—"


def short(sha: Any, n: int = 10) -> str:
    return str(sha)[:n] if sha else "—"


def paragraphs(text: Any) -> list[str]:
    """Free text split into paragraphs at blank lines (each may keep single newlines)."""
    return [p.strip("\n") for p in re.split(r"\n\s*\n", clean(text)) if p.strip()]


def costs(amounts: dict[str, float]) -> str:
    return ", ".join(f"{v:.2f} {k}" for k, v in amounts.items()) or "—"


def first_line(text: Any, limit: int = 160) -> str:
    line = clean(text).strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


SYSTEM_HEADERS = ["runs sampled", "mean CPU", "peak process memory", "peak GPU memory", "mean GPU use"]


def system_row(system: dict[str, Any]) -> list[str]:
    """The report's row of sampled system metrics (`—` where nothing was sampled)."""

    def percent(value: Any) -> str:
        return "—" if value is None else f"{value:.0f} %"

    return [
        str(system["runs"]),
        percent(system.get("cpu_percent")),
        size(system.get("peak_rss_bytes")),
        size(system.get("peak_gpu_memory_bytes")),
        percent(system.get("gpu_utilization_percent")),
    ]
