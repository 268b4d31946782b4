"""`ledger init`: create what a workspace is missing, never overwriting a user's file."""

from __future__ import annotations

from pathlib import Path

from ledger import gitstore
from ledger.core.config import CONFIG_FILE, DEFAULT_TEXT
from ledger.core.record import RECORDS_DIR
from ledger.core.workspace import Workspace

PARAMS_TEXT = "# Parameters of your runs (read them with ledger.params(); override with -p).\n"
RECORDS_README = """\
# experiments/

One YAML record per run, written by ledger (`ledger run`, `ledger.start_run`).
Do not edit these files by hand: `ledger check` validates them.
"""


def init_workspace(start: Path, *, git: bool = False, dvc: bool = False, experiment: str | None = None) -> list[str]:
    """Set up the workspace at or above `start`; what was created, in order."""
    created = []
    if git and not any((p / ".git").exists() for p in (start, *start.parents)):
        gitstore.init_repository(start)
        created.append("a git repository")
    ws = Workspace.find(start)
    config = ws.root / CONFIG_FILE
    if not config.exists():
        text = DEFAULT_TEXT
        if experiment:
            text = text.replace("experiment: default ", f"experiment: {experiment} ", 1)
        config.write_text(text, encoding="utf-8")
        created.append(CONFIG_FILE)
    params = ws.root / "params.yaml"
    if not params.exists():
        params.write_text(PARAMS_TEXT, encoding="utf-8")
        created.append("params.yaml")
    readme = ws.root / RECORDS_DIR / "README.md"
    if not readme.exists():
        readme.parent.mkdir(parents=True, exist_ok=True)
        readme.write_text(RECORDS_README, encoding="utf-8")
        created.append(f"{RECORDS_DIR}/README.md")
    if dvc and not (ws.root / ".dvc").exists():
        from ledger.dvc import data as dvcdata

        dvcdata.init(ws.root)
        created.append(".dvc/")
    return created
