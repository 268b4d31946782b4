"""Names no run has are refused with the close match (`--metric`, `--columns`, `--where`),
in the CLI and the library alike; `top` leaves out runs without the metric; MLflow's
status spelling; a number never orders against a text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ledger
from ledger.cli import main
from ledger.read.filter import FilterError, compile_filter
from ledger.read.known import UnknownField, close_matches
from support.query_helpers import commit, make, rid


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def runs(repo: Path) -> Path:
    commit(
        repo,
        make(1, slug="xgb", auc=0.91, params={"model": {"type": "xgb"}, "lr": 0.1}, tags={"stage": "final"}),
        make(2, slug="rf", auc=0.85, params={"model": {"type": "rf"}, "lr": 0.2}),
        make(3, slug="bad", status="failed", params={"model": {"type": "rf"}, "depth": "None"}, metrics={"loss": 0.4}),
        make(4, slug="svm", params={"model": {"type": "svm"}, "depth": 6}, metrics={"loss": 0.3}),
    )  # fmt: skip
    return repo


def test_an_unknown_metric_is_a_usage_error_naming_the_close_match(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "top", "--metric", "acu")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no metric 'acu'" in err and "did you mean 'auc'?" in err
    with pytest.raises(UnknownField, match="did you mean 'auc'") as caught:
        ledger.top("acu")
    assert caught.value.exit_code == 2 and caught.value.matches == ["auc"]
    with pytest.raises(UnknownField, match="'AUC'.*did you mean 'auc'"):
        ledger.top("AUC", path=runs)


def test_unknown_columns_are_refused_and_known_ones_shown(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = (("params.lrr", "no param 'lrr'"), ("metrics.los", "did you mean 'loss'"),
             ("tags.stag", "did you mean 'stage'"), ("durration_s", "did you mean 'duration_s'"))  # fmt: skip
    for column, expected in cases:
        code, out, err = cli(capsys, "top", "-m", "auc", "--columns", column)
        assert (code, out) == (2, ""), column
        assert expected in err and err.count("\n") == 1, err
    # `depth` exists only on runs that are not on the leaderboard: still a known column
    code, out, _ = cli(capsys, "top", "-m", "auc", "--columns", "params.depth", "params.model", "--format", "json")
    assert code == 0 and len(json.loads(out)) == 2
    with pytest.raises(UnknownField, match="no param 'lrr'"):
        ledger.top("auc", columns=["params.lrr"])


def test_unknown_names_in_where_are_refused(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "ls", "--where", "metrics.acu > 0.5")
    assert (code, out) == (2, "") and "did you mean 'auc'?" in err
    code, _, err = cli(capsys, "top", "-m", "auc", "--where", "params.model.typ = 'xgb'")
    assert code == 2 and "no param 'model.typ'" in err and "'model.type'" in err
    with pytest.raises(UnknownField, match="no tag 'stag'"):
        ledger.runs(where="tags.stag = 'final'")
    # a name some run has is fine even where the filter keeps none of those runs
    assert ledger.runs(where="metrics.loss < 1 and status = 'finished'").ids == [rid(4, "svm")]
    assert ledger.runs(where="params.model = 'x'").ids == []  # a parameter group is known


def test_an_empty_ledger_refuses_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "top", "--metric", "anything")
    assert code == 0 and "no runs" in out
    assert list(ledger.runs(where="metrics.x > 1")) == []


def test_top_does_not_fill_n_with_runs_that_lack_the_metric(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "top", "-m", "auc", "-n", "4", "--format", "json")
    assert code == 0 and [d["id"] for d in json.loads(out)] == [rid(1, "xgb"), rid(2, "rf")]
    assert ledger.top("loss", n=10).ids == [rid(4, "svm"), rid(3, "bad")]
    commit(runs, make(5, slug="nan", metrics={"auc": float("nan")}))
    assert ledger.top("auc").ids == [rid(1, "xgb"), rid(2, "rf"), rid(5, "nan")]  # NaN is a value: last


def test_mlflow_status_spelling_and_case_insensitive_statuses(runs: Path) -> None:
    finished = [rid(4, "svm"), rid(2, "rf"), rid(1, "xgb")]
    assert ledger.runs(where="attributes.status = 'FINISHED'").ids == finished
    assert ledger.runs(where="attributes.status != 'FINISHED'").ids == [rid(3, "bad")]
    assert ledger.runs(where="status IN ('FAILED', 'KILLED')").ids == [rid(3, "bad")]
    assert ledger.runs(where="status LIKE 'Fin%'").ids == finished
    assert ledger.runs(where="attributes.status = 'finished'").ids == finished


def test_a_number_never_orders_against_a_text(runs: Path) -> None:
    # run 3 has depth 'None' (a text: `-p depth=None`), run 4 depth 6
    assert ledger.runs(where="params.depth >= 6").ids == [rid(4, "svm")]
    assert ledger.runs(where="params.depth < 6").ids == []
    assert ledger.runs(where="params.depth != 6").ids == [rid(3, "bad")]
    assert ledger.runs(where="params.depth = 'None'").ids == [rid(3, "bad")]
    keep = compile_filter("params.x > 2")
    assert not keep({"params": {"x": "None"}}) and not keep({"params": {"x": "10"}} | {"params": {"x": "abc"}})
    assert keep({"params": {"x": "10"}})  # a numeric text is a number
    assert compile_filter("params.x > 'b'")({"params": {"x": "c"}})  # two texts: text order
    with pytest.raises(FilterError, match="a metric compares with a number"):
        compile_filter("metrics.auc > 'high'")


def test_close_matches_prefers_case_and_suffix() -> None:
    assert close_matches("AUC", ["auc", "loss"]) == ["auc"]
    assert close_matches("auc", ["val/auc", "train/loss"]) == ["val/auc"]
    assert close_matches("zzz", ["auc"]) == []
