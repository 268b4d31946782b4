"""ledger init"""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger.cli import output
from ledger.write.scaffold import init_workspace

HELP = "set up a workspace (ledger.yaml, params.yaml, experiments/); never overwrites a file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--git", action="store_true", help="run `git init` if this is not a repository")
    parser.add_argument("--dvc", action="store_true", help="run `dvc init` if DVC is not set up")
    parser.add_argument("--experiment", help="the experiment name written into ledger.yaml")


def run(args: argparse.Namespace) -> int:
    created = init_workspace(Path.cwd(), git=args.git, dvc=args.dvc, experiment=args.experiment)
    if created:
        output.out("created " + ", ".join(created))
    else:
        output.out("nothing to do: the workspace is already set up")
    return 0
