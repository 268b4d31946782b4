from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ledger.core import record, schema
from ledger.errors import RecordError, UnsupportedVersion
from support.repo import ROOT

MINIMAL = {
    "schema_version": 1,
    "id": "20261127-051203-xgb-deeper-7f3a9c",
    "name": "xgb-deeper",
    "experiment": "default",
    "status": "finished",
    "baseline": False,
    "started_at": "2026-11-27T05:12:03.000Z",
    "ended_at": "2026-11-27T05:13:03.000Z",
    "duration_s": 60.0,
    "params": {"lr": 0.1},
    "metrics": {"val/auc": 0.93},
}


def test_top_level_schema_is_the_packaged_one() -> None:
    shipped = json.loads((ROOT / "src/ledger/schemas/run.schema.json").read_text())
    top = json.loads((ROOT / "schemas/run.schema.json").read_text())
    assert shipped == top == schema.load_schema("run")


def test_minimal_record_is_valid() -> None:
    schema.validate(MINIMAL, source="r.yaml")


@pytest.mark.parametrize(
    ("mutate", "pointer"),
    [
        (lambda r: r.update(status="exploded"), "/status"),
        (lambda r: r.update(metrics={"auc": "high"}), "/metrics/auc"),
        (lambda r: r.update(id="../../etc/passwd"), "/id"),
        (lambda r: r.update(artifacts=[{"name": "m", "path": "../x", "hash": "h", "kind": "model",
                                        "store": "git"}]), "/artifacts/0/path"),
        (lambda r: r.update(code={"patch": "/etc/passwd"}), "/code/patch"),
        (lambda r: r.update(unknown_field=1), ""),
    ],
)  # fmt: skip
def test_errors_name_file_and_json_pointer(mutate, pointer: str) -> None:  # type: ignore[no-untyped-def]
    bad = copy.deepcopy(MINIMAL)
    mutate(bad)
    with pytest.raises(RecordError) as info:
        schema.validate(bad, source="experiments/2026-11/x.yaml")
    assert info.value.pointer == pointer
    assert str(info.value).startswith("experiments/2026-11/x.yaml at ")


def test_newer_schema_version_says_upgrade() -> None:
    newer = {**MINIMAL, "schema_version": 2}
    with pytest.raises(UnsupportedVersion, match="upgrade ledger"):
        schema.validate(newer, source="r.yaml")


def test_ids_paths_and_canonical_order() -> None:
    import datetime as dt

    moment = dt.datetime(2026, 11, 27, 5, 12, 3, tzinfo=dt.timezone.utc)
    run_id = record.new_id("XGB deeper!", moment)
    assert run_id.startswith("20261127-051203-xgb-deeper-") and record.is_run_id(run_id)
    assert record.record_path(run_id) == f"experiments/2026-11/{run_id}.yaml"
    assert record.run_id_from_path(record.record_path(run_id)) == run_id
    assert record.new_id("x", moment) != record.new_id("x", moment)
    shuffled = dict(reversed(list(MINIMAL.items())))
    assert list(record.canonical(shuffled)) == list(MINIMAL)
    assert "notes" not in record.canonical({**MINIMAL, "notes": None})


def test_packaged_schema_file_is_shipped(tmp_path: Path) -> None:
    from importlib import resources

    assert resources.files("ledger").joinpath("schemas/run.schema.json").is_file()
