"""The tree summary (read/summary.py, read/treeindex.py) gives exactly the answers of a full
scan: the same runs, records, warnings and leaderboards, after commits, deletions and
working-tree edits, and whether it is there, rebuilt, patched or damaged."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

from ledger.core import processes, record, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerWarning
from ledger.read import api, query, records, summary, treebuild
from ledger.read.sources import Selection, entries
from support.query_helpers import commit, make, raw_commit, rid, write
from support.repo import git

METRICS = [("auc", "max"), ("auc", "min"), ("loss", "min"), ("absent", "max")]


STATUSES = ["finished", "finished", "failed", "finished", "killed", "running", "finished", "crashed", "pruned"]


def _runs(n: int, start: int = 1) -> list[dict[str, Any]]:
    """Runs with ties in value and start time, every status (a `running` one whose process
    is gone is shown crashed), NaN and missing values."""
    out = []
    for k in range(start, start + n):
        auc: Any = [0.5, 0.7, 0.7, float("nan"), 1, None, -0.0, 0.0][k % 8]
        metrics = {"auc": auc, "loss": k % 5 / 10} if auc is not None else {"loss": None}
        status = STATUSES[k % len(STATUSES)] if k % 4 else "finished"
        out.append(make(k, metrics=metrics, status=status, started_at=f"2026-11-27T00:00:{k % 3:02d}.000Z"))
    return out


def full_scan(ws: Workspace, selection: Selection) -> tuple[list[Any], list[str]]:
    """(records, warnings) of the plain scan, with no summary involved."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items = list(records.scan_entries(ws, entries(ws, selection)))
    return sorted((i.record for i in items), key=lambda r: r["id"]), sorted(str(w.message) for w in caught)


def summary_scan(ws: Workspace, selection: Selection) -> tuple[list[Any], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        view = summary.view(ws, selection)
        assert view is not None
        items = list(view.items())
    return sorted((i.record for i in items), key=lambda r: r["id"]), sorted(str(w.message) for w in caught)


def assert_same_answers(ws: Workspace, selection: Selection | None = None) -> None:
    selection = selection or Selection()
    expected = full_scan(ws, selection)
    for _ in range(2):  # built (or patched), then loaded
        got = summary_scan(ws, selection)
        assert repr(got) == repr(expected)  # repr: NaN compares equal to itself
    for metric, direction in METRICS:
        for n in (1, 3, 10, 100):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LedgerWarning)
                plain = query.best(records.scan_entries(ws, entries(ws, selection)), metric, direction, n,
                                   key=lambda i: i.head)  # fmt: skip
                view = summary.view(ws, selection)
                assert view is not None
                fast = view.best(metric, direction, n)
            assert [i.head["id"] for i in fast] == [i.head["id"] for i in plain], (metric, direction, n)
            assert repr([i.record for i in fast]) == repr([i.record for i in plain])


def trees_dir(repo: Path) -> Path:
    [found] = (repo / ".git" / "ledger-cache").glob("trees-*")
    return found


def test_summary_answers_as_a_full_scan_through_commits_and_edits(repo: Path) -> None:
    ws = Workspace.find()
    bad = yamlio.dumps(make(90, auc=0.9)).replace("duration_s: 1.0", "duration_s: 1,0.999")
    raw_commit(repo, {f"experiments/2026-11/{rid(90)}.yaml": bad.encode(),
                      f"experiments/2026-11/{rid(91)}.yaml": yamlio.dumps(make(92)).encode()})  # fmt: skip
    commit(repo, *_runs(20))
    assert_same_answers(ws)
    assert len(list(trees_dir(repo).iterdir())) == 1
    # A new commit: the summary of the new tree is patched from the last one, no full scan.
    commit(repo, *_runs(3, start=40))
    real = treebuild._tree_entries
    treebuild._tree_entries = lambda *a: pytest.fail("a full scan for one more commit")  # type: ignore[assignment]
    try:
        assert_same_answers(ws)
    finally:
        treebuild._tree_entries = real  # type: ignore[assignment]
    # A record deleted and one changed in a commit.
    (repo / "experiments/2026-11" / f"{rid(3)}.yaml").unlink()
    write(repo, make(4, auc=0.99))
    git(repo, "add", "-A", "experiments")
    git(repo, "commit", "-q", "-m", "edit")
    assert_same_answers(ws)
    # Uncommitted: a new run, and a newer version of a committed one (newest wins).
    write(repo, make(60, auc=0.95), make(5, auc=0.01, ended_at="2026-11-28T00:00:00.000Z"))
    assert_same_answers(ws)
    assert_same_answers(ws, Selection(rev="HEAD~1"))
    # Deleting the summaries, or damaging one, changes no answer.
    shutil.rmtree(trees_dir(repo))
    assert_same_answers(ws)
    for path in trees_dir(repo).iterdir():
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] + b"x" + data[len(data) // 2 + 1 :])
    assert_same_answers(ws)


@pytest.mark.filterwarnings("ignore::ledger.errors.LedgerWarning")
def test_library_and_cli_top_rank_from_the_summary_exactly(repo: Path) -> None:
    commit(repo, *_runs(30))
    ws = Workspace.find()
    for metric, direction in METRICS[:3]:  # ledger.top leaves out runs without the metric
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LedgerWarning)
            having = [i for i in records.scan_entries(ws, entries(ws, Selection()))
                      if query.metric_value(i.head, metric) is not None]  # fmt: skip
            plain = query.best(having, metric, direction, 5, key=lambda i: i.head)
        assert api.top(metric, n=5, direction=direction).ids == [i.head["id"] for i in plain]
    where = api.top("auc", n=5, where="metrics.loss < 0.3").ids
    assert where and all(r["metrics"]["loss"] < 0.3 for r in api.runs() if r["id"] in where)


def test_a_tree_with_one_run_in_two_files_is_read_without_a_summary(repo: Path) -> None:
    twin = yamlio.dumps(make(1, auc=0.9)).encode()
    raw_commit(repo, {f"experiments/2026-11/{rid(1)}.yaml": twin, f"experiments/2026-10/{rid(1)}.yaml": twin})
    ws = Workspace.find()
    assert summary.view(ws, Selection()) is None
    assert [i.head["id"] for i in records.scan(ws)] == [rid(1)]


@pytest.mark.filterwarnings("ignore::ledger.errors.LedgerWarning")
def test_a_failed_run_with_the_best_value_does_not_take_a_finished_runs_place(repo: Path) -> None:
    """Finished runs rank before failed ones: the summary's column must not pick the top n
    by value alone (a failed run with the best value used to push a finished run out)."""
    runs = [make(k, auc=0.5 + k / 100) for k in range(1, 6)]
    runs.append(make(9, auc=0.99, status="failed"))
    commit(repo, *runs)
    for n in (1, 2, 5, 6):
        top = api.top("auc", n=n)
        assert top.ids == api.top("auc", n=n, where="name != 'nobody'").ids  # ranked without the summary
        assert rid(9) not in top.ids[: min(n, 5)]
    assert api.top("auc", n=6).ids[-1] == rid(9)


@pytest.mark.filterwarnings("ignore::ledger.errors.LedgerWarning")
def test_a_live_running_run_ranks_after_finished_ones_and_a_dead_one_as_crashed(repo: Path) -> None:
    now = record.utcnow()
    alive = {"pid": os.getpid(), "host": processes.host(), "heartbeat_at": record.timestamp(now)}
    live = make(20, auc=0.98, status="running", started_at=record.timestamp(now), process=alive)
    dead = make(21, auc=0.97, status="running")  # no process that lives: shown crashed
    commit(repo, *[make(k, auc=0.5 + k / 100) for k in range(1, 4)], live, dead)
    top = api.top("auc", n=5)
    assert top.ids == [rid(3), rid(2), rid(1), rid(20), rid(21)]
    assert [r["status"] for r in top] == ["finished"] * 3 + ["running", "crashed"]
    assert top.ids[:4] == api.top("auc", n=4, where="name != 'nobody'").ids


def _newest_first_scan(ws: Workspace, selection: Selection) -> list[str]:
    items = records.scan_entries(ws, entries(ws, selection))
    return [i.head["id"] for i in sorted(items, key=lambda i: (i.head["started_at"], i.head["id"]), reverse=True)]


def test_the_summary_knows_each_runs_status_and_the_newest_first_order(repo: Path) -> None:
    commit(repo, *_runs(25))
    commit(repo, *_runs(4, start=30))  # a patched summary
    ws = Workspace.find()
    view = summary.view(ws, Selection(worktree=False))
    assert view is not None
    rows = [view.summary.row(i)[0] for i in view.summary.order()]
    assert [path.rsplit("/", 1)[-1][:-5] for path in rows] == _newest_first_scan(ws, Selection(worktree=False))
    statuses = view.summary.statuses()
    by_path = {item.path: item.record["status"] for item in records.scan_entries(ws, entries(ws, Selection()))}
    assert [by_path[view.summary.row(i)[0]] for i in range(len(statuses))] == statuses


@pytest.mark.filterwarnings("ignore::ledger.errors.LedgerWarning")
def test_runs_come_newest_first_with_uncommitted_ones_in_place(repo: Path) -> None:
    commit(repo, *_runs(30))
    ws = Workspace.find()
    # Uncommitted: new runs at the start, the end and amid ties, and a newer version of a
    # committed run that moves it.
    write(repo, make(70, started_at="2026-11-27T00:00:01.000Z"), make(71, started_at="2030-01-01T00:00:00.000Z"),
          make(72, started_at="2000-01-01T00:00:00.000Z"),
          make(5, auc=0.01, ended_at="2026-11-28T00:00:00.000Z", started_at="2026-11-27T00:00:02.000Z"))  # fmt: skip
    got = api.runs()
    assert got.ids == _newest_first_scan(ws, Selection())
    assert [r["id"] for r in got] == got.ids
    assert [r["id"] for r in got[3:6]] == got.ids[3:6]
    assert next(r for r in got if r["id"] == rid(5))["metrics"]["auc"] == 0.01
    dead = [r["status"] for r in got if r["status"] in ("running", "crashed")]
    assert dead and set(dead) == {"crashed"}  # shown as the reader shows them


@pytest.mark.filterwarnings("ignore::ledger.errors.LedgerWarning")
def test_metric_counts_baselines_and_names_from_the_summary_match_the_heads(repo: Path) -> None:
    runs = _runs(30)
    for k, rec in enumerate(runs):
        rec["baseline"] = k in (4, 9)
        if k == 7:
            rec["name"] = "twin"
    commit(repo, *runs, make(80, name="twin", metrics={"only_here": 1.0}))
    write(repo, make(81, baseline=True, metrics={"auc": 0.3, "fresh": 2.0}))  # uncommitted
    ws = Workspace.find()
    view = summary.view(ws, Selection())
    assert view is not None
    heads = [i.head for i in records.scan_entries(ws, entries(ws, Selection()))]
    shown = [i.head for i in api.scan_items(ws, Selection())]  # a dead running run: crashed
    assert {h["status"] for h in shown} >= {"crashed", "finished", "failed"}
    for status in (None, "finished", "failed", "crashed", "running"):
        for each, show in ((heads, None), (shown, lambda item: api.shown(ws, item))):
            chosen = [h for h in each if status is None or h["status"] == status]
            expected: dict[str, int] = {}
            for head in chosen:
                for name in head["metrics"]:
                    expected[name] = expected.get(name, 0) + 1
            assert view.metric_counts(status, show) == (len(chosen), expected)
    assert sorted(i.head["id"] for i in view.flagged()) == sorted(h["id"] for h in heads if h["baseline"] is True)
    assert sorted(i.head["id"] for i in view.named("twin")) == sorted([runs[7]["id"], rid(80)])
    assert [i.head["id"] for i in view.named(rid(3))] == [rid(3)]
    assert view.named("nobody") == []


@pytest.mark.filterwarnings("ignore::ledger.errors.LedgerWarning")
def test_a_revisions_runs_answer_from_the_summary_as_from_every_head(repo: Path) -> None:
    """What `ledger diff` asks of BASE (metric counts, the best finished run, runs by name,
    flagged baselines) is the same from the tree summary and from every run's head."""
    runs = _runs(40)
    for k, rec in enumerate(runs):
        rec["baseline"] = k in (4, 9, 13)
        if k in (7, 8):
            rec["name"] = "twin"
    runs.append(make(90, auc=2.0, status="failed"))  # the best value, not finished
    commit(repo, *runs)
    ws = Workspace.find()
    fast = api.RevisionRuns(ws, Selection(rev="HEAD", worktree=False))
    slow = api.RevisionRuns(ws, Selection(rev="HEAD", worktree=False))
    slow._view = None  # noqa: SLF001 - the same questions, answered from every head
    assert fast._view is not None  # noqa: SLF001
    for status in (None, "finished", "crashed"):
        assert fast.metric_counts(status) == slow.metric_counts(status)
    for metric, direction in METRICS:
        a, b = fast.best_finished(metric, direction), slow.best_finished(metric, direction)
        assert (a and a.head["id"]) == (b and b.head["id"]), (metric, direction)
    assert fast.best_finished("auc", "max") is not None and fast.best_finished("auc", "max").head["id"] != rid(90)
    for ref in ("twin", rid(3), "nobody"):
        assert [i.head["id"] for i in fast.named(ref)] == [i.head["id"] for i in slow.named(ref)]
    assert sorted(i.head["id"] for i in fast.flagged()) == sorted(i.head["id"] for i in slow.flagged())
