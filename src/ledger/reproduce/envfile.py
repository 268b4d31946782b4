"""Recorded environments: as a pip requirements file, and compared with the current one.

A record's `env.file` names the content-addressed package list
(`experiments/envs/<id>.yaml`) written when the run started. Records and their files may
come from someone else's branch, so every name and version is checked before it is
written into a requirements file (no pip options, no URLs, no line breaks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ledger.core import yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, RecordError
from ledger.read.api import Loaded
from ledger.read.locate import companion_file
from ledger.write.capture.environment import environment_document

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,200}[A-Za-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,100}$")
# How a distribution not from a package index was installed (PEP 610), in words.
SOURCES = {
    "editable": "an editable install of a local directory", "directory": "a local directory",
    "vcs": "a version-control checkout", "file": "a local file", "url": "a direct URL",
}  # fmt: skip
# Never on a package index: ledger itself is installed from its source.
UNPUBLISHED = frozenset({"ledger-ml"})


@dataclass(frozen=True)
class Environment:
    """One recorded environment: interpreter and installed packages."""

    id: str | None
    python: str | None
    implementation: str | None
    system: str | None
    packages: dict[str, str]
    skipped: tuple[str, ...] = ()  # entries that are not a plain name and version
    local: dict[str, str] | None = None  # name -> how it was installed, when not from an index


def recorded(ws: Workspace, item: Loaded) -> Environment:
    """The environment a run recorded; LedgerError when the record or its file lacks it."""
    field = item.record.get("env") or {}
    relpath = field.get("file")
    run_id = item.record["id"]
    if not relpath:
        raise LedgerError(f"run {run_id} recorded no environment file: nothing to rebuild")
    data = companion_file(ws, item, relpath)
    if data is None:
        raise LedgerError(
            f"the environment file {relpath} of run {run_id} is missing: fetch the branch that holds it (`git fetch`)"
        )
    try:
        doc = yamlio.loads(data, source=relpath)
    except RecordError as exc:
        raise LedgerError(f"{exc}: the environment file is unusable") from None
    if not isinstance(doc, dict):
        raise LedgerError(f"{relpath}: not an environment file")
    return from_document(doc, field.get("id"))


def from_document(doc: dict[str, Any], env_id: str | None = None) -> Environment:
    packages: dict[str, str] = {}
    skipped = []
    raw = doc.get("packages")
    for name, version in sorted((raw if isinstance(raw, dict) else {}).items(), key=str):
        if isinstance(name, str) and _NAME.match(name) and _VERSION.match(str(version)):
            packages[name] = str(version)
        else:
            skipped.append(str(name)[:80])
    raw_local = doc.get("local")
    local = {
        str(name): str(source)
        for name, source in (raw_local if isinstance(raw_local, dict) else {}).items()
        if isinstance(name, str) and _NAME.match(name) and str(source) in SOURCES
    }
    return Environment(
        id=env_id if env_id is not None else (doc.get("id") if isinstance(doc.get("id"), str) else None),
        python=_text(doc.get("python")),
        implementation=_text(doc.get("implementation")),
        system=_text(doc.get("system")),
        packages=packages,
        skipped=tuple(skipped),
        local=local,
    )


def current() -> Environment:
    """The environment ledger runs in now."""
    return from_document(environment_document())


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int, float)) else None


def requirements(env: Environment, run_id: str) -> str:
    """A pip requirements file pinning every recorded package that a package index can
    serve. The interpreter, and distributions installed from a local directory, a VCS or a
    URL (and ledger itself), are comments: pinning them would make `pip install -r` fail."""
    lines = [
        f"# environment of ledger run {run_id}" + (f" (env {env.id})" if env.id else ""),
        f"# python {env.python or 'unknown'} ({env.implementation or 'unknown'}, {env.system or 'unknown system'})",
    ]
    if env.skipped:
        lines.append(f"# left out (not a plain name and version): {', '.join(env.skipped)}")
    local = env.local or {}
    unpinned = [name for name in env.packages if name in local or name in UNPUBLISHED]
    if unpinned:
        lines.append("# not on a package index; install these from their source (e.g. pip install -e PATH):")
    for name in unpinned:
        how = SOURCES.get(local.get(name, ""), "its source")
        lines.append(f"#   {name} {env.packages[name]} (installed from {how})")
    lines += [f"{name}=={version}" for name, version in env.packages.items() if name not in unpinned]
    return "\n".join(lines) + "\n"


def differences(recorded_env: Environment, now: Environment) -> list[str]:
    """What differs between a recorded environment and the current one, sorted, one line
    each: `python 3.11.4 -> 3.11.9`, `numpy 1.26.0 -> 2.0.0`, `numpy missing (recorded
    1.26.0)`, `rich 13.0 not recorded`."""
    lines = []
    for label, before, after in (
        ("python", recorded_env.python, now.python),
        ("implementation", recorded_env.implementation, now.implementation),
        ("system", recorded_env.system, now.system),
    ):
        if before != after:
            lines.append(f"{label} {before} -> {after}")
    names = sorted(set(recorded_env.packages) | set(now.packages))
    for name in names:
        before, after = recorded_env.packages.get(name), now.packages.get(name)
        if before == after:
            continue
        if after is None:
            lines.append(f"{name} missing (recorded {before})")
        elif before is None:
            lines.append(f"{name} {after} not recorded")
        else:
            lines.append(f"{name} {before} -> {after}")
    return lines
