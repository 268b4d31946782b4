"""`-p key=value` written into a pipeline's params file for one run, then undone.

DVC stages read `params.yaml` themselves, so overrides must be in the file while the
pipeline runs. The file's original bytes and mode are restored afterwards, whatever
happens. For YAML, each override replaces just the value on its own line when that gives
exactly the intended document (comments and layout survive, and the run's code patch shows
only the changed lines); otherwise the whole file is rewritten by ledger's YAML writer.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from ledger import yamlio
from ledger.capture.params import apply_overrides, parse_override
from ledger.errors import ConfigError, RecordError
from ledger.workspace import safe_relpath

if TYPE_CHECKING:
    from ledger.dvcpipeline import Pipeline

# `  key: value  # comment` in a block mapping (values holding `#` are checked afterwards)
_LINE = re.compile(r"^(?P<indent> *)(?P<key>[^\s:#'\"-][^:#]*?|'[^']*'|\"[^\"]*\") *:"
                   r"(?: +(?P<value>'[^']*'|\"[^\"]*\"|[^#'\"\s][^#]*?))?(?P<comment> +#.*)? *$")  # fmt: skip


def _scalar(value: Any) -> str | None:
    """`value` as one line of YAML, or None when it needs more than one line."""
    text = yamlio.dumps({"k": value})
    if text.count("\n") != 1 or not text.startswith("k: "):
        return None
    return text[3:-1]


def _edit_line(lines: list[str], path: list[str], value: Any) -> bool:
    """Replace the value of `path` in place; False when no single scalar line holds it."""
    scalar = _scalar(value)
    if scalar is None:
        return False
    stack: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        match = _LINE.match(line.rstrip("\n"))
        if not match:
            continue
        indent, key = len(match["indent"]), match["key"].strip().strip("'\"")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        here = [k for _, k in stack] + [key]
        if not match["value"]:
            stack.append((indent, key))
        elif here == path:
            comment = match["comment"] or ""
            lines[i] = f"{match['indent']}{match['key']}: {scalar}{comment}\n"
            return True
    return False


def render_yaml(original: str, current: dict[str, Any], overrides: list[str]) -> str:
    """The params file with the overrides: edited in place when that is exact."""
    wanted = apply_overrides(current, overrides)
    lines = original.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if all(_edit_line(lines, *parse_override(text)) for text in overrides):
        edited = "".join(lines)
        try:
            if yamlio.loads(edited, source="params") == wanted:
                return edited
        except RecordError:
            pass
    return yamlio.dumps(wanted)


def render(path: Path, original: bytes | None, current: dict[str, Any], overrides: list[str]) -> bytes:
    """The bytes `overrides_written` puts into the params file at `path` (`original` is its
    content, `current` its parsed value). ConfigError for a format it cannot write."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = apply_overrides(current, overrides)
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if suffix in (".yaml", ".yml"):
        text = (original or b"").decode("utf-8", "replace")
        return render_yaml(text, current, overrides).encode("utf-8")
    raise ConfigError(f"cannot write -p overrides into {path.name}: use a YAML or JSON params file")




def _to_exit(signum: int, frame: FrameType | None) -> None:
    # Turn a terminating signal into an exception, so the params file is restored.
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def overrides_written(pipeline: Pipeline | None, relpath: str, overrides: list[str]) -> Iterator[None]:
    """Write `-p` overrides into the pipeline's params file for the duration of the block,
    then put the original bytes (and mode) back, whatever happens: failure, SIGINT, SIGTERM.
    Without a pipeline or overrides, nothing is written."""
    if pipeline is None or not overrides:
        yield
        return
    from ledger.dvcpipeline import read_structured

    path = pipeline.root / safe_relpath(relpath, pipeline.root)
    original = path.read_bytes() if path.is_file() else None
    mode = path.stat().st_mode & 0o7777 if original is not None else None
    current: Any = {}
    if original is not None:
        current = read_structured(path, relpath) or {}
    if not isinstance(current, dict):
        raise ConfigError(f"{relpath}: must be a mapping of parameters: fix it and run again")
    new = render(path, original, current, overrides)
    previous = {}
    in_main = threading.current_thread() is threading.main_thread()  # signals: main only
    for signum in (signal.SIGTERM, signal.SIGHUP) if in_main else ():
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            previous[signum] = signal.signal(signum, _to_exit)
    try:
        yamlio.write_atomic(path, new)
        yield
    finally:
        try:
            if original is None:
                path.unlink(missing_ok=True)
            else:
                yamlio.write_atomic(path, original)
                if mode is not None:
                    os.chmod(path, mode)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
