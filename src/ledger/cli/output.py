"""The only place that writes to the terminal: tables, JSON, CSV, messages.

Text from records is untrusted: control characters (ANSI escapes included) are replaced
before anything reaches a terminal.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from ledger.core.jsonsafe import plain

FORMATS = ("table", "markdown", "json", "csv")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def sanitize(text: str) -> str:
    """Replace control characters (keeping newlines and tabs) with a visible `?`."""
    return _CONTROL.sub("?", text)


def out(text: str = "") -> None:
    sys.stdout.write(sanitize(text) + "\n")


def err(text: str) -> None:
    sys.stderr.write(sanitize(text) + "\n")


def to_json(value: Any) -> str:
    return json.dumps(plain(value), indent=2, ensure_ascii=False, allow_nan=False)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(plain(value), ensure_ascii=False, sort_keys=True)
    return str(value)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], fmt: str) -> str:
    """Rows as a table (tabulate), a GitHub markdown table, or CSV."""
    cells = [[cell(v) for v in row] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(cells)
        return buffer.getvalue().rstrip("\n")
    from tabulate import tabulate

    if fmt == "markdown":
        cells = [[markdown_cell(c) for c in row] for row in cells]
        headers = [markdown_cell(h) for h in headers]
        return tabulate(cells, headers=list(headers), tablefmt="github", disable_numparse=True)
    # One line per row: a newline in a record's text never starts a row of its own.
    cells = [[_one_line(c) for c in row] for row in cells]
    return tabulate(cells, headers=list(headers), tablefmt="simple", disable_numparse=True)


def _one_line(text: str) -> str:
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_WORD_JOINER = "\u2060"


def markdown_cell(text: str) -> str:
    """Record text as one inert markdown table cell: no row breaks, no HTML, no links,
    no emphasis (a record from someone's branch is untrusted)."""
    text = " ".join(text.split())
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("://", _WORD_JOINER + "://").replace("@", "@" + _WORD_JOINER)
    return re.sub(r"(?i)\bwww\.", "www" + _WORD_JOINER + ".", text)


class Progress:
    """`ledger: reading records 1200/10000` on a terminal, after a moment; silent when piped."""

    def __init__(self, what: str = "reading records", delay_s: float = 0.5):
        self.enabled = sys.stderr.isatty()
        self.start = time.monotonic()
        self.what = what
        self.delay_s = delay_s
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.start < self.delay_s:
            return
        sys.stderr.write(f"\rledger: {self.what} {done}/{total}")
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")  # clear the progress line
            sys.stderr.flush()
            self.shown = False
