"""Finalizing a run (ledger.write.finalize): the record built from context + journal +
outcome, its cost, the files of its commit, and committing under the workspace's policy."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import ledger
from ledger.core import record, yamlio
from ledger.core.config import Config
from ledger.core.journal import Fold, read_context, write_event
from ledger.core.workspace import Workspace
from ledger.errors import LedgerWarning
from ledger.write import finalize
from ledger.write.tracking import Run
from support.repo import git, records

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@pytest.mark.parametrize(
    ("prices", "wall_s", "gpus", "items", "expected"),
    [
        ({}, 3600.0, 0, [], None),  # nothing priced, nothing logged: no cost field
        ({"cpu_hour": 2.0}, 1800.0, 0, [], {"amount": 1.0, "currency": "EUR", "basis": "0.5000 h x 2 EUR/h"}),
        (
            {"cpu_hour": 1.0, "gpu_hour": 10.0}, 3600.0, 2, [],
            {"amount": 21.0, "currency": "EUR", "basis": "1.0000 h x 1 EUR/h; 1.0000 h x 2 GPU x 10 EUR/h"},
        ),
        (
            {}, None, 0, [{"amount": 3.5, "currency": "EUR"}, {"amount": 99.0, "currency": "USD"}],
            {"amount": 3.5, "currency": "EUR", "basis": "2 logged cost item(s)",
             "items": [{"amount": 3.5, "currency": "EUR"}, {"amount": 99.0, "currency": "USD"}]},
        ),  # another currency is kept as an item, never added to the amount
    ],
)  # fmt: skip
def test_cost_field(
    prices: dict[str, float], wall_s: float | None, gpus: int, items: list, expected: dict | None
) -> None:
    config = dataclasses.replace(Config(), currency="EUR", **prices)
    assert finalize.cost_field(config, wall_s, gpus, items) == expected


def test_build_merges_context_journal_and_outcome(repo: Path) -> None:
    ws = Workspace.find(repo)
    run = Run.create(ws, name="fin", description=f"token {SECRET}", params={"lr": 0.1})
    try:
        context = read_context(run.sidecar)
        assert context is not None
        write_event(run.sidecar, "params", {"params": {"model": {"depth": 3}}})
        write_event(run.sidecar, "tags", {"tags": {"stage": "dev"}})
        write_event(run.sidecar, "note", {"text": f"see {repo}/out and {SECRET}"})
        write_event(run.sidecar, "error", {"error": {"type": "ValueError", "message": "bad", "traceback": "tb"}})
        fold = Fold()
        fold.update(run.sidecar)
        rec = finalize.build(
            ws, context, fold, status="failed", ended_at=record.timestamp(record.utcnow()), duration_s=1.23456,
            error={"type": "Exit", "exit_code": 3}, resources={"wall_s": 1.2},
        )  # fmt: skip
    finally:
        run.end("killed")
    assert rec["params"] == {"lr": 0.1, "seed": 7, "model": {"depth": 3}}
    assert rec["tags"] == {"stage": "dev"} and rec["status"] == "failed" and rec["duration_s"] == 1.235
    assert rec["error"] == {"type": "ValueError", "message": "bad", "traceback": "tb", "exit_code": 3}
    assert SECRET not in yamlio.dumps(rec) and str(repo) not in rec["notes"]
    assert "process" not in rec and list(rec) == list(record.canonical(rec))


def test_the_commit_holds_the_record_its_sidecar_and_env_but_nothing_transient(repo: Path) -> None:
    with ledger.start_run(name="files") as run:
        run.log_metrics({"loss": 1.0}, step=0)
        run.log_metrics({"loss": 0.5}, step=1)
    rec = run.record
    assert rec is not None and run.committed is not None and run.committed.sha
    ws = Workspace.find(repo)
    (ws.path(record.sidecar_dir(rec["id"])) / "events.jsonl").write_text("{}\n")  # as if left behind
    files = finalize.ledger_files(ws, rec)
    assert set(files) == {record.record_path(rec["id"]), rec["series"]["path"], rec["env"]["file"]}
    committed = git(repo, "show", "--name-only", "--format=%B", run.committed.sha)
    assert f"Ledger-Run: {rec['id']}" in committed and rec["series"]["path"] in committed


def test_commit_policy_off_and_a_detached_head_leave_the_record_waiting(repo: Path) -> None:
    (repo / "ledger.yaml").write_text("experiment: tests\nprimary_metric: auc\ncommit: off\n")
    with ledger.start_run(name="off") as run:
        run.log_metric("auc", 0.5)
    assert run.committed == finalize.Committed(None, "commit policy is off")
    assert len(records(repo)) == 1 and "experiments" not in git(repo, "ls-files")
    (repo / "ledger.yaml").write_text("experiment: tests\nprimary_metric: auc\n")
    git(repo, "checkout", "-q", "--detach")
    with pytest.warns(LedgerWarning, match="recorded but not committed"), ledger.start_run(name="detached") as run:
        run.log_metric("auc", 0.6)
    assert run.committed is not None and run.committed.sha is None and "detached" in (run.committed.pending or "")
    assert len(records(repo)) == 2  # never lost
