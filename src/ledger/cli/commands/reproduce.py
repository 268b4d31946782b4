"""ledger reproduce"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ledger.cli import output
from ledger.core.workspace import Workspace

if TYPE_CHECKING:  # the reproduce machinery loads only when the command runs
    from ledger.reproduce.rerun import Result

HELP = "rerun a recorded run in a temporary worktree and compare metrics and artifacts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="ID", help="run id, unique prefix of one, or run name")
    parser.add_argument("--tolerance", type=float, default=None, metavar="X",
                        help="accept metrics within this relative difference (default: exact)")  # fmt: skip
    parser.add_argument("--strict-env", action="store_true",
                        help="fail when the environment differs from the recorded one")  # fmt: skip
    parser.add_argument("--trust", action="store_true",
                        help="run the command of a record from outside your branch's history")  # fmt: skip
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary worktree for inspection (its path is printed)")  # fmt: skip
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")


def _say(text: str) -> None:
    """Progress: shown on a terminal, quiet when piped."""
    if sys.stderr.isatty():
        output.err(f"ledger: {text}")


def run(args: argparse.Namespace) -> int:
    from ledger.reproduce.rerun import reproduce

    ws = Workspace.find()
    result = reproduce(
        ws, args.run, tolerance=args.tolerance, strict_env=args.strict_env, trust=args.trust,
        keep=args.keep, say=_say,
    )  # fmt: skip
    if args.format == "json":
        output.out(output.to_json(_as_json(result)))
    else:
        _print(result)
    if result.worktree is not None:
        output.err(f"ledger: kept the worktree at {result.worktree} (remove it with `git worktree remove`)")
    if result.verdict == "reproduced":
        return 0
    return 130 if result.record.get("status") == "killed" else 1


def _as_json(result: Result) -> dict[str, object]:
    return {
        "run": result.original["id"],
        "reproduction": result.record["id"],
        "verdict": result.verdict,
        "status": result.record.get("status"),
        "metrics": result.deltas,
        "artifacts": result.artifacts,
        "outputs": result.outputs,
        "stages": result.stages,
        "env_differences": result.env_differences,
        "params_differences": result.params_differences,
        "committed": result.committed.sha if result.committed else None,
    }


def _print(result: Result) -> None:
    rows = [
        [name, d["recorded"], d["reproduced"], d["delta"], "yes" if d["match"] else "NO"]
        for name, d in result.deltas.items()
    ]
    if rows:
        output.out(output.table(rows, ["metric", "recorded", "reproduced", "delta", "same"], "table"))
    arts = [
        [name, a["recorded"], a["reproduced"], "yes" if a["match"] else "NO"] for name, a in result.artifacts.items()
    ]
    if arts:
        output.out("")
        output.out(output.table(arts, ["artifact", "recorded md5", "reproduced md5", "same"], "table"))
    outs = [[path, o["recorded"], o["reproduced"], "yes" if o["match"] else "NO"] for path, o in result.outputs.items()]
    if outs:
        output.out("")
        output.out(output.table(outs, ["pipeline output", "recorded md5", "recomputed md5", "same"], "table"))
    if result.stages is not None:
        output.out("")
        output.out(f"stages recomputed: {', '.join(result.stages) or 'none'}")
    for title, lines in (("environment differences", result.env_differences),
                         ("parameter differences", result.params_differences)):  # fmt: skip
        if lines:
            output.out("")
            output.out(f"{title}:")
            for line in lines:
                output.out(f"  {line}")
    status = result.record.get("status")
    where = ""
    if result.committed and result.committed.sha:
        where = f", committed {result.committed.sha[:8]}"
    elif result.committed and result.committed.pending:
        where = f", not committed: {result.committed.pending}"
    output.out("")
    output.out(
        f"{result.verdict}: run {result.original['id']} "
        f"(rerun {status}, exit code {result.exit_code}; recorded as {result.record['id']}{where})"
    )
