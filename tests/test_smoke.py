from __future__ import annotations

from pathlib import Path

import ledger
from ledger import schema, yamlio

from conftest import git, records


def test_api_run_is_recorded_and_committed(repo: Path) -> None:
    with ledger.start_run(name="first", tags={"stage": "dev"}) as run:
        for i in range(3):
            run.log_metric("loss", 1.0 / (i + 1))
        run.log_metric("auc", 0.9)
    [path] = records(repo)
    rec = yamlio.load_file(path)
    schema.validate(rec, source=str(path))
    assert rec["status"] == "finished"
    assert rec["metrics"] == {"auc": 0.9, "loss": 1.0 / 3}
    assert rec["series"]["metrics"]["loss"]["count"] == 3
    assert "Ledger-Run: " + rec["id"] in git(repo, "log", "-1", "--format=%B")
    assert git(repo, "status", "--porcelain") == ""
