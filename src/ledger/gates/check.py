"""`ledger check`: validate records before they enter (or while they arrive in) history.

Every record is held to the rules a reader relies on (SPEC §9): size and depth limits, no
aliases, custom tags or duplicate keys, the schema, an id that matches the file name, no
path that leaves the repository or its own sidecar, and no unredacted secret. Each problem
is one line naming the file and the field (a JSON pointer).

Sources: the staged index (a pre-commit hook), a revision range (CI, for records that came
from someone else, read from git objects without a checkout), or files in the working tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import gitstore
from ledger.core import record, redact, schema, yamlio
from ledger.core.workspace import Workspace, safe_relpath
from ledger.errors import LedgerError, RecordError, UsageError
from ledger.read.api import changed_since_fork, resolve_revision
from ledger.registry import DECISION_PATH_RE

MAX_PROBLEMS_PER_FILE = 20


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.pointer or '/'}: {self.message}"


@dataclass(frozen=True)
class Result:
    checked: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _kind(path: str) -> str | None:
    """`record`, `env`, `decision` or `stray` for YAML files ledger owns; None for anything else."""
    if not path.startswith(record.RECORDS_DIR + "/") or not path.endswith((".yaml", ".yml")):
        return None
    if record.run_id_from_path(path):
        return "record"
    if DECISION_PATH_RE.match(path):
        return "decision"
    if path.startswith(record.ENVS_DIR + "/") and path.count("/") == 2:
        return "env"
    # Anything inside a run's sidecar folder is that run's business (plots, artifacts).
    return "stray" if path.count("/") <= 2 else None


def _pointer(parts: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _strings(value: Any, parts: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any, str | None]]:
    """(path, value, key) of every scalar in a parsed record."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*parts, key))
            if not isinstance(item, (dict, list)):
                yield (*parts, key), item, str(key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                yield from _strings(item, (*parts, index))
            else:
                yield (*parts, index), item, None


def _secrets(rec: Any) -> list[tuple[str, str]]:
    """Unredacted credentials: any string that redact.py would change, and any value under a
    secret-named key of params or tags (the fields ledger redacts by key on write)."""
    found = []
    for parts, value, key in _strings(rec):
        by_key = parts[:1] in (("params",), ("tags",)) and key is not None
        if isinstance(value, str) and redact.redact_text(value) != value:
            found.append((_pointer(parts), "contains a credential: redact it (and revoke it)"))
        elif by_key and redact.redact(value, str(key)) != value:
            found.append((_pointer(parts), f"{key!r} holds a secret value: use <redacted>"))
    return found


def _path_fields(rec: dict[str, Any]) -> Iterator[tuple[str, Any, str | None]]:
    """(pointer, value, folder it must stay in) of every path a record holds."""
    sidecar = record.sidecar_dir(rec["id"]) if record.is_run_id(str(rec.get("id"))) else None
    series = rec.get("series")
    if isinstance(series, dict) and "path" in series:
        yield "/series/path", series["path"], sidecar
    code = rec.get("code")
    if isinstance(code, dict) and code.get("patch") is not None:
        yield "/code/patch", code["patch"], sidecar
    env = rec.get("env")
    if isinstance(env, dict) and env.get("file") is not None:
        yield "/env/file", env["file"], record.ENVS_DIR
    command = rec.get("command")
    if isinstance(command, dict) and "cwd" in command:
        yield "/command/cwd", command["cwd"], None
    for name in ("artifacts", "data"):
        items = rec.get(name)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict) and "path" in item:
                    yield f"/{name}/{index}/path", item["path"], None


def _paths(rec: dict[str, Any], root: Path) -> list[tuple[str, str]]:
    found = []
    for pointer, value, folder in _path_fields(rec):
        if not isinstance(value, str):
            continue  # the schema reports the type
        if value == ".":
            continue  # command.cwd at the repository root
        try:
            safe_relpath(value, root)
        except LedgerError as exc:
            found.append((pointer, str(exc).split(": ", 1)[-1].replace("paths", "a path")))
            continue
        if folder and not value.startswith(folder + "/"):
            found.append((pointer, f"{value!r} must be inside {folder}/"))
    return found


def check_blob(data: bytes | None, path: str, root: Path, source: str | None = None) -> list[Problem]:
    """Every problem of one file; `path` is where it lives in the repository."""
    label = source or path
    kind = _kind(path)
    if kind == "stray":
        return [Problem(label, "", "not a record file name: records are experiments/YYYY-MM/<id>.yaml")]
    if data is None or len(data) > yamlio.MAX_BYTES:
        return [Problem(label, "", f"larger than {yamlio.MAX_BYTES} bytes")]
    try:
        parsed = yamlio.loads(data, source=label)
    except RecordError as exc:
        return [Problem(label, exc.pointer or "", exc.reason)]
    if kind == "env":
        if not isinstance(parsed, dict):
            return [Problem(label, "", "an environment file must be a mapping")]
        return [Problem(label, p, m) for p, m in _secrets(parsed)]
    if kind == "decision":
        return _check_decision(parsed, path, label)
    try:
        schema.check_version(parsed, label)
    except RecordError as exc:
        return [Problem(label, exc.pointer or "", exc.reason)]
    found: dict[str, str] = {}
    for pointer, message in _paths(parsed, root):
        found.setdefault(pointer, message)
    for pointer, message in schema.errors(parsed):
        found.setdefault(pointer, message[:300])
    for pointer, message in _secrets(parsed):
        found.setdefault(pointer, message)
    run_id = record.run_id_from_path(path)
    if run_id and parsed.get("id") != run_id:
        found.setdefault("/id", f"{parsed.get('id')!r} does not match the file name {run_id}")
    problems = sorted(Problem(label, p, m) for p, m in found.items())
    return problems[:MAX_PROBLEMS_PER_FILE]


def _check_decision(parsed: Any, path: str, label: str) -> list[Problem]:
    """A model decision (`ledger select`): its schema, no secrets, and the model and
    version its path names."""
    found = dict(schema.errors(parsed, "decision"))
    for pointer, message in _secrets(parsed):
        found.setdefault(pointer, message)
    match = DECISION_PATH_RE.match(path)
    if match and isinstance(parsed, dict) and not found:
        if parsed.get("model") != match[1]:
            found["/model"] = f"{parsed.get('model')!r} does not match the folder {match[1]}"
        if parsed.get("version") != match[2]:
            found["/version"] = f"{parsed.get('version')!r} does not match the file name {match[2]}"
    return sorted(Problem(label, p, m[:300]) for p, m in found.items())[:MAX_PROBLEMS_PER_FILE]


def _check_many(ws: Workspace, blobs: dict[str, str], label: str) -> Result:
    paths = sorted(p for p in blobs if _kind(p))
    problems: list[Problem] = []
    if not paths:
        return Result(0, ())
    contents = gitstore.read_blobs(ws.root, [blobs[p] for p in paths], yamlio.MAX_BYTES)
    for path, (_, data) in zip(paths, contents, strict=True):
        problems += check_blob(data, path, ws.root, f"{label}{path}")
    return Result(len(paths), tuple(problems))


def check_staged(ws: Workspace) -> Result:
    """Records staged for the next commit, read from the index being committed."""
    index = gitstore.active_index(ws.root)
    changed = {p for status, p in gitstore.staged_paths(ws.root, index, record.RECORDS_DIR) if status != "D"}
    blobs = {p: sha for p, sha in gitstore.index_blobs(ws.root, index, record.RECORDS_DIR).items() if p in changed}
    return _check_many(ws, blobs, "")


def check_rev(ws: Workspace, rev: str) -> Result:
    """Records added or changed in `A..B` / `A...B` (since their merge base), or every
    record at a single revision. Read from git objects: nothing is checked out."""
    if ".." in rev:
        start, _, end = rev.replace("...", "..").partition("..")
        start_sha, _ = resolve_revision(ws, start or "HEAD")
        end_sha, _ = resolve_revision(ws, end or "HEAD")
        return _check_many(ws, changed_since_fork(ws, start_sha, end_sha).changed, f"{end or 'HEAD'}:")
    sha, _ = resolve_revision(ws, rev)
    return _check_many(ws, dict(gitstore.ls_tree(ws.root, sha, record.RECORDS_DIR)), f"{rev}:")


def check_paths(ws: Workspace, paths: list[str]) -> Result:
    """Files (or folders of them) in the working tree; no paths: all of experiments/."""
    if not paths and not (ws.root / record.RECORDS_DIR).is_dir():
        return Result(0, ())
    targets: list[tuple[str, bool]] = []  # (path, named by the user)
    for given in paths or [str(ws.root / record.RECORDS_DIR)]:
        relpath = ws.relative(given)
        full = ws.path(relpath)
        if full.is_dir():
            found = sorted(p.relative_to(ws.root).as_posix() for p in full.rglob("*.y*ml"))
            targets += [(p, False) for p in found]
        elif full.is_file():
            targets.append((relpath, True))
        else:
            raise UsageError(f"no such file: {given}: give record files or folders")
    problems: list[Problem] = []
    checked = 0
    for relpath, named in targets:
        if not _kind(relpath):
            if named:
                message = "not a ledger file (records live under experiments/)"
                problems.append(Problem(relpath, "", message))
            continue
        checked += 1
        with open(ws.path(relpath), "rb") as fh:
            data = fh.read(yamlio.MAX_BYTES + 1)
        problems += check_blob(data, relpath, ws.root)
    return Result(checked, tuple(problems))
