"""ledger init"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from ledger.cli import output
from ledger.config import CONFIG_FILE, DEFAULT_TEXT
from ledger.errors import LedgerError
from ledger.record import RECORDS_DIR
from ledger.workspace import Workspace

HELP = "set up a workspace (ledger.yaml, params.yaml, experiments/); never overwrites a file"

PARAMS_TEXT = "# Parameters of your runs (read them with ledger.params(); override with -p).\n"
RECORDS_README = """\
# experiments/

One YAML record per run, written by ledger (`ledger run`, `ledger.start_run`).
Do not edit these files by hand: `ledger check` validates them.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--git", action="store_true", help="run `git init` if this is not a repository")
    parser.add_argument("--dvc", action="store_true", help="run `dvc init` if DVC is not set up")
    parser.add_argument("--experiment", help="the experiment name written into ledger.yaml")


def run(args: argparse.Namespace) -> int:
    here = Path.cwd()
    if args.git and not any((p / ".git").exists() for p in (here, *here.parents)):
        subprocess.run(["git", "init", "-q"], cwd=here, check=True)
        output.out("created a git repository")
    ws = Workspace.find(here)
    created = []
    config = ws.root / CONFIG_FILE
    if not config.exists():
        text = DEFAULT_TEXT
        if args.experiment:
            text = text.replace("experiment: default ", f"experiment: {args.experiment} ", 1)
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
    if args.dvc and not (ws.root / ".dvc").exists():
        proc = subprocess.run(["dvc", "init", "-q"], cwd=ws.root, capture_output=True, text=True)
        if proc.returncode != 0:
            raise LedgerError(f"dvc init failed: {proc.stderr.strip() or proc.returncode}")
        created.append(".dvc/")
    if created:
        output.out("created " + ", ".join(created))
    else:
        output.out("nothing to do: the workspace is already set up")
    return 0
