"""The workspace-level calls of the library face (`ledger.read.api`) that the rest of ledger
reads through, on real repositories: the records of a selection, one run by id or by
reference, the working tree's records as stored, one record's bytes checked, a branch's
changed records read as untrusted input, and ledger.yaml as a commit has it."""

from __future__ import annotations

import socket
import warnings
from pathlib import Path
from typing import Any

import pytest

from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, RecordError, RunNotFound, UsageError
from ledger.read import api, lookups
from support.query_helpers import commit, make, rid, write
from support.repo import git

DEAD_PID = 2**22 + 1  # above the largest pid_max Linux allows: never a live process


def dead_run(n: int, **fields: Any) -> dict[str, Any]:
    """A `running` record whose process is gone (killed before it could record an outcome)."""
    rec = make(n, status="running", **fields)
    rec["process"] = {"pid": DEAD_PID, "host": socket.gethostname(), "heartbeat_at": rec["started_at"]}
    return rec


@pytest.fixture
def ws(repo: Path) -> Workspace:
    commit(repo, make(2, slug="rf", auc=0.8), make(1, slug="xgb", auc=0.9))
    write(repo, make(3, slug="new", auc=0.7), dead_run(4, slug="dead"))
    return Workspace.find(repo)


def test_load_is_every_selected_run_by_id_with_where_it_was_found(ws: Workspace) -> None:
    loaded = api.load(ws)
    assert [item.record["id"] for item in loaded] == [rid(1, "xgb"), rid(2, "rf"), rid(3, "new"), rid(4, "dead")]
    head = git(ws.root, "rev-parse", "HEAD")
    assert {item.origin for item in loaded[:2]} == {head[:12]} and loaded[0].commit == head
    assert {item.origin for item in loaded[2:]} == {"worktree"} and loaded[3].commit is None
    assert loaded[3].record["status"] == "crashed"  # shown as a reader shows it, nothing written
    assert yamlio.load_file(ws.root / record.record_path(rid(4, "dead")))["status"] == "running"
    at_head = api.load(ws, api.Selection(rev="HEAD"))
    assert [item.record["id"] for item in at_head] == [rid(1, "xgb"), rid(2, "rf")]


def test_uncommitted_is_the_working_trees_runs_as_stored(ws: Workspace) -> None:
    items = api.uncommitted(ws)
    assert [item.head["id"] for item in items] == [rid(3, "new"), rid(4, "dead")]
    assert [item.record["status"] for item in items] == ["finished", "running"]  # a writer decides
    assert api.shown(ws, items[1]).record["status"] == "crashed"
    assert api.shown(ws, items[0]) is items[0]  # a live or ended run is shown as it is


def test_run_by_id_reads_only_that_run(ws: Workspace, repo: Path) -> None:
    found = api.run_by_id(ws, rid(2, "rf"))
    assert found is not None and found.record["metrics"] == {"auc": 0.8} and found.origin != "worktree"
    dead = api.run_by_id(ws, rid(4, "dead"))
    assert dead is not None and dead.record["status"] == "crashed"
    assert api.run_by_id(ws, rid(9, "none")) is None
    assert api.run_by_id(ws, rid(3, "new"), api.Selection(rev="HEAD")) is None  # not committed
    # A bad record elsewhere is not read, so it is not even warned about.
    (repo / record.record_path(rid(5, "bad"))).write_text("id: [\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert api.run_by_id(ws, rid(1, "xgb")) is not None
    assert [str(w.message) for w in caught] == []
    assert any("skipped a bad record" in str(w.message) for w in _warned(lambda: api.load(ws)))


def _warned(call: Any) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def test_find_and_candidates_by_id_prefix_suffix_and_name(ws: Workspace) -> None:
    loaded = api.load(ws)
    assert api.find(loaded, rid(2, "rf")).record["name"] == "rf-2"
    assert api.find(loaded, rid(1, "xgb")[:-1]).record["id"] == rid(1, "xgb")  # a unique prefix
    assert api.find(loaded, "new-3").record["id"] == rid(3, "new")  # a unique name
    with pytest.raises(RunNotFound, match="no run matches 'nothing'"):
        api.find(loaded, "nothing")
    with pytest.raises(LedgerError, match="matches 4 runs"):
        api.find(loaded, "20261127")
    items = list(api.scan_items(ws))
    assert [i.head["id"] for i in api.candidates(items, ["rf-2"])] == [rid(2, "rf")]


def test_parse_record_and_validate_record_check_what_the_reader_checks() -> None:
    rec = make(1)
    path = record.record_path(rec["id"])
    assert api.parse_record(yamlio.dumps(rec).encode(), "x", path) == rec
    with pytest.raises(RecordError, match="does not match its file name"):
        api.parse_record(yamlio.dumps(rec).encode(), "x", record.record_path(rid(2)))
    with pytest.raises(RecordError, match="invalid YAML"):
        api.parse_record(b"id: [\n", "x")
    api.validate_record(rec, source=path)
    with pytest.raises(RecordError) as bad:
        api.validate_record({**rec, "status": "exploded"}, source=path)
    assert bad.value.pointer == "/status" and path in str(bad.value)


def test_read_records_reads_a_branchs_changes_as_untrusted_input(repo: Path) -> None:
    commit(repo, make(1))
    git(repo, "checkout", "-q", "-b", "feature")
    good = make(2, auc=0.95)
    commit(repo, good, make(1, auc=0.6))  # one added, one changed
    bad_path = record.record_path(rid(3))
    (repo / bad_path).write_text("id: [\n", encoding="utf-8")
    (repo / record.record_path(rid(4))).write_text(yamlio.dumps(make(5)), encoding="utf-8")  # id mismatch
    git(repo, "add", "-A", "experiments")
    git(repo, "commit", "-q", "-m", "more")
    ws = Workspace.find(repo)
    changes = api.changed_since_fork(ws, git(repo, "rev-parse", "main"), git(repo, "rev-parse", "feature"))
    assert set(changes.before) == {record.record_path(rid(1))}  # the fork had only that one
    assert changes.before[record.record_path(rid(1))] == git(repo, "rev-parse", f"main:{record.record_path(rid(1))}")
    parsed, problems = api.read_records(ws, changes.changed, "feature")
    assert sorted(parsed) == sorted([record.record_path(rid(1)), record.record_path(rid(2))])
    assert parsed[record.record_path(rid(2))] == good
    assert sorted(problems) == sorted([bad_path, record.record_path(rid(4))])
    assert problems[bad_path].startswith(f"feature:{bad_path}: invalid YAML")
    assert "does not match its file name" in problems[record.record_path(rid(4))]
    assert api.read_records(ws, {}, "feature") == ({}, {})
    # The same verdicts from the tree summary of the commit that holds those blobs (built
    # the first time, then read), and read as before when the commit does not hold them.
    head = git(repo, "rev-parse", "feature")
    for _ in range(2):
        assert api.read_records(ws, changes.changed, "feature", rev=head) == (parsed, problems)
        assert lookups._from_summary(ws, changes.changed, "feature", head) == (parsed, problems)  # noqa: SLF001
    elsewhere = api.read_records(ws, changes.changed, "feature", rev=git(repo, "rev-parse", "main"))
    assert elsewhere == (parsed, problems)


def test_settings_at_reads_ledger_yaml_as_a_commit_has_it(repo: Path) -> None:
    ws = Workspace.find(repo)
    first = git(repo, "rev-parse", "HEAD")
    (repo / "ledger.yaml").write_text("# now\nprimary_metric: loss\nmetrics: {loss: min}\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "loss")
    found = api.settings_at(ws, first)
    assert found is not None and (found.experiment, found.primary_metric) == ("tests", "auc")
    later = api.settings_at(ws, "HEAD")
    assert later is not None and later.primary_metric == "loss" and later.direction("loss") == "min"
    (repo / "ledger.yaml").write_text("metrics: [oops\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "broken")
    assert api.settings_at(ws, "HEAD") is None  # unreadable: the caller falls back
    git(repo, "rm", "-q", "ledger.yaml")
    git(repo, "commit", "-q", "-m", "none")
    assert api.settings_at(ws, "HEAD") is None


def test_resolve_revision_is_one_revision_never_a_range_or_an_option(ws: Workspace) -> None:
    sha, when = api.resolve_revision(ws, "main")
    assert sha == git(ws.root, "rev-parse", "main") and when > 0
    for bad in ("main..main", "--all", "", "a b"):
        with pytest.raises(UsageError, match="bad revision"):
            api.resolve_revision(ws, bad)
    with pytest.raises(LedgerError, match=r"unknown revision 'nope' for HEAD: give a branch, tag or commit$"):
        api.resolve_revision(ws, "nope", what="HEAD", hint="", error=LedgerError)
    with pytest.raises(UsageError, match="see `git log`"):
        api.resolve_revision(ws, "nope")
