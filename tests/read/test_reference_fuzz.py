"""The fast reader gives the reference answer (PyYAML's safe loader with ledger's checks,
then jsonschema) or hands back, and one malformed scalar never takes a query down.

Seeded differential fuzzing (tests/support/fuzz.py): comma, space, quote and sign mutations
of numeric slots in layouts the reader has learnt, malformed dates and tagged scalars, and
line edits, one document at a time and in batches as a worker reads them.
benchmarks/bench_fuzz.py runs the same fuzzer over 10^6 cases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.cli import main
from ledger.core import yamlio
from ledger.errors import RecordError
from ledger.read import batches, bulkread
from ledger.write.capture import params as capture_params
from support import fuzz
from support.query_helpers import commit, make, raw_commit, rid
from support.repo import git, ledger_cli


def test_fuzz_fast_reader_agrees_with_the_reference() -> None:
    reader = fuzz.fresh_shapes()
    counts, failures = fuzz.run(seed=14, cases=3000, reader=reader)
    assert not failures, (counts, failures[:3])
    assert counts["accepted"] > 300 and counts["refused"] > 1000, counts  # both sides really ran
    assert reader.hits > 300, reader.hits  # and most accepted cases were read by a learnt shape


def test_fuzz_batches_agree_with_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams as a worker reads them: records of one layout in batches, some with an odd
    text in a column (`fuzz.ODD`: `1,0.999`, `''`, `yes`, `null`, `1e5`, `0x1f`, dates...),
    mixed with mutated and invalid records and other layouts."""
    read = batches.read
    vouched: list[int] = []

    def counting(shape: Any, fixed: Any, groups: Any) -> Any:
        got = read(shape, fixed, groups)
        vouched.append(sum(pair is not None for pair in got))
        return got

    monkeypatch.setattr(batches, "read", counting)
    counts, failures = fuzz.run(seed=15, cases=3000, batched=True)
    assert not failures, (counts, failures[:3])
    assert counts["accepted"] > 1000 and counts["refused"] > 300, counts
    assert sum(vouched) > 1000, sum(vouched)  # most accepted records were read by a batch


@pytest.mark.parametrize("text", ["1,0.999", "0,5", "1,2,3", "0.5 1", "'0.5'", "+0.5", "--1", "1_0", "0.9,"])
def test_a_malformed_number_in_a_learnt_layout_shifts_nothing(text: str) -> None:
    reader = fuzz.fresh_shapes()
    rec = make(1, auc=0.5)
    base = yamlio.dumps(rec)
    for _ in range(3):
        reader.parse(base)
    assert reader.count == 1
    variant = base.replace("duration_s: 1.0", f"duration_s: {text}")
    assert variant != base
    previous = bulkread._SHAPES
    bulkread._SHAPES = reader
    try:
        assert fuzz.verdict(variant.encode()) in ("accepted", "refused")
        payload = bulkread.analyze(variant.encode())
    finally:
        bulkread._SHAPES = previous
    if "e" not in payload:  # `+0.5`, `1_0`: YAML 1.1 numbers; the rest are strings
        got = payload.get("r") or json.loads(payload["j"][1])
        assert got["metrics"] == {"auc": 0.5} and got["params"] == rec["params"]


MALFORMED = ["2026-13-45", "2026-02-30", "!!bool x", "!!int x", "!!float x", "!!timestamp x", "!!int ''",
             "!!float ''", "!!bool ''", "!!int 0x", "2026-01-01 10:00:00 +99:00", "!!int " + "9" * 5000]  # fmt: skip


@pytest.mark.parametrize("text", MALFORMED)
def test_a_scalar_its_type_cannot_hold_is_a_record_error(text: str) -> None:
    with pytest.raises(RecordError) as info:
        yamlio.loads(f"a: 1\nnotes:\n- {text}\n", source="r.yaml")
    message = str(info.value)
    assert message.startswith("r.yaml: invalid YAML: ") and "(line 3, column 3)" in message
    assert "quote it" in message and "\n" not in message


def test_malformed_scalars_are_skipped_and_every_query_answers(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = {}
    for n, text in enumerate(MALFORMED[:6], start=10):
        lines = yamlio.dumps(make(n, slug="bad", auc=0.99)).replace("ended_at: null", f"ended_at: {text}")
        bad[f"experiments/2026-11/{rid(n, 'bad')}.yaml"] = lines.encode()
    raw_commit(repo, bad)
    commit(repo, make(1, auc=0.7), make(2, auc=0.8))
    proc = ledger_cli(repo, "top", "-m", "auc", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [d["id"] for d in json.loads(proc.stdout)] == [rid(2), rid(1)]
    warned = proc.stderr.splitlines()
    assert len(warned) == 6 and all("skipped a bad record" in line and "is not a valid" in line for line in warned)
    for args in (["ls", "--format", "json"], ["show", rid(1)], ["top", "-m", "auc"]):  # warm, from the cache
        assert main(args) == 0, args
        out, _ = capsys.readouterr()
        assert rid(1) in out and "-bad-" not in out
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, make(3, auc=0.9))
    assert main(["diff", "main", "feature"]) == 0
    assert rid(3) in capsys.readouterr().out


def test_a_comma_number_cannot_win_the_leaderboard(repo: Path) -> None:
    """The issue's case: a record of a learnt layout saying `auc: 0.5` never ranks as 0.999."""
    good = [make(n, auc=0.6 + n / 100) for n in range(1, 6)]
    commit(repo, *good)
    text = yamlio.dumps(make(9, auc=0.5)).replace("duration_s: 1.0", "duration_s: 1,0.999")
    raw_commit(repo, {f"experiments/2026-11/{rid(9)}.yaml": text.encode()})
    for _ in range(2):  # cold, then warm from the cache
        proc = ledger_cli(repo, "top", "-m", "auc", "--format", "json")
        assert proc.returncode == 0, proc.stderr
        ranked = json.loads(proc.stdout)
        assert [d["id"] for d in ranked] == [rid(n) for n in (5, 4, 3, 2, 1)]
        assert rid(9) in proc.stderr and "/duration_s" in proc.stderr


def test_run_with_an_invalid_date_override_keeps_it_as_text(repo: Path) -> None:
    assert capture_params.parse_override("when=2026-13-45") == (["when"], "2026-13-45")
    assert capture_params.parse_override("flag=!!bool x") == (["flag"], "!!bool x")
    proc = ledger_cli(repo, "run", "-p", "+when=2026-13-45", "--", "python", "train.py")
    assert proc.returncode == 0, proc.stderr
    shown = ledger_cli(repo, "ls", "--format", "json")
    [run] = json.loads(shown.stdout)
    record = ledger_cli(repo, "show", run["id"], "--format", "json")
    assert json.loads(record.stdout)["params"]["when"] == "2026-13-45"
