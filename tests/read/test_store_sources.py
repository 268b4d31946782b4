"""The read path's sources, dedup rule, cache and hostile records, on real repositories."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from ledger.core import record, yamlio
from ledger.core.workspace import Workspace
from ledger.errors import LedgerError, LedgerWarning, RunNotFound
from ledger.read import bulkread
from ledger.read import cache as cache_mod
from ledger.read import records as store
from ledger.read.sources import Selection
from support.query_helpers import commit, make, raw_commit, rid, write
from support.repo import git


def ids(ws: Workspace, selection: Selection | None = None) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LedgerWarning)
        return sorted(item.head["id"] for item in store.scan(ws, selection))


def scan_warnings(ws: Workspace, selection: Selection | None = None) -> tuple[list[str], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = sorted(item.record["id"] for item in store.scan(ws, selection))
    return found, [str(w.message) for w in caught if issubclass(w.category, LedgerWarning)]


def test_head_plus_worktree_by_default(repo: Path) -> None:
    ws = Workspace.find()
    commit(repo, make(1), make(2))
    write(repo, make(3))  # not committed
    assert ids(ws) == [rid(1), rid(2), rid(3)]
    assert ids(ws, Selection(worktree=False)) == [rid(1), rid(2)]
    assert [i.record["id"] for i in store.load(ws, worktree=False)] == [rid(1), rid(2)]
    assert [i.record["id"] for i in store.from_worktree(ws)] == [rid(3)]


def test_unborn_branch_reads_the_working_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    monkeypatch.chdir(root)
    write(root, make(1))
    ws = Workspace.find()
    assert ids(ws) == [rid(1)]
    assert [i.record["id"] for i in store.load(ws)] == [rid(1)]
    with pytest.raises(LedgerError, match="bad revision"):
        ids(ws, Selection(rev="--output=x"))


def test_all_branches_and_single_revision(repo: Path) -> None:
    ws = Workspace.find()
    commit(repo, make(1))
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, make(2))
    git(repo, "checkout", "-q", "main")
    commit(repo, make(3))
    # a remote-tracking branch too
    git(repo, "update-ref", "refs/remotes/origin/other", "feature")
    git(repo, "checkout", "-q", "-b", "third", "main~1")
    commit(repo, make(4))
    git(repo, "update-ref", "-d", "refs/heads/third")
    git(repo, "checkout", "-q", "main")
    assert ids(ws) == [rid(1), rid(3)]
    assert ids(ws, Selection(all_branches=True)) == [rid(1), rid(2), rid(3)]
    assert ids(ws, Selection(rev="feature")) == [rid(1), rid(2)]
    assert [i.record["id"] for i in store.from_revision(ws, "feature")] == [rid(1), rid(2)]
    with pytest.raises(LedgerError, match="unknown revision"):
        ids(ws, Selection(rev="no-such-branch"))


def test_range_lists_runs_added_or_changed_on_b(repo: Path) -> None:
    ws = Workspace.find()
    commit(repo, make(1), make(2))
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, make(3))
    commit(repo, make(1, auc=0.9))  # changed on the branch
    git(repo, "checkout", "-q", "main")
    commit(repo, make(5))  # main moved on: not part of main..feature
    assert ids(ws, Selection(rev="main..feature")) == [rid(1), rid(3)]
    assert ids(ws, Selection(rev="feature..main")) == [rid(5)]
    with pytest.raises(LedgerError, match="bad range"):
        ids(ws, Selection(rev="main.."))


def test_include_deleted_finds_records_from_history(repo: Path) -> None:
    ws = Workspace.find()
    commit(repo, make(1), make(2))
    git(repo, "rm", "-q", record.record_path(rid(2)))
    git(repo, "commit", "-q", "-m", "drop a run")
    assert ids(ws) == [rid(1)]
    assert ids(ws, Selection(include_deleted=True)) == [rid(1), rid(2)]
    [deleted] = [i for i in store.scan(ws, Selection(include_deleted=True)) if i.head["id"] == rid(2)]
    assert deleted.origin.endswith("^") and deleted.record["metrics"] == {"auc": 0.5}


def test_one_run_in_several_places_is_one_run_newest_wins(repo: Path) -> None:
    ws = Workspace.find()
    process = {"pid": 1, "host": "elsewhere", "heartbeat_at": "2026-11-27T00:00:09.000Z"}
    running = make(1, status="running", process=process)
    commit(repo, running, make(2))
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, make(1, auc=0.8, ended_at="2026-11-27T01:00:00.000Z"))
    git(repo, "checkout", "-q", "main")
    items = {i.head["id"]: i for i in store.scan(ws, Selection(all_branches=True))}
    assert sorted(items) == [rid(1), rid(2)]
    assert items[rid(1)].record["status"] == "finished"
    assert items[rid(1)].head["metrics"]["auc"] == 0.8
    # the working tree is the newest place of all
    write(repo, make(1, auc=0.95, ended_at="2026-11-27T01:00:00.000Z"))
    items = {i.head["id"]: i for i in store.scan(ws, Selection(all_branches=True))}
    assert items[rid(1)].head["metrics"]["auc"] == 0.95 and items[rid(1)].origin == "worktree"


def test_find_by_id_prefix_and_name(repo: Path) -> None:
    ws = Workspace.find()
    commit(repo, make(1, name="alpha"), make(2, name="beta"), make(3, name="beta"))
    items = list(store.scan(ws))
    assert store.find(items, rid(1)).head["id"] == rid(1)
    assert store.find(items, rid(2)[:-2]).head["id"] == rid(2)
    assert store.find(items, "alpha").head["id"] == rid(1)
    with pytest.raises(LedgerError, match="matches 2 runs"):
        store.find(items, "beta")
    with pytest.raises(LedgerError, match="matches 3 runs"):
        store.find(items, "20261127")
    with pytest.raises(RunNotFound):
        store.find(items, "nope")


HOSTILE = {
    "alias": b"schema_version: 1\nid: &a x\nname: *a\n",
    "tag": b"schema_version: 1\nid: !!python/object:os.system x\n",
    "duplicate": None,  # filled below from a valid record
    "deep": b"schema_version: 1\nparams:\n"
    + b"".join(b"  " * i + b"k:\n" for i in range(1, 40))
    + b"  " * 40
    + b"v: 1\n",
    "schema": None,
    "binary": b"\xff\xfe\x00garbage",
    "newer": None,
    "oversize": b"schema_version: 1\nnotes: '" + b"x" * (yamlio.MAX_BYTES + 10) + b"'\n",
    "mismatch": None,
    "escape": None,
}


def hostile_files(n0: int) -> dict[str, bytes]:
    files = {}
    for k, (kind, data) in enumerate(HOSTILE.items()):
        run_id = rid(n0 + k, kind)
        valid = yamlio.dumps(make(n0 + k, slug=kind)).encode()
        if kind == "duplicate":
            data = valid + b"name: again\n"
        elif kind == "schema":
            data = valid.replace(b"status: finished", b"status: exploded")
        elif kind == "newer":
            data = valid.replace(b"schema_version: 1", b"schema_version: 99")
        elif kind == "mismatch":
            data = yamlio.dumps(make(n0 + 50, slug="other")).encode()
        elif kind == "escape":
            escape = {"path": "../../etc/passwd", "metrics": {}}
            data = yamlio.dumps({**make(n0 + k, slug=kind), "series": escape}).encode()
        assert data is not None
        files[record.record_path(run_id)] = data
    return files


def test_hostile_records_are_skipped_with_one_warning_each(repo: Path) -> None:
    ws = Workspace.find()
    files = hostile_files(100)
    raw_commit(repo, files)
    sha = commit(repo, make(1, auc=0.7))
    found, messages = scan_warnings(ws)
    assert found == [rid(1)]  # the query still answers
    assert len(messages) == len(files)
    for path in files:
        [line] = [m for m in messages if path in m]
        assert "\n" not in line and sha[:12] in line  # names the commit and the path
    assert any("upgrade ledger" in m for m in messages)
    assert any("aliases" in m for m in messages)
    assert any("does not match its file name" in m for m in messages)
    # warm: the same warnings, from the cache, without parsing again
    found_warm, warm_messages = scan_warnings(ws)
    assert found_warm == found and sorted(warm_messages) == sorted(messages)


def test_worktree_record_with_control_characters_is_kept_but_cannot_escape(repo: Path) -> None:
    ws = Workspace.find()
    write(repo, make(1, name="evil\x1b[31mred\x07", notes="line\nbreak"))
    [item] = store.scan(ws)
    assert item.record["name"] == "evil\x1b[31mred\x07"  # data is data; the CLI sanitizes


def test_cache_is_used_rebuilt_and_never_changes_an_answer(repo: Path) -> None:
    ws = Workspace.find()
    commit(repo, *(make(n, auc=n / 100) for n in range(1, 30)))
    cold = [i.loaded() for i in store.scan(ws)]
    cache_dir = Path(git(repo, "rev-parse", "--absolute-git-dir")) / cache_mod.DIRNAME
    [cache_file] = list(cache_dir.glob("records-*.jsonl"))
    lines = [line for line in cache_file.read_bytes().split(b"\n") if line]
    assert len(lines) == 29

    def answer() -> list[store.Loaded]:
        return sorted((i.loaded() for i in store.scan(ws)), key=lambda x: x.record["id"])

    assert answer() == sorted(cold, key=lambda x: x.record["id"])
    # A line whose JSON still parses but whose content changed: checksum fails, reparsed.
    text = cache_file.read_bytes()
    tampered = text.replace(b'"auc":0.05', b'"auc":0.99', 2)
    assert tampered != text
    cache_file.write_bytes(tampered + b"garbage without checksum\n" + b"\x00\xff" * 10)
    assert answer() == sorted(cold, key=lambda x: x.record["id"])
    repaired = cache_file.read_bytes()
    assert b"garbage" not in repaired and b'"auc":0.99' not in repaired
    # Only the full-record part of a line changed: the head still checks out, the record
    # part fails its own checksum when it is needed, and the blob is read again.
    first, second = repaired.index(b'"auc":0.05'), repaired.index(b'"auc":0.05', repaired.index(b'"auc":0.05') + 1)
    assert first < second
    cache_file.write_bytes(repaired[:second] + b'"auc":0.77' + repaired[second + 10 :])
    assert answer() == sorted(cold, key=lambda x: x.record["id"])
    cache_file.write_bytes(repaired)
    # Truncated in the middle of a line, then deleted altogether.
    cache_file.write_bytes(repaired[: len(repaired) // 2])
    assert answer() == sorted(cold, key=lambda x: x.record["id"])
    cache_file.unlink()
    assert answer() == sorted(cold, key=lambda x: x.record["id"])
    # A cache directory that cannot be used at all (a file in its place): still answers.
    shutil.rmtree(cache_dir)
    cache_dir.write_text("not a directory")
    assert answer() == sorted(cold, key=lambda x: x.record["id"])


def test_cache_key_changes_with_the_schema(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache_mod.cache_key()
    original = cache_mod.schema.load_schema("run")
    monkeypatch.setattr(cache_mod.schema, "load_schema", lambda name="run": {**original, "title": "changed"})
    assert cache_mod.cache_key() != key


def test_parallel_cold_scan_matches_in_process(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.find()
    files = hostile_files(300)
    raw_commit(repo, files)
    commit(repo, *(make(n, auc=(n * 37 % 101) / 101) for n in range(1, 61)))
    monkeypatch.setattr(bulkread, "PARALLEL_MIN", 10**9)
    serial, serial_warnings = scan_warnings(ws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LedgerWarning)
        serial_records = sorted((i.record for i in store.scan(ws)), key=lambda r: r["id"])
    cache_dir = Path(git(repo, "rev-parse", "--absolute-git-dir")) / cache_mod.DIRNAME
    shutil.rmtree(cache_dir)
    monkeypatch.setattr(bulkread, "PARALLEL_MIN", 1)
    progress: list[tuple[int, int]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scanned = store.scan(ws, progress=lambda d, t: progress.append((d, t)))
        parallel = sorted((i.record for i in scanned), key=lambda r: r["id"])
    assert [r["id"] for r in parallel] == serial and parallel == serial_records
    assert sorted(str(w.message) for w in caught) == sorted(serial_warnings)
    assert progress and progress[-1][0] <= progress[-1][1]


def test_a_huge_untracked_record_is_refused_by_its_size_without_being_read(repo: Path) -> None:
    import tracemalloc

    ws = Workspace.find()
    commit(repo, make(1))
    huge = repo / record.record_path(rid(2))
    huge.parent.mkdir(parents=True, exist_ok=True)
    with open(huge, "wb") as fh:  # 500 MB, sparse: no disk used
        fh.truncate(500 * 1024 * 1024)
    tracemalloc.start()
    try:
        found, messages = scan_warnings(ws)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == [rid(1)]
    assert any("larger than" in m and rid(2) in m for m in messages)
    assert peak < 50 * 1024 * 1024  # it was never read whole
