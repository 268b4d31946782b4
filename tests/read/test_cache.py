"""The disposable record cache (ledger.read.cache): lines checked by checksum, damage
ignored and repaired, and deleting or corrupting it never changes an answer."""

from __future__ import annotations

from pathlib import Path

import ledger
from ledger import gitstore
from ledger.read import cache
from support.query_helpers import commit, make

BLOB = "a" * 40


def test_a_line_round_trips_and_its_head_is_small() -> None:
    rec = make(1, auc=0.9, params={"lr": 0.1, "huge": "x" * 1000})
    line = cache.encode(BLOB, {"r": rec})
    blob, head, same = cache.decode(line)  # type: ignore[misc]
    assert (blob, same) == (BLOB, line)
    assert head == {k: rec[k] for k in cache.HEAD_FIELDS if k in rec} and "params" not in head
    assert cache.full_record(line) == rec


def test_a_rejected_blob_is_remembered_with_its_reason() -> None:
    line = cache.encode(BLOB, {"e": "not a mapping", "p": "/metrics", "v": None})
    _, head, _ = cache.decode(line)  # type: ignore[misc]
    assert head == {"e": "not a mapping", "p": "/metrics", "v": None}
    assert cache.full_record(line) is None


def test_damage_is_caught_by_the_checksums() -> None:
    line = cache.encode(BLOB, {"r": make(1, auc=0.9)})
    head_flip = line.replace(b'"auc":0.9', b'"auc":9.9', 1)
    assert cache.decode(head_flip) is None  # the head's checksum
    tab = line.index(b"\t")
    full_flip = line[:tab] + line[tab:].replace(b"0.9", b"0.8", 1)
    assert cache.decode(full_flip) is not None and cache.full_record(full_flip) is None  # the full one's
    assert cache.decode(line[:30]) is None and cache.decode(b"garbage\n") is None


def test_cache_file_read_append_and_repair(tmp_path: Path) -> None:
    store = cache.Cache(tmp_path)
    assert store.writable()
    good = cache.encode(BLOB, {"r": make(1)})
    other = cache.encode("b" * 40, {"r": make(2)})
    bad = cache.encode("c" * 40, {"r": make(3)}).replace(b'"status":"finished"', b'"status":"FINISHED"')
    store.append([good, bad, other])
    (store.dir / "records-0000000000000000.jsonl").write_bytes(good)  # another cache key's file
    (store.dir / "trees-0000000000000000").mkdir()  # and its tree summaries
    (store.dir / "trees-0000000000000000" / ("d" * 40)).write_bytes(b"old")
    mine = store.dir / ("trees-" + cache.cache_key())
    mine.mkdir()
    found = {blob for blob, *_ in store.read({BLOB, "b" * 40, "c" * 40})}
    assert found == {BLOB, "b" * 40} and store.damaged == 1
    store.repair()
    assert store.path.read_bytes().count(b"\n") == 2  # the damaged line is gone, the good ones stay
    assert sorted(p.name for p in store.dir.iterdir()) == sorted([store.path.name, mine.name])


def test_answers_do_not_depend_on_the_cache(repo: Path) -> None:
    commit(repo, *[make(n, auc=n / 10) for n in range(1, 6)])
    cold = ledger.top("auc", n=3).ids
    store = cache.Cache(gitstore.common_dir(repo))
    assert store.size() > 0  # the first read filled it
    assert ledger.top("auc", n=3).ids == cold  # warm
    data = store.path.read_bytes()
    store.path.write_bytes(data.replace(b'"auc":0.5', b'"auc":0.01'))  # an edit the checksum catches
    assert ledger.top("auc", n=3).ids == cold
    store.path.write_bytes(b"\x00torn" + data[: len(data) // 2])  # a torn, garbled file
    assert ledger.top("auc", n=3).ids == cold
    store.path.unlink()
    assert ledger.top("auc", n=3).ids == cold and [r["metrics"]["auc"] for r in ledger.top("auc", n=3)] == [
        0.5,
        0.4,
        0.3,
    ]
