"""`ledger diff --fail-on-regression` is a gate: with nothing to judge by it fails closed,
and with exactly one metric shared by the runs it judges by that one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.cli import main
from support.query_helpers import commit, make
from support.repo import git


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_primary(repo: Path) -> Path:
    (repo / "ledger.yaml").write_text("experiment: tests\n", encoding="utf-8")
    git(repo, "commit", "-qam", "no primary metric")
    commit(repo, make(1, slug="base", metrics={"auc": 0.9, "loss": 0.2}))
    git(repo, "checkout", "-qb", "feature")
    return repo


def test_no_metric_to_judge_by_fails_closed(no_primary: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(no_primary, make(2, slug="worse", metrics={"auc": 0.5, "loss": 0.9}))
    code, _, err = cli(capsys, "diff", "main", "--fail-on-regression")
    assert code == 2
    assert err.count("\n") == 1 and "cannot judge a regression: no primary metric" in err
    assert "share 2 metrics (auc, loss)" in err and "--metric NAME" in err
    code, _, _ = cli(capsys, "diff", "main", "--fail-on-regression", "--metric", "auc")
    assert code == 1  # told which metric: the gate judges, and the run is worse
    code, _, _ = cli(capsys, "diff", "main")  # not a gate: a review still prints
    assert code == 0


def test_the_one_shared_metric_is_inferred(no_primary: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(no_primary, make(2, slug="worse", metrics={"auc": 0.5}))
    code, out, err = cli(capsys, "diff", "main", "--fail-on-regression", "--format", "json")
    assert code == 1 and "regression" in err
    review = json.loads(out)
    assert review["metric"] == "auc" and review["metric_inferred"] is True and review["regression"] is True
    assert "the one metric the runs share" in review["summary"]


def test_an_unknown_metric_is_refused(no_primary: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(no_primary, make(2, slug="new", metrics={"auc": 0.95}))
    code, out, err = cli(capsys, "diff", "main", "--metric", "acu")
    assert (code, out) == (2, "") and "did you mean 'auc'?" in err
