"""`-p key=value` written into a pipeline's params file for one run, then undone.

DVC stages read `params.yaml` themselves, so overrides must be in the file while the
pipeline runs. The file's original bytes and mode are restored afterwards, whatever
happens. For YAML, each override replaces just the value on its own line when that gives
exactly the intended document (comments and layout survive, and the run's code patch shows
only the changed lines); otherwise the whole file is rewritten by ledger's YAML writer.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import signal
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from ledger import gitstore
from ledger.core import processes, yamlio
from ledger.core.workspace import safe_relpath
from ledger.dvc.pipeline import Pipeline, read_structured
from ledger.errors import ConfigError, LedgerError, LedgerWarning, RecordError
from ledger.write.capture.params import apply_overrides, parse_override

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


NOTES = "ledger-overrides"


def notes_dir(root: Path) -> Path | None:
    """Where `ledger run -p` notes how to undo its overrides: in the git directory, so that
    no branch can bring a note in (a note names a file to overwrite)."""
    try:
        return gitstore.common_dir(root) / NOTES
    except LedgerError:
        return None


def _to_exit(signum: int, frame: FrameType | None) -> None:
    # Turn a terminating signal into an exception, so the params file is restored.
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def overrides_written(
    pipeline: Pipeline | None, relpath: str, overrides: list[str], notes: Path | None = None
) -> Iterator[None]:
    """Write `-p` overrides into the pipeline's params file for the duration of the block,
    then put the original bytes (and mode) back, whatever happens: failure, SIGINT, SIGTERM.
    For what nothing can catch (SIGKILL, a power cut), a note in `notes` says how to put it
    back, and `recover` does so once the process is gone (any later ledger command).
    While a live process's note names the file, no other run may override it (its
    "original" would be that run's overrides): LedgerError, before anything runs.
    Without a pipeline or overrides, nothing is written."""
    if pipeline is None or not overrides:
        yield
        return
    path = pipeline.root / safe_relpath(relpath, pipeline.root)
    with _held(notes) if notes is not None else contextlib.nullcontext():
        if notes is not None:
            _recover(notes)  # a killed run's overrides must not be taken for the original
            _refuse_in_use(notes, path, relpath)
        original = path.read_bytes() if path.is_file() else None
        mode = path.stat().st_mode & 0o7777 if original is not None else None
        current: Any = {}
        if original is not None:
            current = read_structured(path, relpath) or {}
        if not isinstance(current, dict):
            raise ConfigError(f"{relpath}: must be a mapping of parameters: fix it and run again")
        new = render(path, original, current, overrides)
        # Once the note is there, other processes see the file as taken (see _refuse_in_use).
        note = _write_note(notes, path, original, mode, new) if notes is not None else None
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
            _put_back(path, original, mode)
            if note is not None:
                note.unlink(missing_ok=True)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


MUTEX = "mutex"  # never `*.lock`: nothing ledger leaves under .git may look like git's locks


@contextlib.contextmanager
def _held(notes: Path) -> Iterator[None]:
    """Held (briefly) while notes are checked, written or acted on: one process at a time.
    An flock: a killed holder releases it with its last file descriptor."""
    notes.mkdir(parents=True, exist_ok=True)
    fd = os.open(notes / MUTEX, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _refuse_in_use(notes: Path, path: Path, relpath: str) -> None:
    """LedgerError when another `ledger run -p` has overridden `path` and has not put it
    back (it runs, or it ran on another host: `_recover` has removed the dead ones here)."""
    for note in sorted(notes.glob("*.json")):
        try:
            data = json.loads(note.read_text(encoding="utf-8"))
            pid, other = int(data["pid"]), Path(data["path"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _same_file(other, path):
            where = "" if data.get("host") == processes.host() else f" on {data.get('host')}"
            raise LedgerError(
                f"{relpath} holds the -p overrides of another `ledger run` (pid {pid}{where}) until it "
                "ends: wait for it, or run each in its own checkout (`ledger sweep --worktree`)"
            )


def _put_back(path: Path, original: bytes | None, mode: int | None) -> None:
    if original is None:
        path.unlink(missing_ok=True)
    else:
        yamlio.write_atomic(path, original)
        if mode is not None:
            os.chmod(path, mode)


def _write_note(notes: Path, path: Path, original: bytes | None, mode: int | None, new: bytes) -> Path:
    """How to undo the override, written before the override itself (atomically)."""
    pid = os.getpid()
    note = notes / f"{pid}.json"
    notes.mkdir(parents=True, exist_ok=True)
    yamlio.write_atomic(note, json.dumps({
        "path": str(path),
        "original": base64.b64encode(original).decode("ascii") if original is not None else None,
        "mode": mode,
        "written": hashlib.sha256(new).hexdigest(),
        "pid": pid,
        "host": processes.host(),
        "started": processes.started(pid),
    }))  # fmt: skip
    return note


def recover(notes: Path) -> list[Path]:
    """Put back the params files that `ledger run -p` processes, now gone, left overridden
    (killed with SIGKILL, out of memory, a power cut); the files put back. A file changed
    since the override was written is left as it is, with a warning."""
    if not notes.is_dir():
        return []
    try:
        with _held(notes):
            return _recover(notes)
    except PermissionError:  # a read-only repository: nothing ledger could have left there
        return []


def _recover(notes: Path) -> list[Path]:
    try:
        found = sorted(notes.glob("*.json"))
    except OSError:
        return []
    restored = []
    for note in found:
        try:
            data = json.loads(note.read_text(encoding="utf-8"))
            pid, path = int(data["pid"]), Path(data["path"])
            if data.get("host") != processes.host() or not processes.gone(pid, data.get("started")):
                continue  # still running, or another machine's
            original = base64.b64decode(data["original"]) if data.get("original") is not None else None
            current = path.read_bytes() if path.is_file() else None
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if current == original or (current is None and not path.parent.is_dir()):
            pass  # killed before the override was written, put back already, or its worktree is gone
        elif current is not None and hashlib.sha256(current).hexdigest() == data.get("written"):
            _put_back(path, original, data.get("mode"))
            restored.append(path)
        else:
            warnings.warn(
                f"{path} changed after a killed `ledger run -p` overrode it: left as it is",
                LedgerWarning, stacklevel=2,
            )  # fmt: skip
        note.unlink(missing_ok=True)
    return restored
