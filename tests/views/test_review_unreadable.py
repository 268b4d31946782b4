"""`ledger diff` fails the gate when the branch adds or changes records it cannot read.

Real git branches: main holds a baseline and a record that is already broken on main; a
branch adds a run that beats main (so the metric alone says "improvement") together with
2,048 unreadable records (bad YAML, schema-invalid, hostile aliases) and breaks one record
that was valid on main.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.core import record, yamlio
from support.repo import git, ledger_cli

GOOD = "20261127-100000-baseline-0a0a0a"
BROKEN_ON_MAIN = "20261127-100001-oldbad-0b0b0b"
CHANGED = "20261127-100002-changed-0c0c0c"
BETTER = "20261128-100000-better-0d0d0d"
COUNT = 2048


def _rec(run_id: str, auc: float) -> dict[str, Any]:
    return record.canonical({
        "id": run_id, "name": run_id.split("-")[2], "experiment": "tests", "status": "finished",
        "started_at": "2026-11-27T10:00:00.000Z", "ended_at": "2026-11-27T10:01:00.000Z",
        "duration_s": 60.0, "params": {}, "metrics": {"auc": auc},
    })  # fmt: skip


def _write(root: Path, run_id: str, text: str) -> None:
    path = root / record.record_path(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _bad(i: int) -> tuple[str, str]:
    run_id = f"20261128-{i // 60:04d}{i % 60:02d}-bad-{i:06x}"
    kind = i % 3
    if kind == 0:  # bad YAML
        text = f"schema_version: 1\nid: {run_id}\nname: [unclosed\n"
    elif kind == 1:  # schema-invalid
        text = yamlio.dumps({**_rec(run_id, 0.99), "status": "exploded"})
    else:  # hostile: aliases
        text = f"a: &a [1, 2]\nb: [*a, *a]\nid: {run_id}\n"
    return run_id, text


@pytest.fixture
def branch(repo: Path) -> Path:
    (repo / "ledger.yaml").write_text("experiment: tests\nprimary_metric: auc\nmetrics: {auc: max}\n")
    _write(repo, GOOD, yamlio.dumps(_rec(GOOD, 0.80)))
    _write(repo, CHANGED, yamlio.dumps(_rec(CHANGED, 0.70)))
    _write(repo, BROKEN_ON_MAIN, "id: [unclosed\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "main runs")
    git(repo, "checkout", "-q", "-b", "feature")
    _write(repo, BETTER, yamlio.dumps(_rec(BETTER, 0.95)))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a better run")
    git(repo, "branch", "clean-feature")
    for i in range(COUNT):
        run_id, text = _bad(i)
        _write(repo, run_id, text)
    _write(repo, CHANGED, "status: [broken\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "many broken records")
    return repo


def test_gate_fails_on_unreadable_records_added_or_changed(branch: Path) -> None:
    proc = ledger_cli(branch, "diff", "main", "--fail-on-regression")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    reason = proc.stderr.strip().splitlines()[-1]  # the base's own bad record is warned above it
    assert reason.startswith(f"ledger: {COUNT + 1:,} unreadable records added or changed on this branch (")
    assert record.record_path(CHANGED) in reason and "ledger check --rev main..HEAD" in reason
    # The table review says so first and lists every one of them.
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"failed: {COUNT + 1:,} unreadable records on this branch; improvement")
    assert proc.stdout.count("unreadable record, skipped:") == COUNT + 1
    assert record.record_path(BROKEN_ON_MAIN) not in proc.stdout


def test_json_and_markdown_list_them(branch: Path) -> None:
    rv = json.loads(ledger_cli(branch, "diff", "main", "--format", "json").stdout)
    assert len(rv["unreadable"]) == len(rv["invalid"]) == COUNT + 1
    assert record.record_path(CHANGED) in rv["unreadable"]
    assert record.record_path(BROKEN_ON_MAIN) not in rv["unreadable"]
    assert [r["id"] for r in rv["runs"]] == [BETTER] and rv["regression"] is False
    assert rv["summary"].startswith("failed: ")
    md = ledger_cli(branch, "diff", "main", "--format", "markdown")
    assert md.returncode == 0, md.stderr  # without the flag the review is shown, not fatal
    text = md.stdout
    assert "❌ **failed: 2,049 unreadable records on this branch" in text
    assert "✅ **" not in text  # the headline is not green (the run itself is still "better")
    assert f"- ❌ {COUNT + 1:,} unreadable records added or changed on this branch" in text
    assert text.count("unreadable record, skipped:") == 50
    assert f"… and {COUNT + 1 - 50:,} more unreadable records" in text
    assert len(text) < 65_536  # still fits one PR comment


def test_unreadable_only_on_base_stays_a_warning(branch: Path) -> None:
    proc = ledger_cli(branch, "diff", "main", "clean-feature", "--fail-on-regression")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("improvement: the best new run beats the best on BASE")
    assert "skipped a bad record" in proc.stderr and record.record_path(BROKEN_ON_MAIN) in proc.stderr
