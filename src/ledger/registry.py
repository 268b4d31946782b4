"""Model decisions: `ledger select` writes one reviewable YAML file per decision and mirrors
it as GTO-compatible annotated tags; `ledger registry` reads them back.

A decision is `experiments/registry/<model>/<version>.yaml` (schema `decision.schema.json`),
committed alone with `gitstore.commit_files` so the user's index and working tree stay as
they were. The commit gets the tags GTO reads: `<model>@v<X.Y.Z>` (a registered version)
and, with a stage, `<model>#<stage>#<N>` (N = one more than the model's highest counter,
GTO's rule). Every selection is a new version: the latest one is the model's current choice.
"""

from __future__ import annotations

import getpass
import re
import warnings
from dataclasses import dataclass
from typing import Any

from ledger import gitstore
from ledger.core import record, schema, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, LedgerWarning, PathExists, RecordError, UsageError
from ledger.read import api, query
from ledger.read.api import Loaded

REGISTRY_DIR = f"{record.RECORDS_DIR}/registry"
NAME_RE = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9_-]*[a-zA-Z0-9])?$")  # GTO's names, minus `/`
VERSION_RE = re.compile(r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
DECISION_PATH_RE = re.compile(rf"^{REGISTRY_DIR}/([^/]+)/(v[0-9]+\.[0-9]+\.[0-9]+)\.yaml$")
_STAGE_TAG = re.compile(r"^(?P<model>[^#@]+)#(?P<stage>[^#!]+)#(?P<counter>[0-9]+)$")
BUMPS = ("major", "minor", "patch")
MAX_ALTERNATIVES = 100


@dataclass(frozen=True)
class Selected:
    decision: dict[str, Any]
    path: str
    commit: str
    tags: list[str]


def check_name(value: str, what: str) -> str:
    """A model or stage name GTO accepts in a tag (letters, digits, `-`, `_`)."""
    if len(value) > 100 or not NAME_RE.match(value):
        raise UsageError(
            f"{what} {value!r} is not valid: use letters, digits, '-' and '_', starting and "
            "ending with a letter or digit (GTO's naming rule)"
        )
    return value


def default_model(ws: Workspace) -> str:
    """The experiment name when it is a valid model name, else `model`."""
    slug = record.slugify(ws.config.experiment)
    return slug if NAME_RE.match(slug) and slug != "default" else "model"


def decision_path(model: str, version: str) -> str:
    return f"{REGISTRY_DIR}/{model}/{version}.yaml"


def parse_version(version: str) -> tuple[int, int, int]:
    match = VERSION_RE.match(version)
    if not match:
        raise UsageError(f"version {version!r} must look like v1.2.0")
    return int(match[1]), int(match[2]), int(match[3])


def next_version(existing: list[str], bump: str) -> str:
    """v1.0.0 for a new model; otherwise the highest version bumped."""
    if not existing:
        return "v1.0.0"
    major, minor, patch = max(parse_version(v) for v in existing)
    if bump == "major":
        return f"v{major + 1}.0.0"
    if bump == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


# ---------------------------------------------------------------------------- reading


def load_decisions(ws: Workspace, rev: str = "HEAD") -> list[dict[str, Any]]:
    """Every decision at `rev`, oldest first; a bad file is skipped with a warning."""
    if not gitstore.rev_parse(ws.root, rev):
        return []
    entries = [(p, sha) for p, sha in gitstore.ls_tree(ws.root, rev, REGISTRY_DIR) if DECISION_PATH_RE.match(p)]
    found = []
    for (path, _), (_, data) in zip(entries, gitstore.read_blobs(ws.root, [s for _, s in entries], yamlio.MAX_BYTES)):
        source = f"{rev}:{path}"
        try:
            if data is None:
                raise RecordError("missing or too large", path=source)
            doc = yamlio.loads(data, source=source)
            schema.validate(doc, source=source, name="decision")
            match = DECISION_PATH_RE.match(path)
            assert match is not None
            if (doc["model"], doc["version"]) != (match[1], match[2]):
                raise RecordError("its model/version do not match its path", path=source)
            found.append(doc)
        except RecordError as exc:
            warnings.warn(f"skipped a bad decision file: {exc}", LedgerWarning, stacklevel=2)
    return sorted(found, key=lambda d: (d["selected_at"], d["model"], parse_version(d["version"])))


def models(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model: its versions, the latest one, and which version holds each stage now."""
    by_model: dict[str, dict[str, Any]] = {}
    for doc in decisions:
        entry = by_model.setdefault(doc["model"], {"model": doc["model"], "versions": [], "stages": {}})
        entry["versions"].append(doc["version"])
        entry["latest"] = {"version": doc["version"], "run": doc["run"]["id"], "name": doc["run"]["name"]}
        if doc.get("stage"):
            entry["stages"][doc["stage"]] = doc["version"]
    for entry in by_model.values():
        entry["versions"].sort(key=parse_version)
        entry["stages"] = dict(sorted(entry["stages"].items()))
    return [by_model[name] for name in sorted(by_model)]


# ---------------------------------------------------------------------------- selecting


def resolve_baseline(ws: Workspace, items: list[Loaded]) -> Loaded | None:
    """ledger.yaml's `baseline` run, else the newest record marked `baseline: true`."""
    ref = ws.config.baseline
    if ref:
        try:
            return api.find(items, ref)
        except LedgerError:
            warnings.warn(f"the baseline {ref!r} in ledger.yaml matches no run", LedgerWarning, stacklevel=2)
    marked = [i for i in items if i.record.get("baseline") is True]
    return marked[-1] if marked else None


def _better(a: float | None, b: float | None, direction: str) -> bool:
    if a is None or b is None or a != a or b != b:  # NaN never wins
        return False
    return a > b if direction == "max" else a < b


def _reference(
    item: Loaded | None, metric: str | None, value: float | None, version: str | None = None
) -> dict[str, Any] | None:
    if item is None:
        return None
    other = query.metric_value(item.record, metric) if metric else None
    delta = value - other if value is not None and other is not None else None
    ref: dict[str, Any] = {
        "run": item.record["id"],
        "name": item.record.get("name") or item.record["id"],
        "value": other,
        "delta": round(delta, 12) if delta is not None else None,
    }
    if version:
        ref = {"version": version, **ref}
    return ref


def build_decision(
    ws: Workspace,
    items: list[Loaded],
    chosen: Loaded,
    *,
    model: str,
    version: str,
    stage: str | None,
    rationale: str,
    metric: str | None,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """The decision document (not yet written): the run, why, and what it beat."""
    rec = chosen.record
    direction = ws.config.direction(metric) if metric else "max"
    value = query.metric_value(rec, metric) if metric else None
    mine = {k: query.metric_value(rec, k) for k in sorted(rec.get("metrics") or {})}
    others = [i.record for i in items if i.record["id"] != rec["id"] and i.record.get("status") == "finished"]
    ranked = query.leaderboard(others, metric, direction) if metric else others
    alternatives = []
    for other in ranked:
        beaten, lost = [], []
        for name, own in mine.items():
            theirs = query.metric_value(other, name)
            d = ws.config.direction(name)
            if _better(own, theirs, d):
                beaten.append(name)
            elif _better(theirs, own, d):
                lost.append(name)
        if metric and metric not in beaten:
            continue  # an alternative it beat is one it beat on the deciding metric
        if beaten:
            alternatives.append(
                {
                    "run": other["id"],
                    "name": other.get("name") or other["id"],
                    "value": query.metric_value(other, metric) if metric else None,
                    "beaten_on": beaten,
                    "lost_on": lost,
                }
            )
    prev_item = None
    if previous:
        prev_item = next((i for i in items if i.record["id"] == previous["run"]["id"]), None)
    name, email = _identity(ws)
    return {
        "schema_version": 1,
        "model": model,
        "version": version,
        "stage": stage,
        "run": {
            "id": rec["id"],
            "name": rec.get("name") or rec["id"],
            "status": rec.get("status"),
            "started_at": rec.get("started_at"),
            "commit": (rec.get("code") or {}).get("commit"),
            "dirty": (rec.get("code") or {}).get("dirty"),
            "data": [{"path": d.get("path"), "hash": d.get("hash")} for d in rec.get("data") or []],
            "metrics": mine,
        },
        "selected_at": record.timestamp(record.utcnow()),
        "selected_by": {"name": name, "email": email},
        "rationale": rationale,
        "metric": {"name": metric, "direction": direction, "value": value} if metric else None,
        "baseline": _reference(resolve_baseline(ws, items), metric, value),
        "previous": _reference(prev_item, metric, value, previous["version"]) if previous else None,
        "alternatives": alternatives[:MAX_ALTERNATIVES],
        "alternatives_total": len(alternatives),
        "tags": [],
    }


def _identity(ws: Workspace) -> tuple[str | None, str | None]:
    """Who decides: git's effective author (config or GIT_AUTHOR_* variables), else the OS user."""
    ident = gitstore.author_ident(ws.root)
    match = re.match(r"^(?P<name>.*?) <(?P<email>[^>]*)>", ident)
    if match and match["name"].strip():
        return match["name"].strip(), match["email"] or None
    name, email = gitstore.user_identity(ws.root)
    return name or _os_user(), email


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def stage_counter(root: Any, model: str, decisions: list[dict[str, Any]]) -> int:
    """GTO's counter for the next stage tag: one more than the model's highest so far, in
    its tags or in committed decisions (whose tags another `select` may be creating now)."""
    names = [tag.name for tag in gitstore.list_tags(root, f"{model}#*")]
    names += [name for d in decisions for name in d.get("tags") or []]
    highest = 0
    for name in names:
        match = _STAGE_TAG.match(name)
        if match and match["model"] == model:
            highest = max(highest, int(match["counter"]))
    return highest + 1


SELECT_ATTEMPTS = 8


def select(
    ws: Workspace,
    items: list[Loaded],
    ref: str,
    *,
    rationale: str,
    model: str | None = None,
    stage: str | None = None,
    bump: str = "minor",
    metric: str | None = None,
) -> Selected:
    """Record that run `ref` is the chosen model: commit the decision file, then tag it.

    Concurrent selections of one model each get their own version: the decision file is
    committed create-only, and a selection that finds its version (file or tags) taken
    meanwhile decides again on the new history.
    """
    why = rationale.strip()
    if not why:
        raise UsageError("say why: --rationale TEXT is required and must not be empty")
    model = check_name(model or default_model(ws), "model name")
    if stage is not None:
        check_name(stage, "stage")
    chosen = api.find(items, ref)
    if chosen.record.get("status") != "finished":
        raise LedgerError(
            f"run {chosen.record['id']} is {chosen.record.get('status')}: only a finished run can be selected"
        )
    if chosen.origin == "worktree":
        raise LedgerError(f"run {chosen.record['id']} is not committed yet: run `ledger commit` first")
    reason = gitstore.head_state(ws.root).pending_reason
    if reason:
        raise LedgerError(f"cannot record a decision now: {reason}; check out a branch and retry")
    metric = metric or ws.config.primary_metric
    taken: str | None = None
    for _ in range(SELECT_ATTEMPTS):
        decision, path, headline = _decide(ws, items, chosen, model, stage, bump, metric, why)
        clash = next((tag for tag in decision["tags"] if gitstore.list_tags(ws.root, tag)), None)
        if clash is not None:
            if clash == taken:  # the same tag twice over: not a selection in flight, a real tag
                raise LedgerError(f"tag {clash} already exists: delete it (git tag -d {clash}) or pass --bump major")
            taken = clash  # perhaps a selection that committed after we read the history
            continue
        text = yamlio.dumps(decision)
        message = f"{headline}\n\n{why}\n\nLedger-Run: {chosen.record['id']}\n"
        try:
            commit = gitstore.commit_files(ws.root, {path: text.encode("utf-8")}, message, create_only=True)
            break
        except PathExists:
            continue  # another selection took this version first: decide again, on top of it
    else:
        raise LedgerError(f"other selections of {model} kept taking the next version: run `ledger select` again")
    yamlio.write_atomic(ws.path(path), text)  # the worktree shows what the commit holds
    tags = decision["tags"]
    gitstore.create_annotated_tag(ws.root, tags[0], commit, f"{headline}\n\n{why}\n")
    if stage:
        gitstore.create_annotated_tag(
            ws.root,
            tags[1],
            commit,
            f"Assigning stage {stage} to artifact {model} version {decision['version']}\n\n{why}\n",
        )
    return Selected(decision, path, commit, tags)


def _decide(
    ws: Workspace, items: list[Loaded], chosen: Loaded, model: str, stage: str | None, bump: str,
    metric: str | None, rationale: str,
) -> tuple[dict[str, Any], str, str]:  # fmt: skip
    """(decision, its path, its commit headline) on top of the decisions committed now."""
    decisions = load_decisions(ws)
    history = [d for d in decisions if d["model"] == model]
    version = next_version([d["version"] for d in history], bump)
    decision = build_decision(
        ws,
        items,
        chosen,
        model=model,
        version=version,
        stage=stage,
        rationale=rationale,
        metric=metric,
        previous=history[-1] if history else None,
    )
    tags = [f"{model}@{version}"]
    if stage:
        tags.append(f"{model}#{stage}#{stage_counter(ws.root, model, decisions)}")
    decision["tags"] = tags
    path = decision_path(model, version)
    schema.validate(decision, source=path, name="decision")
    value = decision["metric"]["value"] if decision["metric"] else None
    headline = f"ledger: select {model} {version} = run {decision['run']['name']}"
    if value is not None:
        headline += f" ({metric}={value:.6g})"
    return decision, path, headline


# ---------------------------------------------------------------------------- the baseline

_BASELINE_LINE = re.compile(r"^baseline:[ \t]*(?P<value>[^#\r\n]*?)(?P<rest>[ \t]+#[^\r\n]*)?(?P<eol>\r?\n)?$")


def set_baseline(ws: Workspace, run_id: str | None) -> str:
    """Point ledger.yaml's `baseline:` at `run_id` (None clears it); returns the new text.

    A line-level edit, so the user's comments, order and other keys stay exactly as they
    were; the result is parsed again and refused unless only `baseline` changed.
    """
    from ledger.core import config as _config

    path = ws.root / _config.CONFIG_FILE
    old = path.read_text("utf-8") if path.exists() else ""
    value = f"'{run_id}'" if run_id else "null"
    lines = old.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if _BASELINE_LINE.match(line)]
    if len(hits) > 1:
        raise LedgerError(f"{_config.CONFIG_FILE} has several `baseline:` lines: keep one and retry")
    if hits:
        i = hits[0]
        match = _BASELINE_LINE.match(lines[i])
        assert match is not None
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if not match["value"] and following[:1] in (" ", "\t", "-"):
            raise LedgerError(f"`baseline:` in {_config.CONFIG_FILE} is not a plain value: set `baseline: ID` by hand")
        lines[i] = f"baseline: {value}{match['rest'] or ''}{match['eol'] or ''}"
        new = "".join(lines)
    else:
        new = old + ("" if not old or old.endswith("\n") else "\n") + f"baseline: {value}\n"
    before = _config.load(ws.root).raw if path.exists() else {}
    try:
        after = yamlio.loads(new, source=_config.CONFIG_FILE) or {}
    except RecordError:
        after = None
    expected = {**before, "baseline": run_id}
    if not isinstance(after, dict) or after != expected:
        raise LedgerError(f"could not edit {_config.CONFIG_FILE} safely: set `baseline: {run_id}` there by hand")
    _config.parse(after)
    yamlio.write_atomic(path, new)
    return new
