"""Ranking rules, comparisons, and the reading commands (ls, show, top, compare)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.cli.output import Progress
from ledger.read import query
from support.query_helpers import commit, make, raw_commit, rid, write
from support.repo import ledger_cli


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------- ranking


def test_direction_nan_and_missing_last_and_deterministic_ties() -> None:
    recs = [
        make(1, auc=0.8), make(2, auc=float("nan")), make(3, metrics={}), make(4, auc=0.9),
        make(5, auc=0.8), make(6, auc=0.8, started_at="2026-11-27T00:00:05.000Z"), make(7, auc="0.99"),
    ]  # fmt: skip
    best = [r["id"] for r in query.leaderboard(recs, "auc", "max")]
    # ties at 0.8: newest start first, then id; NaN, missing and non-numbers last, by id
    assert best == [rid(4), rid(5), rid(6), rid(1), rid(7), rid(3), rid(2)]
    worst_first = [r["id"] for r in query.leaderboard(recs, "auc", "min")]
    assert worst_first[:4] == [rid(5), rid(6), rid(1), rid(4)] and worst_first[4:] == best[4:]
    assert [r["id"] for r in query.leaderboard(list(reversed(recs)), "auc", "max")] == best
    assert query.leaderboard(recs, "auc", "max", 2) == query.leaderboard(recs, "auc", "max")[:2]


def test_unfinished_runs_rank_after_finished_ones() -> None:
    recs = [
        make(1, auc=0.99, status="failed"), make(2, auc=0.98, status="killed"), make(3, auc=0.97, status="crashed"),
        make(4, auc=0.70), make(5, auc=0.80, status="running"), make(6, auc=0.60), make(7, metrics={}),
        make(8, auc=0.95, status="FINISHED"),
    ]  # fmt: skip
    ranked = [r["id"] for r in query.leaderboard(recs, "auc", "max")]
    # finished first (by value), then running, then failed/killed/crashed (by value), missing last
    assert ranked == [rid(8), rid(4), rid(6), rid(5), rid(1), rid(2), rid(3), rid(7)]
    assert [r["id"] for r in query.leaderboard(recs, "auc", "min")][:3] == [rid(6), rid(4), rid(8)]


def test_compare_puts_differences_first_in_section_order() -> None:
    a = make(1, auc=0.8, params={"lr": 0.1, "depth": 3}, data=[{"path": "d.csv", "hash": "aa"}],
             env={"id": "0123456789abcdef", "python": "3.11"}, code={"commit": "a" * 40})  # fmt: skip
    b = make(2, auc=0.9, params={"lr": 0.2, "depth": 3}, data=[{"path": "d.csv", "hash": "bb"}],
             env={"id": "0123456789abcdef", "python": "3.12"}, code={"commit": "b" * 40})  # fmt: skip
    rows = query.compare([a, b])
    differing = [name for name, _, differs in rows if differs]
    assert differing[:5] == ["params.lr", "metrics.auc", "data.d.csv", "env.python", "code.commit"]
    first_same = next(i for i, row in enumerate(rows) if not row[2])
    assert all(not row[2] for row in rows[first_same:])
    assert ("params.depth", [3, 3], False) in rows


# ---------------------------------------------------------------------------- commands


@pytest.fixture
def runs(repo: Path) -> Path:
    commit(
        repo,
        make(1, slug="xgb", auc=0.91, params={"model": "xgb", "lr": 0.1}, tags={"stage": "final"}),
        make(2, slug="rf", auc=0.85, params={"model": "rf", "lr": 0.2}),
        make(3, slug="xgb", auc=0.95, status="failed", params={"model": "xgb", "lr": 0.3}),
        make(4, slug="lin", params={"model": "lin", "lr": 0.1}, metrics={"auc": float("nan"), "loss": 0.3}),
    )  # fmt: skip
    return repo


def test_top_json_is_the_documented_contract(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "top", "--metric", "auc", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [d["rank"] for d in data] == [1, 2, 3, 4]
    # the failed run's better number ranks after every finished run's
    assert [d["id"] for d in data] == [rid(1, "xgb"), rid(2, "rf"), rid(3, "xgb"), rid(4, "lin")]
    assert set(data[0]) == {"rank", "id", "name", "status", "metrics", "params"}
    assert data[2]["status"] == "failed" and data[2]["params"] == {"model": "xgb", "lr": 0.3}
    assert data[3]["metrics"]["auc"] is None  # NaN is null in JSON


def test_top_where_n_min_columns_and_formats(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = "status = 'finished' and params.model = 'xgb'"
    code, out, _ = cli(capsys, "top", "-m", "auc", "-n", "1", "--where", where, "--format", "json")
    assert [d["id"] for d in json.loads(out)] == [rid(1, "xgb")]
    _, out, _ = cli(capsys, "top", "-m", "auc", "--min", "--format", "json")
    assert [d["id"] for d in json.loads(out)][:1] == [rid(2, "rf")]
    _, out, _ = cli(capsys, "top", "-m", "loss", "--format", "json")  # loss: lower is better, by name
    assert [d["id"] for d in json.loads(out)][0] == rid(4, "lin")
    _, out, _ = cli(capsys, "top", "-m", "auc", "--columns", "params.lr", "tags.stage", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["rank", "id", "name", "status", "auc", "params.lr", "tags.stage"]
    assert rows[1][5:] == ["0.1", "final"]
    _, out, _ = cli(capsys, "top", "-m", "auc", "--format", "markdown")
    assert out.splitlines()[1].startswith("|") and "xgb-3" in out
    _, out, _ = cli(capsys, "top", "-m", "auc")
    assert out.splitlines()[0].split()[:5] == ["rank", "id", "name", "status", "auc"]
    assert "nan" in out.splitlines()[-1]


def test_top_direction_from_ledger_yaml(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (runs / "ledger.yaml").write_text("experiment: tests\nprimary_metric: auc\nmetrics: {auc: min}\n", encoding="utf-8")
    _, out, _ = cli(capsys, "top", "--format", "json")
    assert json.loads(out)[0]["id"] == rid(2, "rf")
    _, out, _ = cli(capsys, "top", "--max", "--format", "json")
    assert json.loads(out)[0]["id"] == rid(1, "xgb")  # the failed run's 0.95 ranks after it


def test_bad_where_and_missing_metric_are_one_line_usage_errors(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "top", "-m", "auc", "--where", "metrics.auc >")
    assert code == 2 and out == "" and err.count("\n") == 1 and "column 14" in err
    code, _, err = cli(capsys, "ls", "--where", "nonsense")
    assert code == 2 and "unknown field" in err
    code, _, err = cli(capsys, "ls", "--rev=--output=/tmp/x")
    assert code == 2 and "bad --rev" in err


def test_ls_where_sources_and_formats(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(runs, make(9, slug="wip", auc=0.5))
    code, out, _ = cli(capsys, "ls", "--format", "json")
    listed = json.loads(out)
    assert [r["id"] for r in listed] == [rid(9, "wip"), rid(4, "lin"), rid(3, "xgb"), rid(2, "rf"), rid(1, "xgb")]
    assert listed[0]["origin"] == "worktree"
    _, out, _ = cli(capsys, "ls", "--where", "metrics.auc > 0.9 and status = 'finished'", "--format", "csv")
    assert [row[0] for row in csv.reader(io.StringIO(out))][1:] == [rid(1, "xgb")]
    _, out, _ = cli(capsys, "ls", "--where", "params.lr >= 0.2 or tags.stage = 'final'", "--format", "json")
    assert sorted(r["id"] for r in json.loads(out)) == [rid(1, "xgb"), rid(2, "rf"), rid(3, "xgb")]
    _, out, _ = cli(capsys, "ls", "--rev", "HEAD", "-n", "2", "--format", "markdown")
    assert rid(9, "wip") not in out and rid(4, "lin") in out and rid(3, "xgb") in out and rid(1, "xgb") not in out
    _, out, _ = cli(capsys, "ls", "--where", "name = 'nobody'")
    assert "no runs match" in out


def test_show_by_id_prefix_and_name(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "show", rid(2, "rf"))
    assert code == 0 and f"id: {rid(2, 'rf')}" in out and out.startswith("# ")
    _, out, _ = cli(capsys, "show", rid(4, "lin")[:-3], "--format", "json")
    assert json.loads(out)["id"] == rid(4, "lin")
    _, out, _ = cli(capsys, "show", "rf-2", "--format", "json")
    assert json.loads(out)["params"] == {"model": "rf", "lr": 0.2}
    code, _, err = cli(capsys, "show", "20261127")
    assert code == 1 and "matches 4 runs" in err
    code, _, err = cli(capsys, "show", "nothing-like-it")
    assert code == 1 and "no run matches" in err


def test_compare_command(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "compare", rid(1, "xgb"), "rf-2", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["runs"] == [rid(1, "xgb"), rid(2, "rf")]
    assert [f["field"] for f in data["fields"]][:3] == ["params.model", "params.lr", "metrics.auc"]
    assert data["fields"][0] == {"field": "params.model", "values": ["xgb", "rf"], "differs": True}
    _, out, _ = cli(capsys, "compare", rid(1, "xgb"), rid(2, "rf"), "--diff-only")
    assert "params.model" in out and "experiment" not in out
    code, _, err = cli(capsys, "compare", rid(1, "xgb"))
    assert code == 2 and "two or more" in err


def test_terminal_output_never_passes_control_characters(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, make(1, name="evil\x1b]0;pwned\x07\x1b[2J", auc=0.9, tags={"x": "\x1b[31mred"}))
    for args in (["ls"], ["top", "-m", "auc", "--columns", "tags.x"], ["show", rid(1)], ["compare", rid(1), rid(1)],
                 ["top", "-m", "auc", "--format", "csv"], ["top", "-m", "auc", "--format", "markdown"]):  # fmt: skip
        _, out, err = cli(capsys, *args)
        assert "\x1b" not in out and "\x07" not in out, args
    _, out, _ = cli(capsys, "top", "-m", "auc", "--format", "json")
    assert json.loads(out)[0]["name"] == "evil\x1b]0;pwned\x07\x1b[2J"  # JSON escapes, data intact


def test_hostile_record_warns_once_and_the_query_answers(repo: Path) -> None:
    raw_commit(repo, {"experiments/2026-11/20261127-000001-bad-abc001.yaml": b"a: &x 1\nb: *x\n"})
    commit(repo, make(5, auc=0.7))
    proc = ledger_cli(repo, "top", "-m", "auc", "--format", "json")
    assert proc.returncode == 0 and [d["id"] for d in json.loads(proc.stdout)] == [rid(5)]
    [line] = proc.stderr.splitlines()
    assert "20261127-000001-bad-abc001.yaml" in line and "aliases" in line
    assert "\r" not in proc.stderr  # no progress when piped


def test_progress_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = Progress(delay_s=0)
    quiet(5, 10)
    quiet.finish()
    assert capsys.readouterr().err == ""
    loud = Progress(delay_s=0)
    loud.enabled = True
    loud(5, 10)
    loud.finish()
    err = capsys.readouterr().err
    assert "5/10" in err and err.startswith("\r")


def test_top_imports_no_heavy_modules(runs: Path) -> None:
    code = (
        "import sys; from ledger.cli import main; main(['top', '--metric', 'auc', '--format', 'json']);"
        "heavy = ('matplotlib', 'dvc', 'mlflow', 'torch', 'sklearn', 'xgboost', 'lightgbm', 'pandas',"
        " 'lightning', 'transformers', 'jsonschema', 'git', 'optuna', 'submitit', 'psutil', 'pynvml');"
        "print([m for m in sys.modules if m.split('.')[0] in heavy])"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=runs, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
