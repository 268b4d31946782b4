"""Reproducing a DVC pipeline by recomputation, never by checking out recorded outputs.

`plan` sorts a record's data by the DAG of the reproduction's own `dvc.yaml`:
- true inputs (deps no stage produces: raw data, code, params; and the outputs of frozen
  stages, which `dvc repro` never remakes) are put in place at their recorded hashes;
- outputs are left out, to be remade. The recorded `dvc repro` (or `dvc exp run`) gets
  `--force` (every stage of its plan runs, and DVC's run-cache is not consulted) and
  `--no-run-cache` (`dvc repro`), so every output is recomputed; DVC says which stages it ran
  ("Running stage 'train':"), and those stages' outputs are compared with the record.
- any other command (`python evaluate.py` in a DVC repository) reads pipeline outputs made
  before it: they are its inputs, so they are put in place like any input.

Nothing here imports DVC; restoring objects is `ledger.dvc.data.restore`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.dvc import dag
from ledger.dvc.pipeline import is_dvc_command

# DVC's own line for a stage it runs (stable since DVC 1.0; printed on stdout).
STAGE_LINE = re.compile(r"^Running stage '(?P<stage>[^']+)':")

_FORCE = {"repro": ("--force", "--no-run-cache"), "run": ("--force",)}
_QUIET = ("-q", "--quiet")


@dataclass(frozen=True)
class Plan:
    argv: list[str]  # the command to run: a DVC pipeline command forced to recompute
    pipeline: bool  # the command is `dvc repro` / `dvc exp run`
    inputs: dict[str, str] = field(default_factory=dict)  # path -> md5 to put in place
    outputs: dict[str, str] = field(default_factory=dict)  # path -> recorded md5, to remake
    producers: dict[str, str] = field(default_factory=dict)  # output path -> its stage
    compared: frozenset[str] = frozenset()  # outputs whose hash is compared (cached `outs:`)
    tracked: frozenset[str] = frozenset()  # inputs DVC keeps (a `.dvc` file's, or a stage's)


def _subcommand(argv: list[str]) -> int | None:
    """Index of the DVC subcommand word (`repro`, or `run` of `exp run`) in `argv`."""
    if not is_dvc_command(argv):
        return None
    start = 1 if not argv[0].rsplit("/", 1)[-1].startswith("python") else 3
    words = [i for i in range(start, len(argv)) if not argv[i].startswith("-")]
    if words and argv[words[0]] == "repro":
        return words[0]
    if len(words) > 1 and argv[words[0]] == "exp" and argv[words[1]] == "run":
        return words[1]
    return None


def is_pipeline_command(argv: list[str]) -> bool:
    """`dvc repro ...` or `dvc exp run ...` (also through `python -m dvc`)."""
    return _subcommand(argv) is not None


def forced(argv: list[str]) -> list[str]:
    """A pipeline command made to recompute every stage it plans (and to say which it
    runs: `--quiet` would hide that); any other command as it is."""
    index = _subcommand(argv)
    if index is None:
        return list(argv)
    extra = [flag for flag in _FORCE[argv[index]] if flag not in argv and not (flag == "--force" and "-f" in argv)]
    rest = [arg for arg in argv[index + 1 :] if arg not in _QUIET]
    head = [arg for arg in argv[: index + 1] if arg not in _QUIET]
    return [*head, *extra, *rest]


def stages_ran(lines: list[str] | tuple[str, ...]) -> list[str]:
    """The stages DVC said it ran, in order, from its output lines."""
    found = []
    for line in lines:
        match = STAGE_LINE.match(line.strip())
        if match and match["stage"] not in found:
            found.append(match["stage"])
    return found


def plan(worktree: Path, data: list[dict[str, Any]], argv: list[str]) -> Plan:
    """What to put in place before rerunning `argv` in `worktree`, and what to remake.

    `data` is the recorded data (DVC-declared entries; ledger.yaml data is not DVC's)."""
    graph = dag.read(worktree)
    pipeline = is_pipeline_command(argv)
    inputs: dict[str, str] = {}
    outputs: dict[str, str] = {}
    producers: dict[str, str] = {}
    tracked: set[str] = set()
    for entry in data:
        path, md5 = entry.get("path"), entry.get("hash")
        if not isinstance(path, str) or not isinstance(md5, str) or entry.get("source") == "ledger.yaml":
            continue
        stage = graph.producer(path)
        if stage is not None or entry.get("role") == "data":
            tracked.add(path)
        if pipeline and stage is not None and stage not in graph.frozen:
            outputs[path] = md5
            producers[path] = stage
        else:
            inputs.setdefault(path, md5)
    compared = frozenset(p for p in outputs if p in graph.data_outs and p not in graph.uncached)
    return Plan(forced(argv), pipeline, inputs, outputs, producers, compared, frozenset(tracked & set(inputs)))
