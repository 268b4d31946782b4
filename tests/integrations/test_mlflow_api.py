"""ledger.mlflow's MLflow semantics, in process: immutable params, one active run unless
nested, implicit runs, FAILED on exception, search_runs' columns and order, clear errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger.mlflow as mlflow
from ledger.core import yamlio
from ledger.mlflow import fluent
from ledger.mlflow.exceptions import MlflowException, Unsupported
from support.repo import ledger_cli, records


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    """ledger.mlflow keeps MLflow's process-wide state (experiment, active runs)."""
    yield
    fluent._stack.clear()
    fluent._experiment.clear()
    fluent._used.clear()


def load_all(root: Path) -> dict[str, dict]:
    return {r["name"]: r for r in (yamlio.load_file(p) for p in records(root))}


def test_params_are_immutable_like_mlflow(repo: Path) -> None:
    with mlflow.start_run(run_name="immutable") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_param("alpha", 0.5)  # the same value again is fine
        with pytest.raises(MlflowException, match="Changing param values is not allowed"):
            mlflow.log_param("alpha", 0.6)
        assert mlflow.active_run().info.run_id == run.info.run_id
    rec = load_all(repo)["immutable"]
    assert rec["params"]["alpha"] == 0.5
    assert rec["status"] == "finished"


def test_second_run_needs_nested(repo: Path) -> None:
    with mlflow.start_run(run_name="outer") as outer:
        with pytest.raises(MlflowException, match="nested=True"):
            mlflow.start_run()
        with mlflow.start_run(run_name="inner", nested=True):
            mlflow.log_metric("loss", 1.0)
            mlflow.log_metric("loss", 0.5)  # no step: step 0 again, as in MLflow
    assert mlflow.active_run() is None
    found = load_all(repo)
    assert found["inner"]["tags"]["mlflow.parentRunId"] == outer.info.run_id
    assert found["inner"]["metrics"]["loss"] == 0.5
    assert found["inner"]["series"]["metrics"]["loss"]["last_step"] == 0


def test_exception_ends_the_run_failed_and_propagates(repo: Path) -> None:
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run(run_name="broken"):
            mlflow.log_metric("rmse", 0.7, step=3)
            1 / 0  # noqa: B018
    rec = load_all(repo)["broken"]
    assert rec["status"] == "failed"
    assert rec["error"]["type"] == "ZeroDivisionError"
    assert rec["metrics"] == {"rmse": 0.7}


def test_logging_without_a_run_starts_one_and_end_run_ends_it(repo: Path) -> None:
    mlflow.set_experiment("implicit")
    mlflow.log_metrics({"a": 1.0, "b": 2.0}, step=1)
    mlflow.set_tags({"mlflow.runName": "renamed", "k": "v"})
    mlflow.end_run("KILLED")
    [rec] = load_all(repo).values()
    assert rec["name"] == "renamed"
    assert rec["experiment"] == "implicit"
    assert rec["status"] == "killed"
    assert rec["tags"]["k"] == "v"


def test_unsupported_calls_raise_naming_the_call(repo: Path) -> None:
    with pytest.raises(Unsupported, match="mlflow.log_image is not supported"):
        mlflow.log_image(None, "x.png")
    assert not hasattr(mlflow, "register_model")
    with pytest.raises(Unsupported, match=r"start_run\(run_id=...\)"):
        mlflow.start_run(run_id="abc")
    with pytest.raises(Unsupported, match="sklearn.log_model"):
        with mlflow.start_run(run_name="registry"):
            mlflow.sklearn.log_model(object(), "model", registered_model_name="m")


def test_artifacts_text_dict_and_files(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("A", encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("B", encoding="utf-8")
    with mlflow.start_run(run_name="files"):
        mlflow.log_text("hello", "notes/readme.txt")
        mlflow.log_dict({"k": [1, 2]}, "cfg.yaml")
        mlflow.log_artifacts(str(folder), artifact_path="out")
        mlflow.log_artifact(str(folder / "a.txt"))
    rec = load_all(repo)["files"]
    names = {a["name"]: a for a in rec["artifacts"]}
    assert set(names) == {"notes__readme.txt", "cfg.yaml", "out__a.txt", "out__sub__b.txt", "a.txt"}
    assert (repo / names["notes__readme.txt"]["path"]).read_text() == "hello"
    assert yamlio.load_file(repo / names["cfg.yaml"]["path"]) == {"k": [1, 2]}


def _three_runs() -> None:
    mlflow.set_experiment("search")
    for name, rmse in (("b", 0.3), ("a", 0.1), ("c", None)):
        with mlflow.start_run(run_name=name):
            mlflow.log_params({"alpha": rmse or 0, "layers": [1, 2]})
            if rmse is not None:
                mlflow.log_metric("rmse", rmse)


def test_search_runs_has_mlflow_columns_and_order(repo: Path) -> None:
    _three_runs()
    frame = mlflow.search_runs(order_by=["metrics.rmse ASC"])
    assert list(frame.columns[:6]) == ["run_id", "experiment_id", "status", "artifact_uri",
                                       "start_time", "end_time"]  # fmt: skip
    assert "metrics.rmse" in frame.columns
    assert "params.model.depth" in frame.columns  # params.yaml's nested params, flattened
    assert set(frame["params.layers"]) == {"[1, 2]"}  # non-scalars stored as MLflow does
    assert "tags.mlflow.runName" in frame.columns
    assert list(frame["tags.mlflow.runName"]) == ["a", "b", "c"]  # missing metric last
    assert list(frame["status"]) == ["FINISHED"] * 3
    assert str(frame["start_time"].dtype).startswith("datetime64")
    run = mlflow.get_run(frame["run_id"][0])
    assert run.data.params["alpha"] == "0.1" and run.data.metrics == {"rmse": 0.1}
    assert mlflow.search_runs(experiment_names=["nothing-here"]).empty
    picked = mlflow.search_runs(filter_string="metrics.rmse > 0.2 or tags.mlflow.runName = 'c'")
    assert sorted(picked["params.alpha"]) == ["0", "0.3"]


def test_search_runs_without_pandas_is_a_list_of_dicts(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _three_runs()
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now fails
    rows = mlflow.search_runs(order_by=["metrics.rmse DESC"])
    assert isinstance(rows, list)
    assert [r["tags.mlflow.runName"] for r in rows] == ["b", "a", "c"]
    assert rows[0]["params.alpha"] == "0.3"
    assert isinstance(rows[0]["start_time"], int)


TWO_RUNS = """\
import ledger.mlflow as mlflow
for name in ("first", "second"):
    with mlflow.start_run(run_name=name):
        mlflow.log_metric("score", len(name))
"""


def test_under_ledger_run_later_top_level_runs_get_their_own_records(repo: Path) -> None:
    (repo / "two.py").write_text(TWO_RUNS, encoding="utf-8")
    proc = ledger_cli(repo, "run", "--", sys.executable, "two.py")
    assert proc.returncode == 0, proc.stderr
    found = load_all(repo)
    assert set(found) == {"first", "second"}
    assert found["first"]["command"]["argv"][1:] == ["two.py"]  # the `ledger run` record
    assert found["first"]["metrics"] == {"score": 5.0}
    assert found["second"]["metrics"] == {"score": 6.0}


def test_the_shim_reads_through_the_library_face(repo: Path) -> None:
    """search_runs and get_run see what `ledger.runs()` sees: a run whose process died shows
    FAILED (crashed on read), and nothing is written to show it so."""
    import socket

    import ledger
    from ledger.core import record
    from support.query_helpers import make, write

    pid = 2**22 + 1  # above the largest pid_max Linux allows: never a live process
    rec = make(7, status="running", experiment="tests")
    rec["process"] = {"pid": pid, "host": socket.gethostname(), "heartbeat_at": rec["started_at"]}
    [relpath] = write(repo, rec)
    before = (repo / relpath).read_bytes()
    [found] = mlflow.search_runs(output_format="list")
    assert (found.info.run_id, found.info.status) == (rec["id"], "FAILED")
    assert mlflow.get_run(rec["id"][-6:]).info.status == "FAILED"
    assert [r["status"] for r in ledger.runs()] == ["crashed"]
    assert (repo / relpath).read_bytes() == before and record.record_path(rec["id"]) == relpath
