"""The review of a pull request's experiments: what `ledger diff BASE [HEAD]` reports.

The runs under review are the records added or changed between the merge base of BASE and
HEAD and HEAD itself (the files `git diff BASE...HEAD` shows), so runs that landed on BASE
after the branch was cut are not mistaken for the branch's own. Each is compared with the
project's baseline and with the best run reachable from BASE on the primary metric.

The settings (primary metric, directions, baseline) come from BASE's ledger.yaml when it has
them: the branch under review cannot move the goalposts it is judged by. Records from HEAD
are untrusted: a bad one is reported, never parsed beyond the safety rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ledger import gitstore
from ledger.core import config as _config
from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, RecordError
from ledger.read import query
from ledger.read import records as store
from ledger.read.known import Known
from ledger.read.sources import Selection

_COMMIT_RE_LEN = (40, 64)


@dataclass(frozen=True)
class Entry:
    """One run added or changed on the branch, compared with BASE."""

    record: dict[str, Any]
    path: str
    change: str  # "added" or "changed"
    changed_fields: tuple[str, ...]
    value: float | None  # the primary metric
    vs_best: float | None  # value minus BASE's best
    vs_baseline: float | None  # value minus the baseline's
    verdict: str  # better, worse, equal, failed, running, no metric, no reference
    warnings: tuple[str, ...]

    @property
    def id(self) -> str:
        return str(self.record["id"])


@dataclass(frozen=True)
class Review:
    base: str
    head: str
    base_commit: str
    head_commit: str
    merge_base: str | None
    metric: str | None
    direction: str
    baseline: dict[str, Any] | None
    best_on_base: dict[str, Any] | None
    entries: tuple[Entry, ...]
    removed: tuple[str, ...]
    invalid: tuple[str, ...]
    secondary: tuple[str, ...]
    best_new: Entry | None
    bar: float | None  # what the best new run had to reach (BASE's best, or --threshold)
    regression: bool
    summary: str
    unreadable: tuple[str, ...] = ()  # paths of the branch's records that could not be read
    shared: tuple[str, ...] = ()  # metrics every finished run has (for a missing primary metric)
    inferred: bool = False  # `metric` is the one metric the runs share (no primary metric set)

    @property
    def blocked(self) -> bool:
        """The gate fails whatever the metric says: the branch adds or changes unreadable
        records (a green verdict would hide them, and CI could not rank what it cannot read)."""
        return bool(self.unreadable)

    @property
    def failed(self) -> tuple[Entry, ...]:
        ended = ("finished", "running")
        return tuple(e for e in self.entries if e.record.get("status") not in ended)

    @property
    def warning_count(self) -> int:
        return sum(len(e.warnings) for e in self.entries) + len(self.invalid) + len(self.removed)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of `ledger diff --format json`."""
        return {
            "base": self.base, "head": self.head, "base_commit": self.base_commit,
            "head_commit": self.head_commit, "merge_base": self.merge_base,
            "metric": self.metric, "direction": self.direction,
            "baseline": _brief(self.baseline, self.metric),
            "best_on_base": _brief(self.best_on_base, self.metric),
            "runs": [
                {"id": e.id, "name": e.record.get("name"), "status": e.record.get("status"),
                 "change": e.change, "changed_fields": list(e.changed_fields), "path": e.path,
                 "value": e.value, "vs_best": e.vs_best, "vs_baseline": e.vs_baseline,
                 "verdict": e.verdict, "metrics": e.record.get("metrics") or {},
                 "warnings": list(e.warnings)}
                for e in self.entries
            ],
            "removed": list(self.removed), "invalid": list(self.invalid),
            "secondary_metrics": list(self.secondary),
            "best_new": self.best_new.id if self.best_new else None,
            "bar": self.bar, "regression": self.regression, "summary": self.summary,
            "unreadable": list(self.unreadable),
            "metric_inferred": self.inferred,
        }  # fmt: skip


def _brief(rec: dict[str, Any] | None, metric: str | None) -> dict[str, Any] | None:
    if rec is None:
        return None
    value = query.metric_value(rec, metric) if metric else None
    return {"id": rec["id"], "name": rec.get("name"), "value": value}


def _usable(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def is_better(value: float, reference: float, direction: str, tolerance: float = 0.0) -> bool:
    return value > reference + tolerance if direction == "max" else value < reference - tolerance


def is_worse(value: float, reference: float, direction: str, tolerance: float = 0.0) -> bool:
    return value < reference - tolerance if direction == "max" else value > reference + tolerance


def _settings(ws: Workspace, base_commit: str) -> _config.Config:
    """ledger.yaml as BASE has it (trusted), else the working tree's."""
    data = gitstore.read_file_at(ws.root, base_commit, _config.CONFIG_FILE, yamlio.MAX_BYTES)
    if not data:
        return ws.config
    try:
        settings = _config.parse(yamlio.loads(data, source=f"{base_commit[:8]}:ledger.yaml"))
    except LedgerError:
        return ws.config
    return settings if settings.primary_metric else ws.config


def _resolve(ws: Workspace, rev: str, what: str) -> str:
    sha = gitstore.rev_parse(ws.root, rev)
    if sha is None:
        hint = " (in CI, check out with fetch-depth: 0)" if what == "BASE" else ""
        raise LedgerError(f"unknown revision {rev!r} for {what}: give a branch, tag or commit{hint}")
    return sha


def _records_at(ws: Workspace, rev: str | None) -> dict[str, str]:
    """path -> blob id of the record files at `rev` (empty before the first commit)."""
    if rev is None:
        return {}
    return {
        path: sha for path, sha in gitstore.ls_tree(ws.root, rev, record.RECORDS_DIR)
        if record.run_id_from_path(path)
    }  # fmt: skip


def _changes(
    ws: Workspace, fork_point: str | None, head_commit: str
) -> tuple[dict[str, str], dict[str, str], tuple[str, ...]]:
    """(path -> blob at the fork point, of the record files the branch changed; path -> blob
    at HEAD of those it added or changed; run ids of those it removed), from `git diff-tree`
    rather than listing both trees."""
    if fork_point is None:
        return {}, _records_at(ws, head_commit), ()
    before: dict[str, str] = {}
    touched: dict[str, str] = {}
    removed = []
    changed = [
        (p, sha) for p, sha in gitstore.changed_paths(ws.root, fork_point, head_commit) if record.run_id_from_path(p)
    ]
    old_blobs = dict(gitstore.ls_tree_paths(ws.root, fork_point, [p for p, _ in changed]))
    for path, sha in changed:
        if path in old_blobs:
            before[path] = old_blobs[path]
        if sha is None:
            if path in old_blobs:
                removed.append(record.run_id_from_path(path) or path)
        else:
            touched[path] = sha
    return before, touched, tuple(sorted(removed))


def _parse_blobs(ws: Workspace, wanted: dict[str, str], label: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The records among `wanted` (path -> blob id) that parse, and path -> problem for the rest."""
    parsed: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    paths = sorted(wanted)
    if not paths:
        return parsed, problems
    blobs = gitstore.read_blobs(ws.root, [wanted[p] for p in paths], yamlio.MAX_BYTES)
    for path, (_, data) in zip(paths, blobs, strict=True):
        source = f"{label}:{path}"
        try:
            if data is None:
                raise RecordError(f"larger than {yamlio.MAX_BYTES} bytes", path=source)
            parsed[path] = store.parse_record(data, source, path)
        except RecordError as exc:
            problems[path] = str(exc)
    return parsed, problems


def reproducibility_warnings(
    ws: Workspace, rec: dict[str, Any], head: str, files: set[str], known: dict[str, bool]
) -> list[str]:
    """Why a run could not be reproduced from its record alone (empty when it can)."""
    found = []
    code = rec.get("code")
    if not isinstance(code, dict):
        found.append("no code state recorded")
    else:
        commit = code.get("commit")
        patch = code.get("patch")
        if code.get("dirty") and not patch:
            found.append("dirty code without a patch")
        elif patch and patch not in files:
            found.append(f"its code patch {patch} is not in the branch")
        if not commit:
            found.append("no code commit recorded")
        else:
            if commit not in known:
                ok = len(commit) in _COMMIT_RE_LEN and all(c in "0123456789abcdef" for c in commit)
                known[commit] = ok and gitstore.is_ancestor(ws.root, commit, head)
            if not known[commit]:
                found.append(f"code commit {commit[:8]} is not in HEAD's history")
    for item in rec.get("data") or []:
        if isinstance(item, dict) and not item.get("hash"):
            found.append(f"data {item.get('path')} has no DVC hash")
    if rec.get("status") == "running":
        found.append("still running: no final result yet")
    return found


def _changed_fields(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, ...]:
    if old is None:
        return ()
    keys = set(old) | set(new)
    return tuple(sorted(k for k in keys if old.get(k) != new.get(k)))


def _find_baseline(
    settings: _config.Config, base_items: list[store.Item], new: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The baseline named in ledger.yaml (BASE's runs by id order, then the new ones), else
    BASE's newest run flagged `baseline: true` (the heads decide; one record is read)."""
    name = settings.baseline
    if name:
        for item in base_items:
            if item.head["id"] == name or item.head.get("name") == name:
                return item.record
        for rec in new:
            if rec["id"] == name or rec.get("name") == name:
                return rec
    flagged = [i for i in base_items if i.head.get("baseline") is True]
    if not flagged:
        return None
    return max(flagged, key=lambda i: (i.head.get("started_at") or "", i.head["id"])).record


def _verdict(rec: dict[str, Any], value: float | None, reference: float | None, direction: str) -> str:
    status = rec.get("status")
    if status == "running":
        return "running"
    if status != "finished":
        return str(status)
    if not _usable(value):
        return "no metric"
    if not _usable(reference):
        return "no reference"
    assert value is not None and reference is not None  # narrowed by _usable
    if is_better(value, reference, direction):
        return "better"
    if is_worse(value, reference, direction):
        return "worse"
    return "equal"


def review(
    ws: Workspace,
    base: str,
    head: str = "HEAD",
    *,
    metric: str | None = None,
    direction: str | None = None,
    threshold: float | None = None,
    tolerance: float = 0.0,
) -> Review:
    """Compare the runs that `head` adds or changes with `base` (see the module docstring)."""
    base_commit = _resolve(ws, base, "BASE")
    head_commit = _resolve(ws, head, "HEAD")
    fork_point = gitstore.merge_base(ws.root, base_commit, head_commit)
    settings = _settings(ws, base_commit)
    asked = metric
    metric = metric or settings.primary_metric

    before, touched, removed = _changes(ws, fork_point, head_commit)
    new, invalid = _parse_blobs(ws, touched, head)
    old, _ = _parse_blobs(ws, {p: before[p] for p in touched if p in before}, "base")

    # BASE's runs through the read path's one reader (its cache and tree summary): their
    # small heads decide; whole records are read only for the best run and the baseline.
    at_base = Selection(rev=base_commit, worktree=False)
    base_items = sorted(store.scan(ws, at_base), key=lambda i: str(i.head["id"]))
    base_heads = [i.head for i in base_items]
    everyone = [*new.values(), *base_heads]
    if asked:
        names = Known()
        for rec in everyone:
            names.add_head(rec)
        names.check("metric", asked)
    shared = _shared_metrics(everyone)
    inferred = not metric and len(shared) == 1
    if inferred:
        metric = shared[0]
    direction = direction or (settings.direction(metric) if metric else "max")
    best_on_base = None
    if metric:
        finished = [i for i in base_items if i.head.get("status") == "finished"]
        ranked = query.best(finished, metric, direction, 1, key=lambda i: i.head)
        if ranked and _usable(query.metric_value(ranked[0].head, metric)):
            best_on_base = ranked[0].record
    baseline = _find_baseline(settings, base_items, list(new.values()))
    best_value = query.metric_value(best_on_base, metric) if best_on_base and metric else None
    baseline_value = query.metric_value(baseline, metric) if baseline and metric else None

    # Which of the new runs' code patches the branch has (only record sidecars count).
    patches = {
        str(r["code"]["patch"]) for r in new.values() if isinstance(r.get("code"), dict) and r["code"].get("patch")
    }
    inside = sorted(p for p in patches if p.startswith(record.RECORDS_DIR + "/"))
    files = {p for p, _ in gitstore.ls_tree_paths(ws.root, head_commit, inside)}
    known: dict[str, bool] = {}
    # Code commits the repository does not have are not in HEAD's history: one lookup for
    # all of them instead of one `merge-base --is-ancestor` each.
    commits = {
        str(r["code"]["commit"]) for r in new.values() if isinstance(r.get("code"), dict) and r["code"].get("commit")
    }
    present = gitstore.existing_objects(ws.root, sorted(c for c in commits if len(c) in _COMMIT_RE_LEN))
    known.update({c: False for c in commits if c not in present})
    entries = []
    for path in sorted(new, key=lambda p: (new[p].get("started_at") or "", new[p]["id"])):
        rec = new[path]
        value = query.metric_value(rec, metric) if metric else None
        reference = threshold if threshold is not None else best_value
        entries.append(Entry(
            record=rec, path=path, change="changed" if path in before else "added",
            changed_fields=_changed_fields(old.get(path), rec), value=value,
            vs_best=_delta(value, best_value), vs_baseline=_delta(value, baseline_value),
            verdict=_verdict(rec, value, reference, direction),
            warnings=tuple(reproducibility_warnings(ws, rec, head_commit, files, known)),
        ))  # fmt: skip

    secondary = sorted({m for e in entries for m in (e.record.get("metrics") or {}) if m != metric})
    best_new = _best(entries, metric, direction)
    bar = threshold if threshold is not None else best_value
    regression = bool(
        best_new is not None and best_new.value is not None and _usable(bar)
        and is_worse(best_new.value, bar, direction, tolerance)  # type: ignore[arg-type]
    )  # fmt: skip
    return Review(
        base=base, head=head, base_commit=base_commit, head_commit=head_commit,
        merge_base=fork_point, metric=metric, direction=direction, baseline=baseline,
        best_on_base=best_on_base, entries=tuple(entries), removed=removed,
        invalid=tuple(invalid[p] for p in sorted(invalid)), secondary=tuple(secondary),
        best_new=best_new, bar=bar, regression=regression,
        summary=_unreadable_summary(sorted(invalid)) + _summary(
            entries, best_new, bar, regression, metric, direction, threshold is not None
        ) + (f" ({metric}: no primary metric is set, and it is the one metric the runs share)" if inferred else ""),
        unreadable=tuple(sorted(invalid)), shared=tuple(shared), inferred=inferred,
    )  # fmt: skip


def _shared_metrics(records: list[dict[str, Any]]) -> list[str]:
    """The metrics every finished run among `records` has, sorted."""
    names = [set(rec.get("metrics") or {}) for rec in records if rec.get("status") == "finished"]
    return sorted(set.intersection(*names)) if names else []


def _unreadable_summary(paths: list[str]) -> str:
    if not paths:
        return ""
    return f"failed: {plural(len(paths), 'unreadable record')} on this branch; "


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def unreadable_reason(rv: Review, shown: int = 3) -> str:
    """One line for the gate: how many of the branch's records are unreadable, the first paths."""
    paths = ", ".join(rv.unreadable[:shown]) + (", ..." if len(rv.unreadable) > shown else "")
    return (
        f"{plural(len(rv.unreadable), 'unreadable record')} added or changed on this branch "
        f"({paths}): see why with `ledger check --rev {rv.base}..{rv.head}`, fix or remove them"
    )


def _delta(value: float | None, reference: float | None) -> float | None:
    if not _usable(value) or not _usable(reference):
        return None
    return value - reference  # type: ignore[operator]


def _best(entries: list[Entry], metric: str | None, direction: str) -> Entry | None:
    if not metric:
        return None
    finished = [e for e in entries if e.record.get("status") == "finished" and _usable(e.value)]
    if not finished:
        return None
    key = query.rank_key(metric, direction)
    return min(finished, key=lambda e: key(e.record))


def _summary(
    entries: list[Entry], best: Entry | None, bar: float | None, regression: bool,
    metric: str | None, direction: str, by_threshold: bool,
) -> str:  # fmt: skip
    """One sentence: the verdict a reviewer reads first."""
    if not entries:
        return "no runs added or changed"
    if metric is None:
        return "no primary metric: set primary_metric in ledger.yaml to compare runs"
    if best is None:
        return f"no finished run reports {metric}"
    against = "the threshold" if by_threshold else "the best on BASE"
    if not _usable(bar):
        return f"best new run: {best.record.get('name')} (nothing on BASE to compare with)"
    if regression:
        return f"regression: the best new run is worse than {against}"
    assert best.value is not None and bar is not None  # narrowed by _usable
    if is_better(best.value, bar, direction):
        return f"improvement: the best new run beats {against}"
    if is_worse(best.value, bar, direction):
        return f"within tolerance: the best new run is slightly worse than {against}"
    return f"no change: the best new run equals {against}"
