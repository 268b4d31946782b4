"""The plugin through MlflowClient in this process: search_runs and get_metric_history
equal to MLflow's SQLite store on the same 200 runs; clear refusals."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

from support.mlflow_plugin import plugin_site, register_in_process  # noqa: E402
from support.repo import git  # noqa: E402

START = 1_790_000_000_000


def _fill(client: MlflowClient, n: int = 200) -> dict[str, str]:
    """The same n runs on any store (seeded): name -> run id."""
    rng = random.Random(18)
    experiment = client.create_experiment("search-parity")
    ids = {}
    for i in range(n):
        tags = {"group": rng.choice("abc")} if i % 7 else {}
        run = client.create_run(experiment, start_time=START + i * 1000, tags=tags, run_name=f"r{i:03d}")
        run_id = run.info.run_id
        auc = rng.choice([float("nan"), None, round(rng.random(), 3), 0.5])
        metrics = [] if auc is None else [Metric("auc", auc, START + i * 1000 + 5, 0)]
        if i % 3 == 0:
            metrics += [Metric("loss", 1 / (s + 1) + i, START + i * 1000 + 10 + s, s) for s in range(4)]
        params = [Param("alpha", rng.choice(["0.1", "0.5", "1.0"])), Param("model", rng.choice(["enet", "ridge"]))]
        client.log_batch(run_id, metrics=metrics, params=params, tags=[])
        status = "FINISHED" if i % 11 else rng.choice(["FAILED", "KILLED"])
        client.set_terminated(run_id, status, end_time=START + i * 1000 + 500)
        ids[f"r{i:03d}"] = run_id
    return ids


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[MlflowClient, dict[str, str]]]:
    register_in_process(plugin_site(tmp_path_factory.mktemp("plugin-site")))
    root = tmp_path_factory.mktemp("ledger") / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "ledger.yaml").write_text("experiment: default\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    found = {}
    db = tmp_path_factory.mktemp("sqlite") / "mlflow.db"
    for label, uri in (("ledger", f"ledger://{root}"), ("sqlite", f"sqlite:///{db}")):
        client = MlflowClient(tracking_uri=uri)
        found[label] = (client, _fill(client))
    return found


def _rows(client: MlflowClient, **kwargs: Any) -> list[tuple[Any, ...]]:
    experiment = client.get_experiment_by_name("search-parity").experiment_id
    runs = client.search_runs([experiment], **kwargs)
    return [
        (
            run.info.run_name,
            run.info.status,
            {k: "nan" if math.isnan(v) else v for k, v in run.data.metrics.items()},
            run.data.params,
            {k: v for k, v in run.data.tags.items() if k in ("group", "mlflow.runName")},
        )
        for run in runs
    ]


QUERIES = [
    {},
    {"order_by": ["metrics.auc DESC"]},
    {"order_by": ["metrics.auc ASC"]},
    {"order_by": ["params.alpha ASC", "metrics.auc DESC"]},
    {"order_by": ["tags.group DESC", "attributes.start_time ASC"]},
    {"order_by": ["attributes.run_name DESC"], "max_results": 17},
    {"filter_string": "metrics.auc > 0.5"},
    {"filter_string": "metrics.auc <= 0.5", "order_by": ["metrics.auc ASC"]},
    {"filter_string": "params.model = 'enet' and tags.group != 'a'"},
    {"filter_string": "attributes.status = 'FAILED'"},
    {"filter_string": "attributes.status != 'FINISHED'"},
    {"filter_string": "tags.mlflow.runName LIKE 'r1%'", "order_by": ["metrics.loss DESC"]},
    {"filter_string": "params.alpha = '0.1' and metrics.loss < 50"},
    {"filter_string": "attributes.run_id IN ('nothing')"},
    {"filter_string": "attributes.run_name ILIKE 'R00%'"},
]


@pytest.mark.parametrize("query", QUERIES, ids=[str(q) for q in QUERIES])
def test_search_runs_equal_to_sqlite(stores: dict[str, tuple[MlflowClient, dict[str, str]]], query: Any) -> None:
    ours, theirs = _rows(stores["ledger"][0], **query), _rows(stores["sqlite"][0], **query)
    assert ours == theirs
    assert ours or "nothing" in str(query)


def test_pages_equal_to_sqlite(stores: dict[str, tuple[MlflowClient, dict[str, str]]]) -> None:
    def pages(client: MlflowClient) -> list[list[str]]:
        experiment = client.get_experiment_by_name("search-parity").experiment_id
        token, out = None, []
        while True:
            page = client.search_runs([experiment], order_by=["metrics.auc DESC"], max_results=37, page_token=token)
            out.append([run.info.run_name for run in page])
            token = page.token
            if not token:
                return out

    ours = pages(stores["ledger"][0])
    assert ours == pages(stores["sqlite"][0]) and len(ours) == 6


def test_fluent_search_runs_frame_equal(stores: dict[str, tuple[MlflowClient, dict[str, str]]]) -> None:
    frames = {}
    for label, (client, _) in stores.items():
        mlflow.set_tracking_uri(client.tracking_uri)
        frame = mlflow.search_runs(experiment_names=["search-parity"], order_by=["metrics.auc DESC"])
        frames[label] = frame[["tags.mlflow.runName", "metrics.auc", "metrics.loss", "params.alpha", "status"]]
    mlflow.set_tracking_uri(None)
    assert frames["ledger"].equals(frames["sqlite"])


def test_metric_history_equal_point_for_point(stores: dict[str, tuple[MlflowClient, dict[str, str]]]) -> None:
    (ours, our_ids), (theirs, their_ids) = stores["ledger"], stores["sqlite"]
    checked = 0
    for name in ("r000", "r003", "r099", "r198"):
        for key in ("loss", "auc"):
            mine = [(m.key, m.value, m.step, m.timestamp) for m in ours.get_metric_history(our_ids[name], key)]
            real = [(m.key, m.value, m.step, m.timestamp) for m in theirs.get_metric_history(their_ids[name], key)]
            assert [p[:3] for p in mine] == [p[:3] for p in real] or (
                mine and real and all(math.isnan(a[1]) and math.isnan(b[1]) for a, b in zip(mine, real))
            )
            if key == "loss":
                assert mine == real and len(mine) == 4
                checked += 1
    assert checked == 4


def test_runs_are_read_back_in_a_new_store(stores: dict[str, tuple[MlflowClient, dict[str, str]]]) -> None:
    """A fresh store (another process's view) reads the committed records."""
    from ledger.mlflow_store.store import LedgerStore

    client, ids = stores["ledger"]
    store = LedgerStore(client.tracking_uri)
    fresh = store.find_item(store.ws, ids["r003"]).record
    assert fresh["status"] == "finished" and set(fresh["params"]) == {"alpha", "model"}
    assert [m.step for m in store.get_metric_history(ids["r003"], "loss")] == [0, 1, 2, 3]


@pytest.fixture
def open_run(stores: dict[str, tuple[MlflowClient, dict[str, str]]]) -> tuple[MlflowClient, str]:
    client = stores["ledger"][0]
    run = client.create_run(client.get_experiment_by_name("search-parity").experiment_id, run_name="checks")
    yield client, run.info.run_id
    client.set_terminated(run.info.run_id)


def test_names_with_spaces_are_refused_clearly(open_run: tuple[MlflowClient, str]) -> None:
    client, run_id = open_run
    with pytest.raises(MlflowException, match=r"'val acc' contains whitespace.*'val_acc'"):
        client.log_metric(run_id, "val acc", 0.9)
    with pytest.raises(MlflowException, match="tag name 'my tag' contains whitespace"):
        client.set_tag(run_id, "my tag", "x")
    client.log_metric(run_id, "val_acc", 0.9)  # the suggested name works


def test_changing_a_param_is_refused_as_in_mlflow(open_run: tuple[MlflowClient, str]) -> None:
    client, run_id = open_run
    client.log_param(run_id, "lr", "0.1")
    client.log_param(run_id, "lr", "0.1")
    with pytest.raises(MlflowException, match="Changing param values is not allowed"):
        client.log_param(run_id, "lr", "0.2")


def test_a_tag_too_long_for_a_record_is_refused(open_run: tuple[MlflowClient, str]) -> None:
    client, run_id = open_run
    with pytest.raises(MlflowException, match="tag big has 2001 characters.*mlflow.log_text"):
        client.set_tag(run_id, "big", "x" * 2001)


def test_unsupported_calls_name_themselves(stores: dict[str, tuple[MlflowClient, dict[str, str]]]) -> None:
    client, ids = stores["ledger"]
    with pytest.raises(MlflowException, match="delete_run is not supported by ledger's MLflow store: a ledger keeps"):
        client.delete_run(ids["r001"])
    with pytest.raises(MlflowException, match="rename_experiment .*mlflow.set_experiment"):
        client.rename_experiment("0", "other")
    with pytest.raises(MlflowException, match="create_registered_model .*ledger select"):
        client.create_registered_model("churn")
    with pytest.raises(MlflowException, match="(search_traces|start_trace).*traces are not kept"):
        client.search_traces(experiment_ids=["0"])
    with pytest.raises(MlflowException, match="has ended and its ledger record is committed"):
        client.log_metric(ids["r001"], "late", 1.0)
