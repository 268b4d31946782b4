"""Revision lookup and "changed between merge-base and HEAD", written once (read.sources)
and used by `--rev A..B`, `ledger check A..B` and `ledger diff`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ledger
from ledger.core import record
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, UsageError
from ledger.gates.check import check_rev
from ledger.read.sources import EMPTY_TREE, changed_since_fork, resolve_revision
from support.query_helpers import commit, make, rid
from support.repo import git


@pytest.fixture
def branches(repo: Path) -> Path:
    """main: runs 1, 2; feature (from there): changes 2, adds 3, deletes 1; main goes on
    with 4 after the fork (not the feature's change)."""
    commit(repo, make(1), make(2))
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, make(2, auc=0.99), make(3))
    git(repo, "rm", "-q", record.record_path(rid(1)))
    git(repo, "commit", "-q", "-m", "drop 1")
    git(repo, "checkout", "-q", "main")
    commit(repo, make(4))
    return repo


def test_resolve_revision(branches: Path) -> None:
    ws = Workspace.find(branches)
    sha, when = resolve_revision(ws, "feature")
    assert sha == git(branches, "rev-parse", "feature") and when == int(
        git(branches, "log", "-1", "--format=%ct", "feature")
    )
    with pytest.raises(UsageError, match=r"bad revision '--all'"):
        resolve_revision(ws, "--all")  # never a git option
    with pytest.raises(UsageError, match=r"unknown revision 'nope': give a branch, tag or commit"):
        resolve_revision(ws, "nope")
    with pytest.raises(LedgerError, match=r"unknown revision 'nope' for BASE: .*fetch-depth") as caught:
        resolve_revision(ws, "nope", what="BASE", hint=" (in CI, check out with fetch-depth: 0)", error=LedgerError)
    assert type(caught.value) is LedgerError  # exit 1, as `ledger diff` wants


def test_changed_since_fork(branches: Path) -> None:
    ws = Workspace.find(branches)
    main, feature = git(branches, "rev-parse", "main"), git(branches, "rev-parse", "feature")
    changes = changed_since_fork(ws, main, feature)
    assert changes.fork == git(branches, "merge-base", "main", "feature")
    assert set(changes.changed) == {record.record_path(rid(2)), record.record_path(rid(3))}
    assert changes.changed[record.record_path(rid(3))] == git(
        branches, "rev-parse", f"feature:{record.record_path(rid(3))}"
    )
    assert changes.removed == (record.record_path(rid(1)),)
    # main's own later run 4 is not the feature's change, either way round
    assert set(changed_since_fork(ws, feature, main).changed) == {record.record_path(rid(4))}


def test_no_shared_history_compares_from_nothing(branches: Path) -> None:
    git(branches, "checkout", "-q", "--orphan", "other")
    git(branches, "rm", "-q", "-r", "--cached", ".")
    shutil.rmtree(branches / "experiments")  # the orphan starts with no records at all
    commit(branches, make(5))
    ws = Workspace.find(branches)
    changes = changed_since_fork(ws, git(branches, "rev-parse", "main"), git(branches, "rev-parse", "other"))
    assert changes.fork is None and set(changes.changed) == {record.record_path(rid(5))}
    assert EMPTY_TREE == git(branches, "hash-object", "-t", "tree", "/dev/null")


def test_the_consumers_agree(branches: Path) -> None:
    """`--rev A..B`, `ledger check A..B` and `ledger diff` see the same changed runs."""
    ws = Workspace.find(branches)
    assert sorted(ledger.runs(rev="main..feature").ids) == [rid(2), rid(3)]
    assert check_rev(ws, "main..feature").checked == 2
    from ledger.views.review.build import review

    found = review(ws, "main", "feature")
    assert sorted(e.record["id"] for e in found.entries) == [rid(2), rid(3)]
    assert found.removed == (rid(1),)
    assert [e.change for e in found.entries] == ["changed", "added"]
    assert [e.changed_fields for e in found.entries] == [("metrics",), ()]
    changes = changed_since_fork(ws, git(branches, "rev-parse", "main"), git(branches, "rev-parse", "feature"))
    assert set(changes.before) == {record.record_path(rid(1)), record.record_path(rid(2))}  # what the fork had


def test_the_review_wants_one_revision_on_each_side(branches: Path) -> None:
    from ledger.views.review.build import review

    ws = Workspace.find(branches)
    with pytest.raises(LedgerError, match=r"^bad revision 'main\.\.feature' for BASE: give a branch, tag or commit$"):
        review(ws, "main..feature", "feature")
    with pytest.raises(LedgerError, match="unknown revision 'nope' for HEAD: give a branch, tag or commit$"):
        review(ws, "main", "nope")
    with pytest.raises(LedgerError, match=r"unknown revision 'nope' for BASE: .*\(in CI, check out with fetch-depth"):
        review(ws, "nope", "feature")
