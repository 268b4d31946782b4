"""Which processes run each trial of `ledger sweep --optimize`, so that a trial a killed
sweep left RUNNING in its study can be failed.

The sweep that asked for a trial tells the study its outcome. Killed with SIGKILL, it
tells nothing, and the trial stays RUNNING in the study's journal for good (Optuna never
times one out). So while a trial runs, the sweep keeps a note of it in the git directory
(`ledger-trials/<key>-<number>.json`: the journal file, the study, the trial's number and
the processes running it, the sweep and the trial's `ledger run`), and removes the note
once it told the outcome. The next write command's tidy step (`ledger.write.liveness`)
fails each noted trial whose processes have all ended, through Optuna's own API
(`ledger.write.optuna`), and removes its note. Finding no note costs one directory
listing: Optuna is imported only when a dead trial is found.

A trial run by processes on another host is never judged from here (`processes.owner_gone`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ledger.core import processes
from ledger.errors import LedgerError

NOTES_DIR = "ledger-trials"


def note_path(common_dir: Path, storage: Path, study: str, number: int) -> Path:
    key = hashlib.sha256(f"{storage}\0{study}".encode()).hexdigest()[:16]
    return common_dir / NOTES_DIR / f"{key}-{number}.json"


def _write(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def write(common_dir: Path, storage: Path, study: str, number: int) -> Path:
    """Note that this process runs trial `number` (its path, for `add_process` and `remove`)."""
    path = note_path(common_dir, storage, study, number)
    _write(path, {"storage": str(storage), "study": study, "number": number, "owners": [processes.owner()]})
    return path


def add_process(path: Path, pid: int) -> None:
    """Local process `pid` runs the trial too (its `ledger run`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    data["owners"] = [*data.get("owners", []), processes.owner(pid)]
    _write(path, data)


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def fail_dead(common_dir: Path) -> list[str]:
    """Fail every noted trial whose processes have all ended and that is still RUNNING in
    its study, and remove its note: `<study> #<number>` of each trial failed."""
    directory = common_dir / NOTES_DIR
    if not directory.is_dir():
        return []
    failed = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            storage, study, number = Path(data["storage"]), str(data["study"]), int(data["number"])
            owners = [str(o) for o in data["owners"]]
        except FileNotFoundError:
            continue  # its sweep told the outcome meanwhile
        except (OSError, ValueError, KeyError, TypeError):
            remove(path)  # notes are written whole (renamed into place): this one is not ledger's
            continue
        if not all(processes.owner_gone(owner) for owner in owners):
            continue
        if storage.is_file():
            from ledger.write import optuna as sweep_optuna

            try:
                if sweep_optuna.fail_if_running(storage, study, number):
                    failed.append(f"{study} #{number}")
            except LedgerError:
                continue  # no Optuna here: the note stays for a command that has it
        remove(path)
    return failed
