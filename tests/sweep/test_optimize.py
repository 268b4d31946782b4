"""`ledger sweep --optimize`: Optuna trials as real runs, pruning from `log_metric(step=)`,
a journal-file study that workers share and a later sweep continues."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger.core import yamlio
from ledger.errors import UsageError
from ledger.sweep.optimize import parse_space
from support.repo import git, ledger_cli, records

TRAIN = """
import ledger
p = ledger.params()
for step in range(5):  # a learning curve: good params are better at every step
    ledger.log_metric("auc", p["lr"] * (step + 1) / 5, step=step)
"""


def _setup(repo: Path) -> None:
    (repo / "train.py").write_text(TRAIN)
    git(repo, "commit", "-qam", "train")


def _records(repo: Path) -> list[dict[str, Any]]:
    return sorted((yamlio.load_file(p) for p in records(repo)), key=lambda r: r["trial"]["number"])


def _sweep(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return ledger_cli(repo, "sweep", "--optimize", "auc", "--study", "lr-study", *args, "--",
                      sys.executable, "train.py")  # fmt: skip


def test_pruned_trials_are_recorded_and_a_study_continues(repo: Path) -> None:
    _setup(repo)
    prune = ["--prune", "median", "--prune-startup", "2", "--prune-warmup", "2"]
    first = _sweep(repo, "--trials", "2", *prune, "-p", "lr=uniform(0.8,0.9)")
    assert first.returncode == 0, first.stderr
    assert "study lr-study: 2 complete" in first.stderr
    # The same study, continued with worse values: each is stopped at the first step the
    # pruner may look at (warm-up 2), below the median of the complete trials.
    second = _sweep(repo, "--trials", "4", *prune, "-p", "lr=uniform(0.01,0.02)")
    assert second.returncode == 0, second.stderr
    assert "study lr-study: 2 complete, 2 pruned" in second.stderr
    assert "Traceback" not in second.stderr  # ledger.TrialPruned ends a trial quietly
    assert issubclass(ledger.TrialPruned, SystemExit)
    recs = _records(repo)
    assert [r["trial"]["number"] for r in recs] == [0, 1, 2, 3]
    assert [r["status"] for r in recs] == ["finished", "finished", "pruned", "pruned"]
    for rec in recs:
        assert rec["trial"]["study"] == "lr-study" and rec["trial"]["metric"] == "auc"
        assert rec["trial"]["direction"] == "max" and rec["tags"]["sweep_point"] == str(rec["trial"]["number"])
    for rec in recs[2:]:
        assert rec["trial"]["pruned_step"] == 2
        assert rec["series"]["metrics"]["auc"]["count"] == 3  # steps 0..2, then it stopped
        assert "error" not in rec
    assert all(r["series"]["metrics"]["auc"]["count"] == 5 for r in recs[:2])
    # Nothing left to do: the study has its four trials.
    again = _sweep(repo, "--trials", "4", *prune, "-p", "lr=uniform(0.01,0.02)")
    assert again.returncode == 0 and len(records(repo)) == 4
    # `ledger top` ranks trials like any run.
    top = ledger_cli(repo, "top", "--metric", "auc", "--format", "json")
    ranked = json.loads(top.stdout)
    assert [r["status"] for r in ranked] == ["finished", "finished", "pruned", "pruned"]
    listed = ledger_cli(repo, "ls", "--where", "trial.study = 'lr-study' and trial.pruned_step = 2", "--format", "json")
    assert sorted(r["id"] for r in json.loads(listed.stdout)) == sorted(r["id"] for r in recs[2:])
    assert git(repo, "status", "--porcelain") == ""


def test_workers_and_two_sweep_processes_share_one_study(repo: Path, tmp_path: Path) -> None:
    _setup(repo)
    journal = tmp_path / "shared" / "study.log"
    space = ["-p", "lr=loguniform(1e-3,1)", "-p", "model.depth=int(2,4)", "-p", "+opt=choice(adam,sgd)"]
    args = ["sweep", "--optimize", "auc", "--trials", "5", "--storage", str(journal), "-j", "2", "--seed", "3",
            *space, "--", sys.executable, "train.py"]  # fmt: skip
    procs = [subprocess.Popen([sys.executable, "-m", "ledger", *args], cwd=repo, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    recs = _records(repo)
    assert [r["trial"]["number"] for r in recs] == [0, 1, 2, 3, 4]  # five trials, not ten
    assert len({r["trial"]["study"] for r in recs}) == 1
    for rec in recs:
        params = rec["params"]
        assert 1e-3 <= params["lr"] <= 1 and params["model"]["depth"] in (2, 3, 4)
        assert params["opt"] in ("adam", "sgd") and rec["status"] == "finished"
        assert rec["metrics"]["auc"] == pytest.approx(params["lr"])
    assert journal.is_file()


def test_a_trial_without_the_metric_fails_and_bad_specs_are_refused(repo: Path) -> None:
    _setup(repo)
    result = ledger_cli(repo, "sweep", "--optimize", "f1", "--trials", "1", "-p", "lr=choice(0.1,0.2)",
                        "--", sys.executable, "train.py")  # fmt: skip
    assert result.returncode == 1 and "1 fail" in result.stderr
    unknown = ledger_cli(repo, "sweep", "--optimize", "auc", "-p", "opt=choice(adam,sgd)", "--", "true")
    assert unknown.returncode == 2 and "no parameter 'opt' in params.yaml" in unknown.stderr
    assert "-p +opt=adam" in unknown.stderr and len(records(repo)) == 1  # refused before any trial ran
    bad = ledger_cli(repo, "sweep", "--optimize", "auc", "--sampler", "grid", "-p", "lr=uniform(0,1)", "--", "true")
    assert bad.returncode == 2 and "--sampler grid needs lists" in bad.stderr
    both = ledger_cli(repo, "sweep", "--optimize", "auc", "--random", "3", "-p", "lr=uniform(0,1)", "--", "true")
    assert both.returncode == 2 and "pick one" in both.stderr
    with pytest.raises(UsageError, match="int takes two integer bounds"):
        parse_space(["depth=int(2.5,4)"])
    space = parse_space(["lr=loguniform(1e-4,1e-1)", "depth=int(2,10)", "model=choice(rf,gbm)", "seed=7"])
    assert space.kinds == {"lr": ("loguniform", (1e-4, 1e-1)), "depth": ("int", (2, 10)),
                           "model": ("categorical", ("rf", "gbm"))}  # fmt: skip
    assert space.fixed == ("seed=7",) and space.grid is None
